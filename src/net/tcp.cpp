// TCP streams and listeners, and connecting by host name.
#include "cogent/tcp.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <string>

#include "cogent/resolve.hpp"
#include "net/connect_fd.hpp"
#include "net/or_throw.hpp"

namespace cogent {

tcp_stream tcp_stream::connect(const endpoint& to, duration timeout, std::error_code& ec) {
    if (!to.is_ip()) {
        ec = std::make_error_code(std::errc::address_family_not_supported);
        return {};
    }
    int fd = detail::connect_fd(to, deadline_after(timeout), ec);
    return fd < 0 ? tcp_stream() : tcp_stream(nonblocking_fd{fd});
}

tcp_stream tcp_stream::connect(const endpoint& to, duration timeout) {
    std::error_code ec;
    tcp_stream stream = connect(to, timeout, ec);
    if (ec) detail::throw_net_error(ec, "cogent: cannot connect to " + to.to_string());
    return stream;
}

void tcp_stream::set_nodelay(bool on) {
    set_option(IPPROTO_TCP, TCP_NODELAY, on);
}

bool tcp_stream::nodelay() const {
    return get_option(IPPROTO_TCP, TCP_NODELAY) != 0;
}

tcp_listener tcp_listener::bind(const endpoint& address, const listen_options& options) {
    if (!address.is_ip()) {
        throw std::invalid_argument("cogent: a TCP listener needs an IP endpoint, not '" + address.to_string() + "'");
    }
    return tcp_listener(nonblocking_fd{bind_and_listen(address, options)});
}

tcp_stream tcp_listener::accept(endpoint& peer, duration timeout, std::error_code& ec) {
    int fd = accept_fd(&peer, timeout, ec);
    return fd < 0 ? tcp_stream() : tcp_stream(tcp_stream::nonblocking_fd{fd});
}

tcp_stream tcp_listener::accept(endpoint& peer, duration timeout) {
    return detail::or_throw("accept", [&](std::error_code& ec) { return accept(peer, timeout, ec); });
}

tcp_stream tcp_listener::accept(duration timeout) {
    endpoint peer;
    return accept(peer, timeout);
}

tcp_stream connect(std::string_view host, std::uint16_t port, duration timeout, std::error_code& ec) {
    const clock::time_point deadline = deadline_after(timeout);
    auto remaining = [&] {
        return deadline == clock::time_point::max() ? forever : std::max(deadline - clock::now(), duration::zero());
    };
    std::vector<endpoint> addresses = resolve(host, std::to_string(port), remaining(), resolve_options{}, ec);
    if (ec) return {};
    if (addresses.empty()) ec = make_error_code(net_errc::host_not_found);
    for (const endpoint& address : addresses) {
        tcp_stream stream = tcp_stream::connect(address, remaining(), ec);
        if (!ec) return stream;
        if (ec == std::errc::timed_out) return {};
    }
    return {};
}

tcp_stream connect(std::string_view host, std::uint16_t port, duration timeout) {
    std::error_code ec;
    tcp_stream stream = connect(host, port, timeout, ec);
    if (ec) detail::throw_net_error(ec, "cogent: cannot connect to " + std::string(host) + " port " + std::to_string(port));
    return stream;
}

}  // namespace cogent
