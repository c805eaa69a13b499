// Binding, listening and accepting, for TCP and Unix-domain listeners alike.
#include "cogent/listener.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "net/io_retry.hpp"
#include "net/native_io.hpp"

namespace cogent {

int listener::bind_and_listen(const endpoint& address, const listen_options& options) {
    int fd = open_fd(address.family(), SOCK_STREAM);
    auto fail = [&](const char* step) {
        int error = errno;
        ::close(fd);
        throw std::system_error(error, std::generic_category(),
                                std::string("cogent: cannot listen on ") + address.to_string() + ": " + step);
    };
    int on = 1;
    if (address.is_ip() && options.reuse_address && ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0) {
        fail("SO_REUSEADDR");
    }
    if (options.reuse_port && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) fail("SO_REUSEPORT");
    if (address.family() == AF_INET6) {
        int v6_only = options.v6_only;
        if (::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6_only, sizeof v6_only) != 0) fail("IPV6_V6ONLY");
    }
    if (::bind(fd, address.data(), address.size()) != 0) fail("bind");
    if (::listen(fd, options.backlog) != 0) fail("listen");
    return fd;
}

namespace {

// A connection the listener's multishot accept took (which writes no address): the peer's
// address, if asked for, from getpeername. A peer that has already reset the connection has no
// address any more (ENOTCONN): the connection is still returned, with an empty peer (AF_UNSPEC),
// as accept(2) returns it on every other backend, so that all backends accept the same
// connections and the first read reports the reset.
void with_peer(int fd, endpoint* peer) {
    if (peer == nullptr) return;
    socklen_t size = endpoint::capacity();
    if (::getpeername(fd, peer->data(), &size) != 0) {
        *peer = endpoint();
        return;
    }
    peer->resize(size);
}

}  // namespace

int listener::accept_fd(endpoint* peer, duration timeout, std::error_code& ec) {
    const clock::time_point deadline = deadline_after(timeout);
    detail::hub_impl& hub = detail::hub_impl::current();
    endpoint ignored;
    for (;;) {
        socklen_t size = endpoint::capacity();
        ssize_t fd;
        if (hub.native_io() && hub.io().multishot_accept()) {
            // A connection that arrived while nobody was accepting is taken without waiting.
            int queued = fd_ >= 0 ? hub.io().take_accepted(fd_) : -1;
            fd = queued >= 0 ? queued
                             : detail::native_io(fd_, {detail::native_call::accept_multishot}, deadline, ec, "accept");
            if (fd >= 0) {
                with_peer(static_cast<int>(fd), peer);
                ec.clear();
                return static_cast<int>(fd);
            }
            // A kernel without multishot accept answered EINVAL and the backend now accepts one
            // at a time: try again that way.
            if (ec == std::errc::invalid_argument && !hub.io().multishot_accept()) continue;
            if (ec != std::errc::connection_aborted) return -1;
            continue;
        }
        if (hub.native_io()) {
            // The kernel writes the address by the end of the call, which this frame outlives.
            endpoint& into = peer != nullptr ? *peer : ignored;
            fd = detail::native_io(fd_, {detail::native_call::accept, into.data(), 0, &size}, deadline, ec, "accept");
            if (fd >= 0 && peer != nullptr) peer->resize(size);
            if (fd >= 0) return static_cast<int>(fd);
            if (ec != std::errc::connection_aborted) return -1;
            continue;
        }
        fd = detail::retry_io(fd_, detail::io_readable, deadline, ec, "accept", [&](int listening) {
            return static_cast<ssize_t>(::accept4(listening, peer != nullptr ? peer->data() : nullptr,
                                                  peer != nullptr ? &size : nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        });
        if (fd >= 0) {
            if (peer != nullptr) peer->resize(size);
            return static_cast<int>(fd);
        }
        if (ec != std::errc::connection_aborted) return -1;
    }
}

}  // namespace cogent
