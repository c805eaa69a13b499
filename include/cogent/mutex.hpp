// Mutual exclusion between greenlets: cogent::mutex (gevent.lock.Semaphore(1) used as a lock) and
// cogent::recursive_mutex (gevent.lock.RLock).
//
//   cogent::mutex m;
//   {
//       std::lock_guard guard(m);             // or std::unique_lock / std::scoped_lock
//       ...                                   // other greenlets wait in m.lock()
//   }
//
// These are single-thread, cooperative primitives built only on cogent::waiter and wait_list:
// no std::mutex, no std::condition_variable, no atomics. They are for greenlets of one thread; a
// greenlet holds the lock, not the OS thread. They meet the standard BasicLockable, Lockable and
// TimedLockable requirements, so the standard lock wrappers work with them.
//
// Fairness: waiters take the lock in the order they arrived. unlock() hands ownership straight to
// the first waiter, so a greenlet that calls lock() or try_lock() meanwhile queues behind it.
//
// Misuse is reported, not left to hang or corrupt: lock() of a mutex the calling greenlet already
// holds throws std::logic_error (it would deadlock), and unlock() by a greenlet that does not hold
// the lock throws std::logic_error.
//
// Kills and timeouts: a waiter that is killed, or whose enclosing cogent::timeout scope expires,
// never holds the lock; if ownership had just been handed to it, it goes on to the next waiter.
// Destroying a mutex while greenlets wait in lock() makes those calls throw std::logic_error.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "cogent/semaphore.hpp"
#include "cogent/time.hpp"

namespace cogent {

class condition_variable;

namespace detail {
// A deadline on cogent's clock from a time point on any clock.
template <class Clock, class Duration>
clock::time_point to_deadline(const std::chrono::time_point<Clock, Duration>& when) {
    if constexpr (std::is_same_v<Clock, clock>) {
        return std::chrono::ceil<clock::duration>(when);
    } else {
        return deadline_after(std::chrono::ceil<duration>(when - Clock::now()));
    }
}
}  // namespace detail

class mutex {
public:
    mutex() noexcept = default;
    mutex(const mutex&) = delete;
    mutex& operator=(const mutex&) = delete;

    // Waits as long as it takes for the lock. Throws std::logic_error if the calling greenlet
    // already holds it.
    void lock();
    // Takes the lock if it is free and nobody waits for it; never blocks.
    bool try_lock();
    // Waits up to `timeout` for the lock; false if the time ran out. A zero or negative timeout
    // never blocks. Throws std::logic_error if the calling greenlet already holds it.
    bool try_lock_for(duration timeout) { return lock_until(deadline_after(timeout)); }
    template <class Clock, class Duration>
    bool try_lock_until(const std::chrono::time_point<Clock, Duration>& when) {
        return lock_until(detail::to_deadline(when));
    }
    // Releases the lock, handing it to the first waiter. Throws std::logic_error if the calling
    // greenlet does not hold it.
    void unlock();

    // Held by some greenlet (or just handed to a waiter that has not run yet).
    bool locked() const noexcept { return permits_.available() == 0; }
    // Held by the calling greenlet.
    bool held_by_current() const;
    // The cogent::greenlet::id() of the holder; 0 when nobody holds it.
    std::uint64_t owner_id() const noexcept { return owner_; }

private:
    friend class condition_variable;
    bool lock_until(clock::time_point deadline);
    // For condition_variable, which must get the lock back after a wait: waits as long as it
    // takes, and returns false (touching nothing) if the mutex was destroyed meanwhile.
    bool relock_after_wait();

    detail::permits permits_{1, "mutex"};
    std::uint64_t owner_ = 0;
};

// A mutex its holder may lock again; it is released when unlock() has been called as many times
// as lock(). Same fairness, kill and destruction rules as cogent::mutex.
class recursive_mutex {
public:
    recursive_mutex() noexcept = default;
    recursive_mutex(const recursive_mutex&) = delete;
    recursive_mutex& operator=(const recursive_mutex&) = delete;

    void lock();
    bool try_lock();
    bool try_lock_for(duration timeout) { return lock_until(deadline_after(timeout)); }
    template <class Clock, class Duration>
    bool try_lock_until(const std::chrono::time_point<Clock, Duration>& when) {
        return lock_until(detail::to_deadline(when));
    }
    // Undoes one lock(); the last one hands the lock to the first waiter. Throws
    // std::logic_error if the calling greenlet does not hold it.
    void unlock();

    bool locked() const noexcept { return permits_.available() == 0; }
    bool held_by_current() const;
    std::uint64_t owner_id() const noexcept { return owner_; }
    // How many times the holder has locked it and not yet unlocked it; 0 when nobody holds it.
    std::size_t count() const noexcept { return count_; }

private:
    bool lock_until(clock::time_point deadline);

    detail::permits permits_{1, "recursive_mutex"};
    std::uint64_t owner_ = 0;
    std::size_t count_ = 0;
};

}  // namespace cogent
