// One DTLS association as OpenSSL sees it, shared by the client (dtls_socket.cpp) and the
// server's sessions (dtls_sessions.cpp). Not a public interface.
//
// OpenSSL reads and writes datagrams through a BIO of ours rather than its datagram socket BIO,
// for the same reasons as TLS (tls_internal.hpp), and one more: a server's sessions share the
// server's one socket, so no session may read from it. The BIO holds no socket at all:
//  - a read returns the one datagram the caller handed to the current SSL call (once), or asks
//    to retry ("want read") when there is none: whoever drives the channel receives datagrams
//    (from a connected socket, or from the server's demultiplexing loop) and calls again;
//  - a write appends one datagram to `output`, which the driver then sends, so OpenSSL never
//    blocks and never holds a half-sent datagram; each write is one datagram, exactly as
//    OpenSSL's own datagram BIO sends each write with one sendto;
//  - the MTU is the context's datagram_mtu less the IP and UDP headers, set once, and the BIO
//    is never asked for one (SSL_OP_NO_QUERY_MTU): there is no socket to ask.
// Since no SSL call can park, each runs from start to end without a greenlet switch, so greenlets
// may take turns on one channel (a session's reader and a handler replying) without locking.
#pragma once

#include <openssl/ssl.h>

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "cogent/endpoint.hpp"
#include "cogent/time.hpp"
#include "cogent/tls.hpp"
#include "net/tls_internal.hpp"

namespace cogent::detail {

struct dtls_cookie_secret;

struct dtls_channel {
    SSL* ssl = nullptr;
    std::shared_ptr<tls_context::impl> context;         // keeps the SSL_CTX alive
    endpoint peer;                                      // where output goes; the cookie's subject
    const dtls_cookie_secret* cookie_secret = nullptr;  // servers: for the cookie callbacks
    std::deque<std::string> output;                     // datagrams OpenSSL wrote, oldest first
    std::error_code failure;                            // the fatal error that ended the association

    // `input`, when not empty, is what the BIO's next read returns.
    std::string_view input;

    dtls_channel() = default;
    dtls_channel(const dtls_channel&) = delete;
    dtls_channel& operator=(const dtls_channel&) = delete;
    ~dtls_channel() { SSL_free(ssl); }  // frees the BIO too

    // A channel for `peer` on `context` (a DTLS context), in the client or server state as the
    // context is. nullptr with `ec` set if OpenSSL fails.
    static std::unique_ptr<dtls_channel> make(const std::shared_ptr<tls_context::impl>& context,
                                              const endpoint& peer, std::error_code& ec);
    // The channel `ssl` reads through; nullptr for an SSL that is not on our datagram BIO.
    static dtls_channel* of(SSL* ssl);

    // Runs `call(ssl)` (an SSL function: > 0 on success) with `datagram` (empty: none) to read,
    // and returns SSL_get_error's verdict (SSL_ERROR_NONE on success), `result` set to what the
    // call returned. OpenSSL's error queue is cleared first; a fatal error is taken from it into
    // `failure` (and `ec`) before anything can switch greenlets.
    template <class Call>
    int run(std::string_view datagram, int& result, std::error_code& ec, Call&& call) {
        ERR_clear_error();
        input = datagram;
        result = call(ssl);
        input = {};
        const int verdict = result > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl, result);
        if (verdict == SSL_ERROR_SSL || verdict == SSL_ERROR_SYSCALL) {
            ec = fatal_error();
        } else {
            ERR_clear_error();
        }
        return verdict;
    }

    // When OpenSSL's retransmission timer (running during handshakes) fires next;
    // time_point::max() if it is not running.
    clock::time_point timer_deadline() const;
    // Retransmits what the timer asks for (into `output`). False, `ec` set, when OpenSSL gives up
    // (too many retransmissions) or fails.
    bool on_timer(std::error_code& ec);

    // The largest message one record carries within the MTU (0 before the handshake).
    std::size_t max_message_size() const;

private:
    std::error_code fatal_error();
};

// Hands the BIO's reads and writes to this process's datagram BIO method (dtls_channel.cpp).
bool attach_datagram_bio(dtls_channel& channel);

// The bytes of an IP endpoint that identify a peer (family, address, port, IPv6 scope), for
// the server's session table and its cookies. Equal for the same peer whatever the kernel put
// in the sockaddr's padding and flow label.
std::string peer_key(const endpoint& peer);

// The time left until `deadline`, as a timeout for the socket layer.
duration remaining_until(clock::time_point deadline);

}  // namespace cogent::detail
