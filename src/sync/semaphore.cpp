// Permits with direct handoff: the engine behind semaphores and mutexes.
#include "cogent/semaphore.hpp"

#include <stdexcept>
#include <string>

namespace cogent {
namespace detail {

permits::outcome permits::wait_until(clock::time_point deadline) {
    if (try_acquire()) return outcome::acquired;
    if (deadline != clock::time_point::max() && deadline <= clock::now()) return outcome::timed_out;

    waiter w(kind_);
    // Taken now: once this object may have been destroyed, even naming its members is wrong.
    wait_list* const handed = &handed_;
    waiting_.push_back(w);
    wake_reason reason;
    try {
        reason = w.wait_until(deadline);
    } catch (...) {
        // A kill or an expired timeout scope. If release() had just handed us a permit, nobody
        // holds it now: pass it on so that it is not lost. Being off `handed` means the object
        // was destroyed in between, and there is nothing left to give it back to.
        if (w.reason() == wake_reason::ready && w.list() == handed) {
            handed->remove(w);
            release();
        }
        throw;
    }
    switch (reason) {
        case wake_reason::ready:
            // Woken by release(), which left us on `handed`; the destructor of w takes us off.
            return w.list() == handed ? outcome::acquired : outcome::destroyed;
        case wake_reason::closed:
            return outcome::destroyed;
        default:
            // timed_out, or `cancelled` whose exception was withdrawn before we ran (a timeout
            // scope cancelled by another greenlet): no permit came, so report it like a timeout.
            // If we were still queued, w's destructor takes us off the list.
            return outcome::timed_out;
    }
}

bool permits::acquire_until(clock::time_point deadline) {
    const char* kind = kind_;  // for the message, should the object be gone
    switch (wait_until(deadline)) {
        case outcome::acquired: return true;
        case outcome::timed_out: return false;
        case outcome::destroyed: break;
    }
    throw std::logic_error(std::string("cogent::") + kind + " was destroyed while a greenlet waited for it");
}

void permits::release(std::size_t n) noexcept {
    // Waiters already woken another way (their deadline passed, an exception was raised in them)
    // are still listed until they run; wake() refuses them, and we try the next one.
    while (n > 0) {
        waiter* w = waiting_.pop_front();
        if (w == nullptr) break;
        if (w->wake(wake_reason::ready)) {
            handed_.push_back(*w);
            --n;
        }
    }
    count_ += n;
}

}  // namespace detail

void bounded_semaphore::release(std::size_t count) {
    std::size_t out = initial_ - permits_.available();
    if (count > out) {
        throw std::logic_error("cogent::bounded_semaphore released too many times: " + std::to_string(count) +
                               " released with " + std::to_string(out) + " of " + std::to_string(initial_) +
                               " permits taken");
    }
    permits_.release(count);
}

}  // namespace cogent
