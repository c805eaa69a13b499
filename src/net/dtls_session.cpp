// One session of a DTLS server: its greenlet makes the handshake, then decrypts the datagrams the
// receiving loop queues for it and hands each message to the server's handler, until close_notify,
// idleness, a fatal error, a new session for its address, or stop() ends it.
#include <sys/socket.h>

#include <exception>
#include <vector>

#include "cogent/errors.hpp"
#include "net/dtls_sessions.hpp"

namespace cogent::detail {
namespace {

// `from + wait`, where a wait of `forever` never ends (and does not overflow).
clock::time_point after(clock::time_point from, duration wait) {
    if (wait == forever || from > clock::time_point::max() - wait) return clock::time_point::max();
    return from + wait;
}

}  // namespace

void dtls_sessions::run_session(const session_ptr& s) {
    struct forget_on_exit {
        dtls_sessions& self;
        session& s;
        ~forget_on_exit() { self.forget(s); }
    } guard{*this, *s};
    std::error_code ec;
    if (!handshake(*s, ec)) {
        // A client that went away or ran out of time is no news; anything else (it refused our
        // certificate, it does not speak our version) is, as for a TLS stream_server.
        if (ec != std::errc::timed_out && ec != net_errc::end_of_stream) {
            report_dtls_error(server_name_, ec,
                              "cogent: DTLS handshake with " + s->channel->peer.to_string());
        }
        return;
    }
    serve(*s);
}

// Runs `call` on the session's SSL until it succeeds (its result), meets close_notify (0), or
// fails or passes `deadline()` (-1, `ec` set): as drive_dtls for the client, with datagrams
// taken from the session's queue instead of a socket. `deadline` is asked afresh at each wait.
template <class Deadline, class Call>
int dtls_sessions::drive(session& s, Deadline&& deadline, std::error_code& ec, Call&& call) {
    dtls_channel& c = *s.channel;
    std::string datagram;
    for (;;) {
        int result = 0;
        ec.clear();
        const int verdict = c.run(datagram, result, ec, call);
        datagram.clear();
        send_now(c);
        if (verdict == SSL_ERROR_NONE) return result;
        if (verdict == SSL_ERROR_ZERO_RETURN) return 0;
        if (verdict != SSL_ERROR_WANT_READ) {
            if (!ec) ec = tls_code(tls_errc::protocol_error);
            return -1;
        }
        const clock::time_point until = deadline();
        std::optional<std::string> next;
        try {
            next = s.inbox.try_get(remaining_until(std::min(until, c.timer_deadline())));
        } catch (const queue_closed&) {
            ec = make_error_code(net_errc::end_of_stream);  // a new session took the address
            return -1;
        }
        if (next) {
            s.queued_bytes -= next->size();
            datagram = std::move(*next);
            continue;
        }
        if (clock::now() >= until) {
            ec = std::make_error_code(std::errc::timed_out);
            return -1;
        }
        if (!c.on_timer(ec)) return -1;
    }
}

bool dtls_sessions::handshake(session& s, std::error_code& ec) {
    const clock::time_point deadline = after(clock::now(), options_.handshake_timeout);
    // DTLSv1_listen kept the ClientHello that brought the cookie: the first call reads it.
    if (drive(
            s, [deadline] { return deadline; }, ec, [](SSL* ssl) { return SSL_do_handshake(ssl); }) > 0) {
        s.established = true;
        s.last_heard = clock::now();
        return true;
    }
    if (!ec) ec = make_error_code(net_errc::end_of_stream);
    return false;
}

void dtls_sessions::serve(session& s) {
    // One record's plaintext at most, on the heap: session greenlets have small stacks.
    std::vector<char> message(SSL3_RT_MAX_PLAIN_LENGTH);
    const auto idle_deadline = [this, &s] { return after(s.last_heard, options_.session_idle_timeout); };
    for (;;) {
        std::size_t n = 0;
        std::error_code ec;
        const int result = drive(s, idle_deadline, ec, [&](SSL* ssl) {
            return SSL_read_ex(ssl, message.data(), message.size(), &n);
        });
        if (result > 0) {
            s.last_heard = clock::now();
            deliver_(std::string(message.data(), n), s.channel->peer);
            continue;
        }
        // The client's close_notify is answered; an idle client is told its session is over.
        if (result == 0 || ec == std::errc::timed_out) {
            close_session(s);
        } else if (ec != net_errc::end_of_stream) {
            report_dtls_error(server_name_, ec, "cogent: DTLS session with " + s.channel->peer.to_string());
        }
        return;
    }
}

void dtls_sessions::close_session(session& s) {
    s.established = false;
    dtls_channel& c = *s.channel;
    if ((SSL_get_shutdown(c.ssl) & SSL_SENT_SHUTDOWN) != 0 || c.failure) return;
    int result = 0;
    std::error_code ignored;
    c.run({}, result, ignored, [](SSL* ssl) { return SSL_shutdown(ssl) >= 0 ? 1 : -1; });
    send_now(c);
}

void dtls_sessions::send_now(dtls_channel& c) noexcept {
    const int fd = socket_.native_handle();
    for (const std::string& datagram : c.output) {
        if (fd < 0) break;
        // Handshake flights and alerts: a datagram the socket cannot take now is dropped, as the
        // network may drop it; the handshake's timers retransmit what matters.
        (void)::sendto(fd, datagram.data(), datagram.size(), MSG_NOSIGNAL | MSG_DONTWAIT, c.peer.data(),
                       c.peer.size());
    }
    c.output.clear();
}

}  // namespace cogent::detail
