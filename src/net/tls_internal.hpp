// What the TLS sources share: the context's and the stream's state, error mapping, and the one
// loop every TLS operation goes through. Not a public interface.
//
// How a TLS stream does I/O. OpenSSL talks to the socket through a BIO of ours (tls_bio.cpp), not
// its socket BIO, for three reasons:
//  - Writes never block inside OpenSSL. The BIO appends ciphertext to the stream's own queue
//    (`out`), and run_tls sends it after each call. So SSL_write always completes, and a write
//    that times out, is killed or sees its stream closed leaves OpenSSL consistent: there is no
//    half-sent record tied to the caller's buffer, which OpenSSL would insist on being retried
//    with the same arguments (or fail with "bad write retry"). Whatever is queued goes out
//    first at the next operation, in order.
//  - The fd is read afresh from the transport on every call, so a transport closed by another
//    greenlet is never touched again, and sends use MSG_NOSIGNAL (no SIGPIPE whatever the
//    process's signal disposition).
//  - It records why a read failed (end of stream, errno), which OpenSSL's SSL_ERROR_SYSCALL
//    does not say reliably.
// OpenSSL's error queue is per thread, shared by every greenlet on it: run_tls clears it before
// each SSL call and takes what the call left before anything can switch greenlets.
#pragma once

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <string>
#include <system_error>

#include "cogent/tls.hpp"
#include "cogent/waiter.hpp"

namespace cogent {

struct tls_context::impl {
    SSL_CTX* ctx = nullptr;
    bool server = false;
    bool datagram = false;          // DTLS (dtls_client, dtls_server)
    std::size_t datagram_mtu = 0;   // DTLS: the path MTU its options gave
    std::string alpn_wire;          // server: the accepted ALPN protocols, in the wire format
    impl() = default;
    impl(const impl&) = delete;
    impl& operator=(const impl&) = delete;
    ~impl() { SSL_CTX_free(ctx); }
};

struct tls_stream::state {
    stream_socket transport;
    SSL* ssl = nullptr;
    std::string out;  // ciphertext OpenSSL produced; out[out_sent..] is not sent yet
    std::size_t out_sent = 0;
    bool read_eof = false;              // the last read found the peer's end of stream
    int read_errno = 0;                 // the errno of the last failed read
    std::error_code failure;            // the fatal TLS error that ended the stream; later calls repeat it
    int flushing = 0;                   // greenlets in flush(wait): each may park for writability
    waiter* reader_writable = nullptr;  // a reader parked for writability too (see wait_readable)
    std::shared_ptr<tls_context::impl> context;  // keeps the SSL_CTX (and ALPN list) alive

    explicit state(stream_socket&& t) noexcept : transport(std::move(t)) {}
    state(const state&) = delete;
    state& operator=(const state&) = delete;
    ~state() { SSL_free(ssl); }  // frees the BIO too
    bool has_queued_output() const noexcept { return out_sent < out.size(); }
};

namespace detail {

// Values of "cogent.tls" codes (tls_errors.cpp has the full story): 1-3 as tls_errc; an X509
// verification result v as tls_verify_base + v; anything else is OpenSSL's packed error code,
// which is at least 1 << 23 (its library number, never 0, sits above bit 23).
inline constexpr int tls_verify_base = 0x10000;
inline std::error_code tls_code(int value) noexcept {
    return {value, tls_category()};
}
inline std::error_code tls_code(tls_errc e) noexcept {
    return tls_code(static_cast<int>(e));
}

// The error an SSL call on `s` failed with (SSL_get_error said `ssl_error`, SSL_ERROR_SSL or
// SSL_ERROR_SYSCALL). Empties OpenSSL's error queue.
std::error_code take_tls_error(const tls_stream::state& s, int ssl_error);
// The first error in OpenSSL's queue as a code (tls_errc::protocol_error if it is empty), for
// failures outside a connection. Empties the queue.
std::error_code take_openssl_error(const SSL* ssl = nullptr);

// Attaches a BIO of ours over `s.transport` to s.ssl.
bool attach_bio(tls_stream::state& s);

// Sends s.out. With `wait`, parks (writable) until all is sent or the deadline passes; without,
// sends what the kernel takes now. The error, if any: an errno, std::errc::timed_out, or
// net_errc::socket_closed.
std::error_code flush(tls_stream::state& s, clock::time_point deadline, bool wait);

// What run_tls does after an SSL call: the call succeeded or the stream ended (done), or it must
// be retried once the socket is ready (retry).
enum class tls_step { done, retry };
tls_step after_call(tls_stream::state& s, int ssl_error, clock::time_point deadline, bool reading,
                    const char* what, std::error_code& ec);

// Runs `call(s.ssl)` (an SSL_* function: > 0 on success) until it succeeds (returns its result),
// the peer's close_notify ends it (returns 0), or it fails or the deadline passes (returns -1, `ec`
// set; a fatal TLS error is kept in s.failure). OpenSSL asks to read or write: the greenlet parks
// on the transport's fd for that. A `reading` call sends queued output only as far as the kernel
// takes it without waiting (a reader must not stall on a peer that is not reading) and waits for
// writability too while output is queued; other calls send everything they produced before going
// on, as a handshake or a write must.
template <class Call>
int run_tls(tls_stream::state& s, clock::time_point deadline, bool reading, const char* what,
            std::error_code& ec, Call&& call) {
    for (;;) {
        if (!s.transport.is_open()) {
            ec = make_error_code(net_errc::socket_closed);
            return -1;
        }
        ERR_clear_error();
        s.read_eof = false;
        s.read_errno = 0;
        const int result = call(s.ssl);
        const int ssl_error = result > 0 ? SSL_ERROR_NONE : SSL_get_error(s.ssl, result);
        if (after_call(s, ssl_error, deadline, reading, what, ec) == tls_step::done) {
            if (ec) return -1;
            return ssl_error == SSL_ERROR_NONE ? result : 0;
        }
    }
}

}  // namespace detail
}  // namespace cogent
