// TCP: streams, listeners, and connecting by name (gevent's create_connection).
#pragma once

#include <cstdint>
#include <string_view>

#include "cogent/listener.hpp"
#include "cogent/stream_socket.hpp"

namespace cogent {

class tcp_stream : public stream_socket {
public:
    tcp_stream() noexcept = default;
    // Adopts a connected TCP socket's fd (made non-blocking).
    explicit tcp_stream(int fd) : stream_socket(fd) {}

    // Connects to one address, waiting at most `timeout` for the handshake.
    static tcp_stream connect(const endpoint& to, duration timeout = forever);
    static tcp_stream connect(const endpoint& to, duration timeout, std::error_code& ec);

    // TCP_NODELAY: send small writes at once instead of coalescing them (Nagle).
    void set_nodelay(bool on);
    bool nodelay() const;

private:
    friend class tcp_listener;
    explicit tcp_stream(nonblocking_fd adopt) noexcept : stream_socket(adopt) {}
};

class tcp_listener : public listener {
public:
    tcp_listener() noexcept = default;
    // Binds and listens; port 0 picks a free port (local_endpoint() says which).
    static tcp_listener bind(const endpoint& address, const listen_options& options = {});

    tcp_stream accept(duration timeout = forever);
    tcp_stream accept(endpoint& peer, duration timeout = forever);
    tcp_stream accept(endpoint& peer, duration timeout, std::error_code& ec);

private:
    explicit tcp_listener(nonblocking_fd adopt) noexcept : listener(adopt) {}
};

// Resolves `host` (a name or a numeric address) and connects to each address it has in turn
// until one accepts, as gevent's create_connection does; `timeout` covers the resolution and
// every attempt together. When all fail, the error is the last attempt's.
tcp_stream connect(std::string_view host, std::uint16_t port, duration timeout = forever);
tcp_stream connect(std::string_view host, std::uint16_t port, duration timeout, std::error_code& ec);

}  // namespace cogent
