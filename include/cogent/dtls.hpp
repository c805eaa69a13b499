// DTLS 1.2 over UDP (OpenSSL 3): a client socket whose handshake, sends and receives park the
// calling greenlet instead of blocking the thread, each with a timeout, in a throwing form and a
// std::error_code& form, like the rest of cogent's net layer. The server side is a
// datagram_server made with a DTLS server context (datagram_server.hpp).
//
//   auto context = cogent::tls_context::dtls_client({.ca_file = "ca.pem"});
//   cogent::dtls_socket s = cogent::dtls_connect("localhost", 4433, context, 10s);
//   s.send("hello", 1s);
//   char buffer[2048];
//   std::size_t n = s.receive(buffer, 5s);     // one whole message, or an error
//
// Messages keep their boundaries: each send is one record in one datagram, and each receive
// returns one message. A message must fit in one datagram of the path MTU
// (tls_client_options::datagram_mtu, 1500 by default): max_message_size() says how much that
// leaves after the headers and the cipher's overhead, and a larger one is
// net_errc::message_too_long, never fragmented. As with UDP, a message may be lost, duplicated
// on the path (DTLS drops the replay) or reordered: the handshake is retransmitted (OpenSSL's
// timers, run by the greenlet waiting for the answer), application data is not.
//
// Errors are as tls_stream's: the "cogent.tls" category (tls_errc::certificate_verify_failed,
// protocol_error), std::errc::timed_out, net_errc::socket_closed, and errno values from the
// socket (ECONNREFUSED when the server's port is closed and the host says so).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "cogent/endpoint.hpp"
#include "cogent/time.hpp"
#include "cogent/tls.hpp"
#include "cogent/udp.hpp"

namespace cogent {

// A DTLS association with one server over a connected UDP socket it owns. One greenlet may
// receive while another sends. The destructor and close() send nothing: shutdown() first tells
// the server the session is over.
class dtls_socket {
public:
    // Not open.
    dtls_socket() noexcept;
    ~dtls_socket();
    dtls_socket(dtls_socket&& other) noexcept;
    dtls_socket& operator=(dtls_socket&& other) noexcept;

    // The client handshake with `peer`, over a new UDP socket connected to it. `host_name` is
    // sent as SNI and the certificate must be for it (a DNS name, or an IP address matched
    // against the certificate's IP entries); it may be empty only if the context does not verify
    // the peer. `context` must come from tls_context::dtls_client. `timeout` covers the whole
    // handshake, retransmissions included; a server that never answers ends it with
    // std::errc::timed_out.
    static dtls_socket connect(const endpoint& peer, const tls_context& context, std::string_view host_name,
                               duration timeout = forever);
    static dtls_socket connect(const endpoint& peer, const tls_context& context, std::string_view host_name,
                               duration timeout, std::error_code& ec);
    // The same over `transport`, a UDP socket the caller connected (and bound, or set options
    // on) itself. It is consumed: on failure it is closed.
    static dtls_socket connect(udp_socket&& transport, const tls_context& context, std::string_view host_name,
                               duration timeout = forever);
    static dtls_socket connect(udp_socket&& transport, const tls_context& context, std::string_view host_name,
                               duration timeout, std::error_code& ec);

    // Sends `message` as one encrypted datagram; returns its size. An empty message sends
    // nothing. Larger than max_message_size(): net_errc::message_too_long, nothing sent. After
    // the server's close_notify: net_errc::end_of_stream.
    std::size_t send(std::string_view message, duration timeout = forever);
    std::size_t send(std::string_view message, duration timeout, std::error_code& ec);
    // Receives one message into `buffer` and returns its size. A message larger than the buffer
    // is net_errc::message_too_long (and consumed, as on a UDP socket). Records that fail to
    // authenticate are dropped as DTLS requires, and the wait goes on. The server's close_notify
    // is net_errc::end_of_stream, from then on.
    std::size_t receive(std::span<char> buffer, duration timeout = forever);
    std::size_t receive(std::span<char> buffer, duration timeout, std::error_code& ec);

    // Sends close_notify (one datagram: it may be lost, and nothing waits for the server's).
    // The socket stays open: close() or the destructor closes it.
    void shutdown(duration timeout = forever);
    void shutdown(duration timeout, std::error_code& ec);
    // Closes the socket at once, waking any greenlet waiting on it with net_errc::socket_closed.
    void close() noexcept;
    bool is_open() const noexcept;

    // The largest message send accepts: the path MTU less the IP, UDP and DTLS record headers and
    // the cipher's overhead (about 1,400 bytes with the default MTU of 1500).
    std::size_t max_message_size() const noexcept;
    udp_socket& transport();
    endpoint peer() const;
    // What the handshake settled, as tls_stream's: "DTLSv1.2", the cipher suite, the ALPN
    // protocol (empty if none), and the server certificate's subject in RFC 2253 form.
    std::string protocol_version() const;
    std::string cipher() const;
    std::string alpn_protocol() const;
    std::string peer_certificate_subject() const;
    // OpenSSL's SSL object, for what this interface does not offer. Do not do I/O through it.
    ssl_st* native_handle() const noexcept;

    struct state;

private:
    explicit dtls_socket(std::unique_ptr<state> s) noexcept;
    std::unique_ptr<state> state_;
};

// Resolves `host` (cogent::resolve) and makes the handshake with each address in turn until one
// succeeds, with `host` as the name to send and verify. A refused address (ECONNREFUSED) moves
// on to the next; a timeout ends it. `timeout` covers everything.
dtls_socket dtls_connect(std::string_view host, std::uint16_t port, const tls_context& context,
                         duration timeout = forever);
dtls_socket dtls_connect(std::string_view host, std::uint16_t port, const tls_context& context,
                         duration timeout, std::error_code& ec);

}  // namespace cogent
