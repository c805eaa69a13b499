// gevent's StreamServer: accepts connections and serves each in a greenlet of its own.
//
//   cogent::stream_server server(cogent::endpoint::parse("127.0.0.1:8888"),
//       [](cogent::stream_socket& s, const cogent::endpoint& peer) {
//           char buffer[1024];
//           while (std::size_t n = s.read_some(buffer, 30s)) s.write_all({buffer, n});
//       });
//   server.serve_forever();
//
// The handler gets the connected stream (TCP or Unix-domain, whichever the address is) and the
// peer's address; the server closes the stream when the handler returns. A handler that ends
// with a connection error (reset, broken pipe, end of stream, the close of stop(), or a call's
// timeout_error: an idle client) ends quietly; any other exception goes to the hub's error handler (cogent::set_error_handler), and
// the server carries on.
//
// With options.max_connections, at most that many handlers run at once: while they all run the
// server stops accepting, so further clients wait in the kernel's listen backlog
// (options.listen.backlog); once that is full the kernel drops their connection attempts, which
// clients retry (TCP) or see refused (Unix-domain: EAGAIN). Nothing is accepted only to be closed.
//
// With a tls_context, the server makes the TLS handshake on each connection (within
// options.handshake_timeout) before the handler runs, hands the handler the tls_stream, and
// sends close_notify when the handler returns. A client that fails the handshake (it does not
// speak TLS, refuses our certificate, or offers none when one is required) is closed: quietly if
// it simply went away or ran out of time, reported through the error handler otherwise.
//
// Accept errors that mean the process or system is out of something (EMFILE, ENFILE, ENOBUFS,
// ENOMEM) are survived: the server prints one warning on stderr, backs off (10 ms doubling to
// 1 s) and tries again, printing a note when accepting works again. It never spins and never
// stops serving the connections it has.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include "cogent/endpoint.hpp"
#include "cogent/listener.hpp"
#include "cogent/stream_socket.hpp"
#include "cogent/time.hpp"
#include "cogent/tls.hpp"

namespace cogent {

struct server_options {
    listen_options listen;
    std::size_t max_connections = 0;  // 0: no limit
    bool nodelay = true;              // TCP_NODELAY on accepted TCP connections
    std::size_t stack_size = 0;       // of each connection's greenlet; 0: the default
    // TLS servers: the time a client has to complete its handshake (and to take our
    // close_notify at the end).
    duration handshake_timeout = std::chrono::seconds(10);
};

class stream_server {
public:
    using handler = std::function<void(stream_socket& stream, const endpoint& peer)>;
    using tls_handler = std::function<void(tls_stream& stream, const endpoint& peer)>;

    // Binds and listens on `address` at once (so local_endpoint() is known before start), but
    // accepts nothing until start() or serve_forever(). Throws std::system_error if it cannot
    // listen, std::invalid_argument for an address that is neither IP nor Unix-domain.
    stream_server(const endpoint& address, handler handle, server_options options = {});
    // A TLS server: `tls` must be a server context (tls_context::server).
    stream_server(const endpoint& address, tls_context tls, tls_handler handle, server_options options = {});
    // Stops at once (stop(0)) if still running.
    ~stream_server();
    stream_server(const stream_server&) = delete;
    stream_server& operator=(const stream_server&) = delete;

    // Starts accepting in a greenlet of its own and returns (gevent's start()).
    void start();
    // Starts, if needed, and waits until stop() is called (from another greenlet), or `timeout`
    // passes (then it returns false and the server keeps running). On a stopped server it
    // returns true at once.
    bool serve_forever(duration timeout = forever);
    // Stops accepting and closes the listening socket; waits up to `grace` for the connections'
    // handlers to finish, then kills those still running (greenlet_exit in each) and waits for
    // them. Returns how many it had to kill. Calling it again does nothing.
    std::size_t stop(duration grace = std::chrono::seconds(1));

    endpoint local_endpoint() const;
    bool started() const noexcept;
    bool stopped() const noexcept;
    // Connections being served now.
    std::size_t connection_count() const noexcept;
    // Connections accepted since it started.
    std::size_t accepted_count() const noexcept;

private:
    struct state;
    std::unique_ptr<state> state_;
};

}  // namespace cogent
