// What the DTLS client's sources share (dtls_socket.cpp, dtls_connect.cpp): the socket's state
// and the loop that drives an SSL call over the connected UDP socket. Not a public interface.
#pragma once

#include <memory>
#include <system_error>
#include <vector>

#include "cogent/dtls.hpp"
#include "net/dtls_channel.hpp"

namespace cogent {

struct dtls_socket::state {
    udp_socket transport;
    std::unique_ptr<detail::dtls_channel> channel;
    // Room for the largest datagram UDP carries, so that no datagram from the server is ever cut.
    std::vector<char> datagram = std::vector<char>(65536);
    std::vector<char> plaintext;  // one record's worth, made by the first receive

    explicit state(udp_socket&& t) noexcept : transport(std::move(t)) {}
};

namespace detail {

// Sends the datagrams OpenSSL queued, oldest first, within `deadline`. Each is taken off the
// queue before it is sent, so greenlets sending at once never send one twice; one whose send
// fails is lost, as a datagram may be (a handshake retransmits; the error is returned).
std::error_code send_output(dtls_socket::state& s, clock::time_point deadline);

// Runs `call(ssl)` (SSL_do_handshake, SSL_read_ex, ...) until it succeeds (returns its result,
// > 0), meets the server's close_notify (returns 0), or fails or passes `deadline` (returns -1,
// `ec` set). While OpenSSL wants to read, the greenlet parks on the socket until a datagram
// comes or OpenSSL's retransmission timer fires, whichever is first: a datagram is handed to the
// next call, the timer to DTLSv1_handle_timeout. What each call writes is sent before it waits.
template <class Call>
int drive_dtls(dtls_socket::state& s, clock::time_point deadline, std::error_code& ec, Call&& call) {
    dtls_channel& c = *s.channel;
    std::string_view datagram;
    for (;;) {
        if (!s.transport.is_open()) {
            ec = make_error_code(net_errc::socket_closed);
            return -1;
        }
        int result = 0;
        ec.clear();
        const int verdict = c.run(datagram, result, ec, call);
        datagram = {};
        const std::error_code sent = send_output(s, deadline);
        // A call that is done has what it needed: what it wrote on the way (a retransmission, an
        // answer to close_notify) is a courtesy whose loss the peer's timers make good, so a
        // failure to send it does not undo the result.
        if (verdict == SSL_ERROR_NONE) return result;
        if (verdict == SSL_ERROR_ZERO_RETURN) return 0;
        if (verdict != SSL_ERROR_WANT_READ) {
            if (!ec) ec = tls_code(tls_errc::protocol_error);  // no other verdict applies to our BIO
            return -1;
        }
        if (sent) {
            ec = sent;  // the flight did not go (ECONNREFUSED: the port is closed): nothing will come
            return -1;
        }
        const clock::time_point timer = c.timer_deadline();
        const std::size_t n = s.transport.receive(s.datagram, remaining_until(std::min(deadline, timer)), ec);
        if (!ec) {
            datagram = {s.datagram.data(), n};
            continue;
        }
        if (ec != std::errc::timed_out) return -1;
        if (clock::now() >= deadline) return -1;  // the caller's time is up
        if (!c.on_timer(ec)) return -1;           // OpenSSL retransmits, or gives up
    }
}

}  // namespace detail
}  // namespace cogent
