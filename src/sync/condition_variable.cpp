// cogent::condition_variable: notifications handed to waiters in order, and the lock always
// taken back.
#include "cogent/condition_variable.hpp"

#include <stdexcept>

#include "greenlet/thread_state.hpp"
#include "hub/hub_impl.hpp"

namespace cogent {
namespace {

// Wakes the first waiter still waiting and moves it to `notified`. Waiters woken another way
// (their deadline passed, an exception was raised in them) are still listed until they run;
// wake() refuses them and we try the next one.
bool notify_first(wait_list& waiting, wait_list& notified) noexcept {
    while (waiter* w = waiting.pop_front()) {
        if (w->wake(wake_reason::ready)) {
            notified.push_back(*w);
            return true;
        }
    }
    return false;
}

}  // namespace

void condition_variable::notify_one() noexcept { notify_first(waiting_, notified_); }

void condition_variable::notify_all() noexcept {
    while (notify_first(waiting_, notified_)) {
    }
}

std::cv_status condition_variable::wait_until(std::unique_lock<mutex>& lock, clock::time_point deadline) {
    mutex* m = lock.mutex();
    if (m == nullptr || !lock.owns_lock() || !m->held_by_current()) {
        throw std::logic_error(
            "cogent::condition_variable::wait: the unique_lock must hold its mutex, and the calling greenlet must "
            "be its holder");
    }
    // Checked before the lock is released: failing later would leave us unable to take it back.
    if (detail::this_thread().current == detail::hub_impl::current().hub_greenlet) {
        throw std::logic_error("cogent::condition_variable::wait: the hub cannot wait; spawn a task for it");
    }
    if (deadline != clock::time_point::max() && deadline <= clock::now()) return std::cv_status::timeout;

    waiter w("condition_variable");
    // Taken now: once this object may have been destroyed, even naming its members is wrong.
    wait_list* const notified = &notified_;
    waiting_.push_back(w);
    lock.unlock();
    wake_reason reason = wake_reason::none;
    std::exception_ptr error;
    try {
        reason = w.wait_until(deadline);
    } catch (...) {
        // Killed, or a timeout scope expired. If we had just been notified, pass the notification
        // on, so that a greenlet that is still waiting gets it; being off `notified` means this
        // condition_variable was destroyed meanwhile, and there is nobody to pass it to.
        error = std::current_exception();
        if (w.reason() == wake_reason::ready && w.list() == notified) {
            notified->remove(w);
            notify_one();
        }
    }
    reacquire(lock, error);
    if (reason == wake_reason::closed) {
        throw std::logic_error("cogent::condition_variable was destroyed while a greenlet waited on it");
    }
    // `cancelled` without an exception (it was withdrawn before we ran) counts as a spurious wake.
    return reason == wake_reason::timed_out ? std::cv_status::timeout : std::cv_status::no_timeout;
}

void condition_variable::reacquire(std::unique_lock<mutex>& lock, std::exception_ptr error) {
    mutex& m = *lock.mutex();
    for (;;) {
        bool alive;
        try {
            alive = m.relock_after_wait();
        } catch (...) {
            if (!error) {
                // The first exception (the wait itself ended normally): keep it, and keep waiting
                // for the lock; it is thrown once we hold it.
                error = std::current_exception();
                continue;
            }
            // A second exception while we wait for the mutex: stop waiting (see the header). Put
            // it back as the greenlet's pending error, raised at its next blocking point, so that
            // a kill is not lost; the lock is not held and `lock` says so.
            detail::hub_impl::current().raise_in(detail::this_thread().current, std::current_exception());
            std::rethrow_exception(error);
        }
        if (!alive) {
            if (error) std::rethrow_exception(error);
            throw std::logic_error(
                "cogent::condition_variable::wait: the mutex was destroyed while the waiter waited to take it back");
        }
        break;
    }
    // lock.unlock() left `lock` pointing at the mutex without owning it; own it again.
    lock = std::unique_lock<mutex>(m, std::adopt_lock);
    if (error) std::rethrow_exception(error);
}

}  // namespace cogent
