// Condition variables for greenlets, used with cogent::mutex (gevent's threading.Condition over a
// gevent lock, with the std::condition_variable interface).
//
//   std::unique_lock lock(m);
//   ready.wait(lock, [&] { return !jobs.empty(); });
//
// A single-thread, cooperative primitive built only on cogent::waiter and wait_list: no
// std::mutex and no std::condition_variable (<mutex> is included for std::unique_lock only).
//
// Notifications go to waiters in the order they began to wait. A notification is not lost when
// its waiter is killed, or its timeout scope expires, before it runs: it passes to the next
// waiter. As with std::condition_variable, a waiter may wake spuriously; use the predicate forms.
//
// The lock is held again whenever wait returns or throws, even when it throws because the
// greenlet was killed or an enclosing cogent::timeout expired: waiting for the mutex again cannot
// be cut short by that same exception. One case cannot keep that promise: if a *second* exception
// is raised in the greenlet while it waits to get the mutex back (say a kill arrives after its
// timeout scope expired), it stops waiting and throws the first exception without the lock
// (lock.owns_lock() is then false, so the unique_lock will not unlock what it does not hold), and
// the second is raised again at the greenlet's next blocking point, so that it is not lost.
//
// Destroying a condition_variable while greenlets wait on it (and have not been notified) makes
// their wait throw std::logic_error, after they have taken the lock back. Destroying it once all
// waiters have been notified is fine, as with std::condition_variable.
#pragma once

#include <chrono>
#include <condition_variable>  // std::cv_status
#include <exception>
#include <mutex>  // std::unique_lock
#include <utility>

#include "cogent/mutex.hpp"
#include "cogent/time.hpp"
#include "cogent/waiter.hpp"

namespace cogent {

class condition_variable {
public:
    condition_variable() noexcept = default;
    condition_variable(const condition_variable&) = delete;
    condition_variable& operator=(const condition_variable&) = delete;

    // Wakes the first waiter, or every waiter. Never blocks: they run once the caller yields or
    // blocks, each after taking the mutex back.
    void notify_one() noexcept;
    void notify_all() noexcept;

    // Releases the lock, waits for a notification, and takes the lock back. `lock` must hold its
    // mutex, held by the calling greenlet (std::logic_error otherwise).
    void wait(std::unique_lock<mutex>& lock) { wait_until(lock, clock::time_point::max()); }
    template <class Predicate>
    void wait(std::unique_lock<mutex>& lock, Predicate pred) {
        while (!pred()) wait(lock);
    }

    // As wait, giving up after `timeout`: cv_status::timeout if the time ran out. A timeout of
    // zero or less returns cv_status::timeout at once, without releasing the lock.
    std::cv_status wait_for(std::unique_lock<mutex>& lock, duration timeout) {
        return wait_until(lock, deadline_after(timeout));
    }
    // Waits until pred() holds or `timeout` has passed; returns pred() (false: timed out).
    template <class Predicate>
    bool wait_for(std::unique_lock<mutex>& lock, duration timeout, Predicate pred) {
        return wait_until(lock, deadline_after(timeout), std::move(pred));
    }

    std::cv_status wait_until(std::unique_lock<mutex>& lock, clock::time_point deadline);
    template <class Predicate>
    bool wait_until(std::unique_lock<mutex>& lock, clock::time_point deadline, Predicate pred) {
        while (!pred()) {
            if (wait_until(lock, deadline) == std::cv_status::timeout) return pred();
        }
        return true;
    }

private:
    // Takes the lock back after a wait that threw `error` (null if it did not), then rethrows it.
    static void reacquire(std::unique_lock<mutex>& lock, std::exception_ptr error);

    wait_list waiting_;  // not yet notified, in the order they began to wait
    // Notified and not yet resumed. Keeping them listed lets a waiter tell, when it runs, whether
    // this object still exists (its destructor takes them off), so that a killed waiter passes
    // its notification on only to a live condition_variable.
    wait_list notified_;
};

}  // namespace cogent
