// UDP sockets.
#include "cogent/udp.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "net/io_retry.hpp"
#include "net/or_throw.hpp"

namespace cogent {
namespace {

// The size the kernel reports with MSG_TRUNC is the datagram's own; more than the buffer means
// part of it was cut off.
std::size_t checked_size(ssize_t n, std::size_t capacity, std::error_code& ec) {
    if (n < 0) return 0;
    if (static_cast<std::size_t>(n) > capacity) {
        ec = make_error_code(net_errc::message_too_long);
        return capacity;
    }
    return static_cast<std::size_t>(n);
}

}  // namespace

udp_socket udp_socket::open(int family) {
    return udp_socket(nonblocking_fd{open_fd(family, SOCK_DGRAM)});
}

udp_socket udp_socket::bind(const endpoint& address, const udp_options& options) {
    udp_socket s = open(address.family());
    if (options.reuse_address) s.set_reuse_address(true);
    if (options.reuse_port) s.set_reuse_port(true);
    if (options.broadcast) s.set_option(SOL_SOCKET, SO_BROADCAST, 1);
    if (::bind(s.fd_, address.data(), address.size()) != 0) {
        throw std::system_error(errno, std::generic_category(), "cogent: cannot bind UDP socket to " + address.to_string());
    }
    return s;
}

void udp_socket::connect(const endpoint& peer) {
    require_open("connect");
    if (::connect(fd_, peer.data(), peer.size()) != 0) {
        throw std::system_error(errno, std::generic_category(), "cogent: cannot connect UDP socket to " + peer.to_string());
    }
}

std::size_t udp_socket::send_to(std::string_view datagram, const endpoint& to, duration timeout, std::error_code& ec) {
    ssize_t n = detail::retry_io(fd_, detail::io_writable, deadline_after(timeout), ec, "udp writable", [&](int fd) {
        return ::sendto(fd, datagram.data(), datagram.size(), MSG_NOSIGNAL, to.data(), to.size());
    });
    return n < 0 ? 0 : static_cast<std::size_t>(n);
}

std::size_t udp_socket::receive_from(std::span<char> buffer, endpoint& from, duration timeout, std::error_code& ec) {
    socklen_t size = 0;
    ssize_t n = detail::retry_io(fd_, detail::io_readable, deadline_after(timeout), ec, "udp readable", [&](int fd) {
        size = endpoint::capacity();
        return ::recvfrom(fd, buffer.data(), buffer.size(), MSG_TRUNC, from.data(), &size);
    });
    if (n >= 0) from.resize(size);
    return checked_size(n, buffer.size(), ec);
}

std::size_t udp_socket::send(std::string_view datagram, duration timeout, std::error_code& ec) {
    ssize_t n = detail::retry_io(fd_, detail::io_writable, deadline_after(timeout), ec, "udp writable", [&](int fd) {
        return ::send(fd, datagram.data(), datagram.size(), MSG_NOSIGNAL);
    });
    return n < 0 ? 0 : static_cast<std::size_t>(n);
}

std::size_t udp_socket::receive(std::span<char> buffer, duration timeout, std::error_code& ec) {
    ssize_t n = detail::retry_io(fd_, detail::io_readable, deadline_after(timeout), ec, "udp readable",
                                 [&](int fd) { return ::recv(fd, buffer.data(), buffer.size(), MSG_TRUNC); });
    return checked_size(n, buffer.size(), ec);
}

std::size_t udp_socket::send_to(std::string_view datagram, const endpoint& to, duration timeout) {
    return detail::or_throw("send_to", [&](std::error_code& ec) { return send_to(datagram, to, timeout, ec); });
}
std::size_t udp_socket::receive_from(std::span<char> buffer, endpoint& from, duration timeout) {
    return detail::or_throw("receive_from", [&](std::error_code& ec) { return receive_from(buffer, from, timeout, ec); });
}
std::size_t udp_socket::send(std::string_view datagram, duration timeout) {
    return detail::or_throw("send", [&](std::error_code& ec) { return send(datagram, timeout, ec); });
}
std::size_t udp_socket::receive(std::span<char> buffer, duration timeout) {
    return detail::or_throw("receive", [&](std::error_code& ec) { return receive(buffer, timeout, ec); });
}

}  // namespace cogent
