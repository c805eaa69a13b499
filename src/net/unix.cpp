// Unix-domain streams and listeners.
#include "cogent/unix.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "net/connect_fd.hpp"
#include "net/or_throw.hpp"

namespace cogent {
namespace {

// Whether `address` is a socket file nobody listens on any more (connect is refused).
bool is_stale_socket_file(const endpoint& address) {
    struct stat info{};
    if (::stat(address.address().c_str(), &info) != 0 || !S_ISSOCK(info.st_mode)) return false;
    int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0) return false;
    bool refused = ::connect(probe, address.data(), address.size()) != 0 && errno == ECONNREFUSED;
    ::close(probe);
    return refused;
}

}  // namespace

unix_stream unix_stream::connect(const endpoint& to, duration timeout, std::error_code& ec) {
    if (to.family() != AF_UNIX) {
        ec = std::make_error_code(std::errc::address_family_not_supported);
        return {};
    }
    int fd = detail::connect_fd(to, deadline_after(timeout), ec);
    return fd < 0 ? unix_stream() : unix_stream(nonblocking_fd{fd});
}

unix_stream unix_stream::connect(const endpoint& to, duration timeout) {
    std::error_code ec;
    unix_stream stream = connect(to, timeout, ec);
    if (ec) detail::throw_net_error(ec, "cogent: cannot connect to " + to.to_string());
    return stream;
}

std::pair<unix_stream, unix_stream> unix_stream::pair() {
    detail::ignore_sigpipe_once();
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
        throw std::system_error(errno, std::generic_category(), "cogent: socketpair");
    }
    return {unix_stream(nonblocking_fd{fds[0]}), unix_stream(nonblocking_fd{fds[1]})};
}

unix_listener unix_listener::bind(const endpoint& address, const listen_options& options, bool replace_stale_path) {
    if (address.family() != AF_UNIX) {
        throw std::invalid_argument("cogent: a Unix-domain listener needs a path, not '" + address.to_string() + "'");
    }
    std::string path = address.address();
    const bool abstract = !path.empty() && path.front() == '@';
    if (!abstract && replace_stale_path && is_stale_socket_file(address)) ::unlink(path.c_str());
    int fd = bind_and_listen(address, options);
    return unix_listener(nonblocking_fd{fd}, abstract ? std::string() : std::move(path));
}

unix_listener::~unix_listener() {
    close();
}

unix_listener::unix_listener(unix_listener&& other) noexcept
    : listener(std::move(other)), path_(std::move(other.path_)) {
    other.path_.clear();
}

unix_listener& unix_listener::operator=(unix_listener&& other) noexcept {
    if (this != &other) {
        close();
        listener::operator=(std::move(other));
        path_ = std::move(other.path_);
        other.path_.clear();
    }
    return *this;
}

void unix_listener::close() noexcept {
    if (is_open() && !path_.empty()) ::unlink(path_.c_str());
    path_.clear();
    socket::close();
}

unix_stream unix_listener::accept(endpoint& peer, duration timeout, std::error_code& ec) {
    int fd = accept_fd(&peer, timeout, ec);
    return fd < 0 ? unix_stream() : unix_stream(unix_stream::nonblocking_fd{fd});
}

unix_stream unix_listener::accept(endpoint& peer, duration timeout) {
    return detail::or_throw("accept", [&](std::error_code& ec) { return accept(peer, timeout, ec); });
}

unix_stream unix_listener::accept(duration timeout) {
    endpoint peer;
    return accept(peer, timeout);
}

}  // namespace cogent
