// The TLS streams' I/O: our BIO between OpenSSL and the socket, sending the queued ciphertext,
// and what run_tls does after each SSL call (tls_internal.hpp explains the design).
#include <sys/socket.h>

#include <cerrno>

#include "backend/backend.hpp"
#include "cogent/sleep.hpp"
#include "hub/hub_impl.hpp"
#include "net/tls_internal.hpp"

namespace cogent::detail {
namespace {

using state = tls_stream::state;

state& state_of(BIO* bio) {
    return *static_cast<state*>(BIO_get_data(bio));
}

// Reads from the transport. EAGAIN asks OpenSSL to retry, which it reports as SSL_ERROR_WANT_READ:
// so a greenlet only ever parks for readability after a read found nothing, as edge-triggered
// backends require.
int bio_read(BIO* bio, char* data, int size) {
    state& s = state_of(bio);
    BIO_clear_retry_flags(bio);
    const int fd = s.transport.native_handle();
    if (fd < 0) {
        s.read_errno = EBADF;
        return -1;
    }
    for (;;) {
        const ssize_t n = ::recv(fd, data, static_cast<std::size_t>(size), 0);
        if (n > 0) return static_cast<int>(n);
        if (n == 0) {
            s.read_eof = true;  // BIO_eof: OpenSSL then reports an unexpected EOF (no close_notify)
            return 0;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            BIO_set_retry_read(bio);
        } else {
            s.read_errno = errno;
        }
        return -1;
    }
}

// Queues the ciphertext: a write through this BIO always succeeds, and run_tls sends it.
int bio_write(BIO* bio, const char* data, int size) {
    BIO_clear_retry_flags(bio);
    state_of(bio).out.append(data, static_cast<std::size_t>(size));
    return size;
}

long bio_ctrl(BIO* bio, int command, long, void*) {
    switch (command) {
        case BIO_CTRL_FLUSH:
            return 1;  // sending is run_tls's job, after the call
        case BIO_CTRL_EOF:
            return state_of(bio).read_eof ? 1 : 0;
        default:
            return 0;  // no other control applies to a socket we own
    }
}

int bio_create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
}

// Made once and kept for the life of the process, as OpenSSL's own methods are.
const BIO_METHOD* socket_bio_method() {
    static BIO_METHOD* const method = [] {
        BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "cogent socket");
        if (m == nullptr) return m;
        BIO_meth_set_read(m, bio_read);
        BIO_meth_set_write(m, bio_write);
        BIO_meth_set_ctrl(m, bio_ctrl);
        BIO_meth_set_create(m, bio_create);
        return m;
    }();
    return method;
}

std::error_code wake_error(wake_reason reason) {
    if (reason == wake_reason::timed_out) return std::make_error_code(std::errc::timed_out);
    return make_error_code(net_errc::socket_closed);
}

// Keeps an fd_interest in the hub's table for the life of the guard.
struct watch_guard {
    hub_impl& hub;
    int fd;
    unsigned event;
    fd_interest interest;
    watch_guard(hub_impl& h, int f, unsigned e, waiter& w) : hub(h), fd(f), event(e), interest{&w} {
        hub.watch_fd(fd, event, interest);
    }
    watch_guard(const watch_guard&) = delete;
    watch_guard& operator=(const watch_guard&) = delete;
    ~watch_guard() { hub.unwatch_fd(fd, event, interest); }
};

// Parks a reader until the transport is readable. While output is queued and no writer of this
// stream is sending it, it waits for writability as well, to send it: otherwise a reader whose
// peer wants that output before it sends anything would wait for nothing. A writer that comes
// to need the writable slot meanwhile wakes it (flush), and it parks again for reading only.
wake_reason wait_readable(state& s, clock::time_point deadline, const char* what) {
    hub_impl& hub = hub_impl::current();
    const int fd = s.transport.native_handle();
    waiter w(what);
    watch_guard readable(hub, fd, io_readable, w);
    if (s.has_queued_output() && s.flushing == 0 && hub.interest_in(fd, io_writable) == nullptr) {
        watch_guard writable(hub, fd, io_writable, w);
        s.reader_writable = &w;
        struct forget {
            state& s;
            ~forget() { s.reader_writable = nullptr; }
        } forget_on_exit{s};
        return hub.park(w, deadline);
    }
    return hub.park(w, deadline);
}

}  // namespace

