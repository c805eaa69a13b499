// The type-independent half of cogent::async_result.
#include "cogent/async_result.hpp"

#include <stdexcept>

#include "cogent/errors.hpp"

namespace cogent::detail {

void async_result_base::set_exception(std::exception_ptr error) {
    if (!error) throw std::invalid_argument("cogent::async_result::set_exception: null exception_ptr");
    check_unset();
    error_ = std::move(error);
    finish();
}

void async_result_base::check_unset() const {
    if (!ready_) return;
    throw std::logic_error(error_ ? "cogent::async_result set twice: it already holds an exception"
                                  : "cogent::async_result set twice: it already holds a value");
}

void async_result_base::finish() noexcept {
    ready_ = true;
    // Waiters already woken another way (their deadline passed, an exception was raised in them)
    // are still listed until they run; wake() refuses them and they are simply dropped.
    while (waiter* w = waiting_.pop_front()) {
        if (w->wake(wake_reason::ready)) woken_.push_back(*w);
    }
}

bool async_result_base::wait(duration timeout) {
    if (ready_) return true;
    clock::time_point deadline = deadline_after(timeout);
    if (deadline != clock::time_point::max() && deadline <= clock::now()) return false;
    waiter w("async_result");
    waiting_.push_back(w);
    // Only finish() wakes with `ready`: no second look at the result is needed (it may be gone).
    return w.wait_until(deadline) == wake_reason::ready;
}

void async_result_base::wait_for_get(duration timeout) {
    if (ready_) return;
    clock::time_point deadline = deadline_after(timeout);
    wake_reason reason = wake_reason::timed_out;
    if (deadline == clock::time_point::max() || deadline > clock::now()) {
        waiter w("async_result");
        // Taken now: once this object may have been destroyed, even naming its members is wrong.
        wait_list* const woken = &woken_;
        waiting_.push_back(w);
        reason = w.wait_until(deadline);
        // Woken by finish() and still listed by it: the result exists and is set.
        if (reason == wake_reason::ready && w.list() == woken) return;
    }
    if (reason == wake_reason::timed_out || reason == wake_reason::cancelled) {
        // `cancelled` without an exception: a timeout scope's error withdrawn before we ran.
        // Nothing was set, so it is reported as running out of time.
        throw timeout_error(nullptr, "cogent: timed out waiting for an async_result");
    }
    throw std::logic_error("cogent::async_result was destroyed while a greenlet waited on it");
}

}  // namespace cogent::detail
