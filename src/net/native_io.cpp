// Native socket calls: submit, park, and never leave before the kernel is done.
#include "net/native_io.hpp"

#include <cerrno>
#include <exception>

#include "backend/backend.hpp"
#include "cogent/net_errors.hpp"
#include "greenlet/thread_state.hpp"
#include "hub/hub_impl.hpp"

namespace cogent::detail {
namespace {

struct completion : native_op {
    waiter* target = nullptr;
};

void wake_target(native_op* op) noexcept {
    static_cast<completion*>(op)->target->wake(wake_reason::ready);
}

// Keeps the hub's loop alive while an op is in flight: its completion comes from the kernel,
// which the hub's "nothing can wake this" check cannot otherwise see once a close has taken the
// op's fd slot away.
struct hold {
    hub_impl& hub;
    explicit hold(hub_impl& h) noexcept : hub(h) { ++hub.holds; }
    ~hold() { --hub.holds; }
};

}  // namespace

bool native_io_available() {
    return hub_impl::current().io().native_io();
}

namespace {

// One submission and its completion; -1 with `ec` set, or the result (which may be -EAGAIN's
// -1 with `again` set: the kernel declined to wait on a non-blocking socket).
ssize_t submit_and_wait(hub_impl& hub, int fd, const int& fd_ref, const native_request& request,
                        clock::time_point deadline, std::error_code& ec, const char* what, bool& again) {
    backend& io = hub.io();
    const unsigned event = request.call == native_call::send ? io_writable : io_readable;
    waiter w(what);
    fd_interest interest{&w, 0, true};
    hub.watch_fd(fd, event, interest);  // one reader and one writer at a time, as with readiness
    completion op;
    op.complete = &wake_target;
    op.target = &w;
    try {
        switch (request.call) {
            case native_call::recv: io.submit_recv(op, fd, request.buffer, request.size); break;
            case native_call::send: io.submit_send(op, fd, request.buffer, request.size); break;
            case native_call::accept: io.submit_accept(op, fd, request.buffer, request.address_size); break;
        }
    } catch (...) {
        hub.unwatch_fd(fd, event, interest);
        throw;
    }
    wake_reason reason;
    {
        hold in_flight(hub);
        reason = hub.park_keeping_errors(w, deadline);
        if (op.in_flight) {
            // Timed out, closed or cancelled: the kernel must let go of the buffer first.
            io.cancel(op);
            while (op.in_flight) {
                waiter rest("cancelling a socket call");
                op.target = &rest;
                hub.park_keeping_errors(rest, clock::time_point::max());
            }
        }
    }
    hub.unwatch_fd(fd, event, interest);
    if (op.result >= 0) {
        ec.clear();
        return op.result;
    }
    again = op.result == -EAGAIN && reason == wake_reason::ready && !(interest.seen & fd_closed);
    if (again) return -1;
    greenlet_impl* self = existing_thread_state()->current;
    if (self->pending_error) std::rethrow_exception(hub.take_pending(self));
    if ((interest.seen & fd_closed) || fd_ref < 0) {
        ec = make_error_code(net_errc::socket_closed);
    } else if (op.result == -ECANCELED && reason == wake_reason::timed_out) {
        ec = std::make_error_code(std::errc::timed_out);
    } else {
        set_errno_code(ec, -op.result);
    }
    return -1;
}

}  // namespace

ssize_t native_io(const int& fd_ref, const native_request& request, clock::time_point deadline, std::error_code& ec,
                  const char* what) {
    hub_impl& hub = hub_impl::current();
    for (;;) {
        const int fd = fd_ref;
        if (fd < 0) {
            ec = std::make_error_code(std::errc::bad_file_descriptor);
            return -1;
        }
        bool again = false;
        ssize_t result = submit_and_wait(hub, fd, fd_ref, request, deadline, ec, what, again);
        if (!again) return result;
        // Some kernels answer EAGAIN for a non-blocking socket instead of waiting themselves:
        // wait for readiness, then submit again.
        const unsigned event = request.call == native_call::send ? io_writable : io_readable;
        switch (hub.wait_fd(fd, event, deadline, what)) {
            case wake_reason::timed_out: ec = std::make_error_code(std::errc::timed_out); return -1;
            case wake_reason::closed: ec = make_error_code(net_errc::socket_closed); return -1;
            default: break;
        }
    }
}

}  // namespace cogent::detail
