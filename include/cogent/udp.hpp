// UDP sockets: datagrams to and from any address, or a connected peer.
//
// A datagram larger than the buffer given to receive is an error (net_errc::message_too_long),
// never a silent truncation; the datagram is consumed either way, as the kernel allows no other.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <system_error>

#include "cogent/socket.hpp"

namespace cogent {

struct udp_options {
    bool reuse_address = false;  // SO_REUSEADDR
    bool reuse_port = false;     // SO_REUSEPORT
    bool broadcast = false;      // SO_BROADCAST
};

class udp_socket : public socket {
public:
    udp_socket() noexcept = default;
    explicit udp_socket(int fd) : socket(fd) {}

    // An unbound socket of `family` (the kernel picks a port on the first send).
    static udp_socket open(int family = AF_INET);
    // A socket bound to `address`; port 0 picks a free one.
    static udp_socket bind(const endpoint& address, const udp_options& options = {});

    // Sets the default peer: send and receive then talk to it only. Throws std::system_error.
    void connect(const endpoint& peer);

    std::size_t send_to(std::string_view datagram, const endpoint& to, duration timeout = forever);
    std::size_t send_to(std::string_view datagram, const endpoint& to, duration timeout, std::error_code& ec);
    // Receives one datagram; `from` is set to its sender.
    std::size_t receive_from(std::span<char> buffer, endpoint& from, duration timeout = forever);
    std::size_t receive_from(std::span<char> buffer, endpoint& from, duration timeout, std::error_code& ec);

    // To and from the connected peer.
    std::size_t send(std::string_view datagram, duration timeout = forever);
    std::size_t send(std::string_view datagram, duration timeout, std::error_code& ec);
    std::size_t receive(std::span<char> buffer, duration timeout = forever);
    std::size_t receive(std::span<char> buffer, duration timeout, std::error_code& ec);

private:
    explicit udp_socket(nonblocking_fd adopt) noexcept : socket(adopt) {}
};

}  // namespace cogent
