// The DTLS client's handshake: over a connected UDP socket, to an endpoint, or to a host name.
#include <sys/socket.h>

#include <stdexcept>

#include "cogent/resolve.hpp"
#include "net/dtls_socket_state.hpp"
#include "net/tls_peer_name.hpp"

namespace cogent {
namespace {

// The connected socket's peer, which the channel needs for its MTU (the IP header's size).
endpoint connected_peer(const udp_socket& transport, std::error_code& ec) {
    endpoint peer;
    socklen_t size = endpoint::capacity();
    if (::getpeername(transport.native_handle(), peer.data(), &size) != 0) {
        detail::set_errno_code(ec, errno);  // ENOTCONN: the caller did not connect it
        return {};
    }
    peer.resize(size);
    return peer;
}

}  // namespace

dtls_socket dtls_socket::connect(udp_socket&& transport, const tls_context& context,
                                 std::string_view host_name, duration timeout, std::error_code& ec) {
    const clock::time_point deadline = deadline_after(timeout);
    udp_socket owned(std::move(transport));  // consumed whatever happens, misuse included
    if (!context || context.is_server() || !context.is_datagram()) {
        throw std::invalid_argument(
            "cogent: dtls_socket::connect needs a DTLS client context (tls_context::dtls_client)");
    }
    const std::string name = detail::normalized_tls_host(host_name);
    const bool verify = (SSL_CTX_get_verify_mode(context.impl_->ctx) & SSL_VERIFY_PEER) != 0;
    detail::check_tls_host(name, verify, "dtls_socket::connect");
    if (!owned.is_open()) {
        ec = std::make_error_code(std::errc::bad_file_descriptor);
        return {};
    }
    ec.clear();
    const endpoint peer = connected_peer(owned, ec);
    if (ec) return {};
    auto s = std::make_unique<state>(std::move(owned));
    s->channel = detail::dtls_channel::make(context.impl_, peer, ec);
    if (s->channel == nullptr) return {};
    if (!detail::set_tls_peer_name(s->channel->ssl, name, verify)) {
        ec = detail::take_openssl_error();
        return {};
    }
    if (detail::drive_dtls(*s, deadline, ec, [](SSL* ssl) { return SSL_do_handshake(ssl); }) <= 0) {
        // A close_notify in the middle of the handshake: the server ended it.
        if (!ec) ec = make_error_code(net_errc::end_of_stream);
        return {};
    }
    return dtls_socket(std::move(s));
}

dtls_socket dtls_socket::connect(const endpoint& peer, const tls_context& context, std::string_view host_name,
                                 duration timeout, std::error_code& ec) {
    if (!peer.is_ip())
        throw std::invalid_argument("cogent: DTLS needs an IP address, not '" + peer.to_string() + "'");
    udp_socket transport;
    try {
        transport = udp_socket::open(peer.family());
        transport.connect(peer);
    } catch (const std::system_error& e) {
        ec = e.code();  // no socket left (EMFILE), or no route to the peer
        return {};
    }
    return connect(std::move(transport), context, host_name, timeout, ec);
}

dtls_socket dtls_socket::connect(udp_socket&& transport, const tls_context& context,
                                 std::string_view host_name, duration timeout) {
    std::error_code ec;
    dtls_socket s = connect(std::move(transport), context, host_name, timeout, ec);
    if (ec) detail::throw_net_error(ec, "cogent: DTLS handshake with '" + std::string(host_name) + "'");
    return s;
}

dtls_socket dtls_socket::connect(const endpoint& peer, const tls_context& context, std::string_view host_name,
                                 duration timeout) {
    std::error_code ec;
    dtls_socket s = connect(peer, context, host_name, timeout, ec);
    if (ec) {
        detail::throw_net_error(
            ec, "cogent: DTLS handshake with '" + std::string(host_name) + "' at " + peer.to_string());
    }
    return s;
}

dtls_socket dtls_connect(std::string_view host, std::uint16_t port, const tls_context& context,
                         duration timeout, std::error_code& ec) {
    const clock::time_point deadline = deadline_after(timeout);
    resolve_options options;
    options.socktype = SOCK_DGRAM;
    const std::vector<endpoint> addresses = resolve(host, std::to_string(port), timeout, options, ec);
    if (ec) return {};
    for (const endpoint& address : addresses) {
        dtls_socket s = dtls_socket::connect(address, context, host, detail::remaining_until(deadline), ec);
        if (!ec) return s;
        // A host that says its port is closed (or that it cannot be reached) is no answer: try the
        // next address. Anything else (a timeout, a certificate refused) is the answer.
        if (ec != std::errc::connection_refused && ec != std::errc::network_unreachable &&
            ec != std::errc::host_unreachable) {
            return {};
        }
    }
    return {};
}

dtls_socket dtls_connect(std::string_view host, std::uint16_t port, const tls_context& context,
                         duration timeout) {
    std::error_code ec;
    dtls_socket s = dtls_connect(host, port, context, timeout, ec);
    if (ec) {
        detail::throw_net_error(
            ec, "cogent: DTLS connection to '" + std::string(host) + "' port " + std::to_string(port));
    }
    return s;
}

}  // namespace cogent
