// What TCP and Unix-domain listeners share: binding, listening and accepting.
#pragma once

#include <sys/socket.h>

#include "cogent/socket.hpp"

namespace cogent {

struct listen_options {
    int backlog = SOMAXCONN;
    bool reuse_address = true;  // SO_REUSEADDR (TCP): restart a server while old connections linger
    bool reuse_port = false;    // SO_REUSEPORT: several listeners share one port
    bool v6_only = false;       // IPV6_V6ONLY on an IPv6 wildcard: do not take IPv4 connections too
};

class listener : public socket {
public:
    listener() noexcept = default;

protected:
    // Binds a new socket of `address`'s family to it and listens. Throws std::system_error
    // naming the address.
    static int bind_and_listen(const endpoint& address, const listen_options& options);
    // Accepts one connection: the new fd (non-blocking, close-on-exec), with the peer's address in
    // `*peer` if given; -1 with `ec` set otherwise. A connection that the peer aborted before it
    // was accepted is skipped (ECONNABORTED), not reported. On io_uring's multishot accept, a
    // connection reset after the kernel took it but before this call comes with an empty peer.
    int accept_fd(endpoint* peer, duration timeout, std::error_code& ec);
    explicit listener(nonblocking_fd adopt) noexcept : socket(adopt) {}
};

}  // namespace cogent