bool attach_bio(state& s) {
    const BIO_METHOD* method = socket_bio_method();
    BIO* bio = method != nullptr ? BIO_new(method) : nullptr;
    if (bio == nullptr) return false;
    BIO_set_data(bio, &s);
    SSL_set_bio(s.ssl, bio, bio);  // one reference, for both directions
    return true;
}

std::error_code flush(state& s, clock::time_point deadline, bool wait) {
    struct count_flushing {
        state& s;
        bool counted;
        ~count_flushing() { s.flushing -= counted ? 1 : 0; }
    } counter{s, wait};
    s.flushing += wait ? 1 : 0;
    // Another greenlet may send part of the queue, or add to it, while this one is parked, so
    // every round reads the queue afresh.
    while (s.has_queued_output()) {
        const int fd = s.transport.native_handle();
        if (fd < 0) return make_error_code(net_errc::socket_closed);
        const ssize_t n = ::send(fd, s.out.data() + s.out_sent, s.out.size() - s.out_sent, MSG_NOSIGNAL);
        if (n >= 0) {
            s.out_sent += static_cast<std::size_t>(n);
            continue;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return {errno, std::generic_category()};
        if (!wait) return {};
        if (s.reader_writable != nullptr) {
            // A reader holds the writable slot to send this same queue: wake it so that it parks
            // again for reading only (s.flushing tells it to), and let it run before trying again.
            s.reader_writable->wake(wake_reason::ready);
            cogent::yield();
            continue;
        }
        const wake_reason reason = hub_impl::current().wait_fd(fd, io_writable, deadline, "TLS writable");
        if (reason != wake_reason::ready) return wake_error(reason);
    }
    s.out.clear();
    s.out_sent = 0;
    return {};
}

tls_step after_call(state& s, int ssl_error, clock::time_point deadline, bool reading, const char* what,
                    std::error_code& ec) {
    switch (ssl_error) {
        case SSL_ERROR_NONE:
        case SSL_ERROR_ZERO_RETURN:
            // A reader has its data (or the peer's close_notify); output its call produced goes as
            // far as it can now, and a failure to send it will be the next write's to report.
            ec = flush(s, deadline, !reading);
            if (reading) ec.clear();
            return tls_step::done;
        case SSL_ERROR_WANT_READ: {
            ec = flush(s, deadline, !reading);
            if (ec) return tls_step::done;
            const wake_reason reason = wait_readable(s, deadline, what);
            if (reason == wake_reason::ready) return tls_step::retry;
            ec = wake_error(reason);
            return tls_step::done;
        }
        case SSL_ERROR_WANT_WRITE:
            // Our BIO never asks to retry a write, so OpenSSL has no reason to say this; if it
            // does, sending what is queued is all there is to do before trying again.
            if (!s.has_queued_output()) break;
            ec = flush(s, deadline, true);
            return ec ? tls_step::done : tls_step::retry;
        case SSL_ERROR_SSL:
        case SSL_ERROR_SYSCALL:
            ec = take_tls_error(s, ssl_error);
            s.failure = ec;
            // Try to send the alert OpenSSL queued, so the peer learns why; it may be gone.
            (void)flush(s, deadline, false);
            return tls_step::done;
        default:
            break;
    }
    ERR_clear_error();
    ec = tls_code(tls_errc::protocol_error);
    s.failure = ec;
    return tls_step::done;
}

}  // namespace cogent::detail
