// Native socket calls: submit, park, and never leave before the kernel is done.
#include "net/native_io.hpp"

#include <cerrno>
#include <exception>

#include "backend/backend.hpp"
#include "cogent/net_errors.hpp"
#include "greenlet/thread_state.hpp"
#include "hub/hub_impl.hpp"
#include "net/io_retry.hpp"

namespace cogent::detail {
namespace {

struct completion : native_op {
    waiter* target = nullptr;
};

void wake_target(native_op* op) noexcept {
    if (waiter* target = static_cast<completion*>(op)->target) target->wake(wake_reason::ready);
}

// One native call from its submission to the kernel's last word on it. The kernel owns the
// call's buffer (and the op, whose address is its user_data) until the completion, so whatever
// ends the wait (the completion, a timeout, a close, a kill, or an exception out of the park:
// greenlet_exit as the thread ends, greenlet_error) the call is cancelled and waited out before
// this frame goes, and only then are the fd's slot and the hub's hold given back.
//
// While it is in flight the call also keeps the hub's loop alive (`holds`): its completion comes
// from the kernel, which the hub's "nothing can wake this" check cannot otherwise see once a
// close has taken the call's fd slot away.
class in_flight_call {
public:
    in_flight_call(hub_impl& hub, int fd, unsigned event, waiter& w)
        : hub_(hub), fd_(fd), event_(event), interest_{&w, 0, true} {
        // One reader and one writer at a time, as with readiness. Throws before anything is held.
        hub.watch_fd(fd, event, interest_);
        ++hub.holds;
        op_.complete = &wake_target;
        op_.target = &w;
    }
    ~in_flight_call() {
        // Unwinding (or a submission that threw): the wait is over without the completion. The
        // hub may not be able to run (it is being destroyed as the thread ends), and parking
        // while an exception is on its way out is no place to start: wait in the kernel instead.
        // A cancelled socket call completes at once, so the thread is not held for long.
        if (op_.in_flight) wait_out_here();
        hub_.unwatch_fd(fd_, event_, interest_);
        --hub_.holds;
    }
    in_flight_call(const in_flight_call&) = delete;
    in_flight_call& operator=(const in_flight_call&) = delete;

    void submit(const native_request& request) {
        backend& io = hub_.io();
        switch (request.call) {
            case native_call::recv: io.submit_recv(op_, fd_, request.buffer, request.size); break;
            case native_call::send: io.submit_send(op_, fd_, request.buffer, request.size); break;
            case native_call::accept: io.submit_accept(op_, fd_, request.buffer, request.address_size); break;
            case native_call::accept_multishot: io.submit_multishot_accept(op_, fd_); break;
        }
    }

    // Waits for the completion by `deadline`; if the wait ends first (timed out, closed,
    // cancelled), cancels the call and waits for the kernel to confirm, without raising what is
    // pending. An exception out of that second wait (the thread's end reaching this greenlet)
    // is raised once the call is over.
    wake_reason wait(waiter& w, clock::time_point deadline) {
        const wake_reason reason = hub_.park_keeping_errors(w, deadline);
        if (!op_.in_flight) return reason;
        hub_.io().cancel(op_);
        while (op_.in_flight) {
            waiter rest("cancelling a socket call");
            op_.target = &rest;
            try {
                hub_.park_keeping_errors(rest, clock::time_point::max());
            } catch (...) {
                wait_out_here();
                throw;
            }
        }
        return reason;
    }

    int result() const noexcept { return op_.result; }
    bool closed() const noexcept { return (interest_.seen & fd_closed) != 0; }

private:
    void wait_out_here() noexcept {
        op_.target = nullptr;  // whatever it named may be gone; nobody is to be woken
        hub_.io().wait_out(op_);
    }

    hub_impl& hub_;
    const int fd_;
    const unsigned event_;
    fd_interest interest_;
    completion op_;
};

// One submission and its completion; -1 with `ec` set, or the result (which may be -EAGAIN's
// -1 with `again` set: the kernel declined to wait on a non-blocking socket).
ssize_t submit_and_wait(hub_impl& hub, int fd, const int& fd_ref, const native_request& request,
                        clock::time_point deadline, std::error_code& ec, const char* what, bool& again) {
    const unsigned event = request.call == native_call::send ? io_writable : io_readable;
    waiter w(what);
    in_flight_call call(hub, fd, event, w);
    call.submit(request);
    const wake_reason reason = call.wait(w, deadline);
    const int result = call.result();
    if (result >= 0) {
        ec.clear();
        return result;
    }
    again = result == -EAGAIN && reason == wake_reason::ready && !call.closed();
    if (again) return -1;
    greenlet_impl* self = existing_thread_state()->current;
    if (self->pending_error) std::rethrow_exception(hub.take_pending(self));
    if (call.closed() || fd_ref < 0) {
        ec = make_error_code(net_errc::socket_closed);
    } else if (result == -ECANCELED && reason == wake_reason::timed_out) {
        ec = std::make_error_code(std::errc::timed_out);
    } else {
        set_errno_code(ec, -result);
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
        if (!await_fd(hub, fd, event, deadline, ec, what)) return -1;
    }
}

}  // namespace cogent::detail
