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
//
// With a DTLS server context (tls_context::dtls_server), the server speaks DTLS 1.2 to each client
// and the handler sees plaintext: the same handler, with `datagram` one decrypted message and
// server.send_to(reply, from) encrypting the reply to that client's session.
//
//   auto dtls = cogent::tls_context::dtls_server({.certificate_chain_file = "server.pem",
//                                                 .private_key_file = "server.key"});
//   cogent::datagram_server server(cogent::endpoint::parse("0.0.0.0:4433"), dtls,
//       [&](std::string message, const cogent::endpoint& from, cogent::datagram_server& s) {
//           s.send_to(answer(message), from, 1s);
//       });
//
// A new client first gets a stateless cookie (HelloVerifyRequest) and gets a session only once it
// sends the cookie back from the same address, so spoofed sources cost no memory and get no
// amplification. Each session is a greenlet that makes the handshake (within
// options.handshake_timeout), then decrypts the client's datagrams and hands each message to a
// handler (in a greenlet of its own; with options.max_concurrent, sessions wait for a place while
// the server goes on receiving). A session ends when the client sends close_notify (it is
// answered), after options.session_idle_timeout without a message from the client (a close_notify
// is sent), on a fatal DTLS error, when a new handshake from the same address and port brings a
// valid cookie (the client restarted), or at stop() (a close_notify is sent, after the handlers'
// grace period). At most options.max_sessions exist at once; while that many do, new clients are
// ignored. Datagrams from an unknown address that are not a ClientHello (garbage, anything not
// DTLS), and datagrams that find their session's queue full, are dropped and counted
// (dropped_count()); a session's records that fail to authenticate are dropped by DTLS itself,
// silently, as RFC 6347 asks. Nothing is ever answered with more than a cookie before the client
// proved its address.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "cogent/endpoint.hpp"
#include "cogent/time.hpp"
#include "cogent/tls.hpp"
#include "cogent/udp.hpp"

namespace cogent {

struct datagram_options {
    udp_options udp;
    std::size_t max_concurrent = 0;     // handlers running at once; 0: no limit
    std::size_t max_datagram = 65536;   // bytes; larger ones are dropped (DTLS: at least the MTU)
    std::size_t stack_size = 0;         // of each handler's greenlet; 0: the default
    // DTLS servers only.
    duration handshake_timeout = std::chrono::seconds(10);    // for a client's whole handshake
    duration session_idle_timeout = std::chrono::seconds(60); // without a message from the client
    std::size_t max_sessions = 1000;                          // sessions (and handshakes) at once
};

class datagram_server {
public:
    using handler = std::function<void(std::string datagram, const endpoint& from, datagram_server& server)>;

    // Binds at once; receives nothing until start() or serve_forever(). Throws std::system_error
    // if it cannot bind, std::invalid_argument for a bad address or option.
    datagram_server(const endpoint& address, handler handle, datagram_options options = {});
    // A DTLS server: `dtls` must be a DTLS server context (tls_context::dtls_server).
    datagram_server(const endpoint& address, tls_context dtls, handler handle, datagram_options options = {});
    ~datagram_server();  // stop(0) if still running
    datagram_server(const datagram_server&) = delete;
    datagram_server& operator=(const datagram_server&) = delete;

    void start();
    // Starts if needed and waits until stop(), or `timeout` (false; it keeps running).
    bool serve_forever(duration timeout = forever);
    // Stops receiving and closes the socket after up to `grace` for running handlers, killing the
    // rest; returns how many it killed. Again: nothing.
    std::size_t stop(duration grace = std::chrono::seconds(1));

    // Sends from the server's own socket (its address is what clients see). A DTLS server
    // encrypts `datagram` as one message to `to`'s session: std::errc::not_connected if `to` has
    // no established session (it ended, or never was), net_errc::message_too_long if the message
    // does not fit in one datagram of the context's datagram_mtu.
    std::size_t send_to(std::string_view datagram, const endpoint& to, duration timeout = forever);
    std::size_t send_to(std::string_view datagram, const endpoint& to, duration timeout, std::error_code& ec);

    endpoint local_endpoint() const;
    // Datagrams handed to the handler (DTLS: decrypted messages).
    std::size_t received_count() const noexcept;
    std::size_t handler_count() const noexcept;
    // Datagrams dropped: too large, and for DTLS what the class comment lists.
    std::size_t dropped_count() const noexcept;
    // DTLS sessions now, handshakes included (0 for a plain server).
    std::size_t sessions() const noexcept;

private:
    struct state;
    std::unique_ptr<state> state_;
};

}  // namespace cogent
