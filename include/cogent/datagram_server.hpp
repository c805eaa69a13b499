// gevent's DatagramServer: receives datagrams on a UDP socket and handles each in a greenlet of
// its own.
//
//   cogent::datagram_server server(cogent::endpoint::parse("127.0.0.1:5300"),
//       [&](std::string datagram, const cogent::endpoint& from, cogent::datagram_server& s) {
//           s.send_to(answer(datagram), from, 1s);
//       });
//   server.serve_forever();
//
// A handler's exception goes to the hub's error handler (timeouts of its own calls end it
// quietly) and the server goes on. With options.max_concurrent, at most that many handlers run at
// once: while they all run, the server stops receiving, datagrams wait in the socket's receive
// buffer, and once that is full the kernel drops them (UDP promises no more). A datagram larger
// than options.max_datagram is dropped with a report, never truncated.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "cogent/endpoint.hpp"
#include "cogent/time.hpp"
#include "cogent/udp.hpp"

namespace cogent {

struct datagram_options {
    udp_options udp;
    std::size_t max_concurrent = 0;     // handlers running at once; 0: no limit
    std::size_t max_datagram = 65536;   // bytes; larger ones are dropped
    std::size_t stack_size = 0;         // of each handler's greenlet; 0: the default
};

class datagram_server {
public:
    using handler = std::function<void(std::string datagram, const endpoint& from, datagram_server& server)>;

    // Binds at once; receives nothing until start() or serve_forever(). Throws std::system_error
    // if it cannot bind, std::invalid_argument for a bad address or option.
    datagram_server(const endpoint& address, handler handle, datagram_options options = {});
    ~datagram_server();  // stop(0) if still running
    datagram_server(const datagram_server&) = delete;
    datagram_server& operator=(const datagram_server&) = delete;

    void start();
    // Starts if needed and waits until stop(), or `timeout` (false; it keeps running).
    bool serve_forever(duration timeout = forever);
    // Stops receiving and closes the socket after up to `grace` for running handlers, killing the
    // rest; returns how many it killed. Again: nothing.
    std::size_t stop(duration grace = std::chrono::seconds(1));

    // Sends from the server's own socket (its address is what clients see).
    std::size_t send_to(std::string_view datagram, const endpoint& to, duration timeout = forever);
    std::size_t send_to(std::string_view datagram, const endpoint& to, duration timeout, std::error_code& ec);

    endpoint local_endpoint() const;
    std::size_t received_count() const noexcept;
    std::size_t handler_count() const noexcept;

private:
    struct state;
    std::unique_ptr<state> state_;
};

}  // namespace cogent
