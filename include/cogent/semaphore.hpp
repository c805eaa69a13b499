// Counting semaphores: gevent.lock.Semaphore and BoundedSemaphore.
//
//   cogent::semaphore slots(3);              // at most three greenlets inside at once
//   if (slots.acquire(5s)) {
//       ...;
//       slots.release();
//   }
//
// These are single-thread, cooperative primitives built only on cogent::waiter and wait_list:
// no std::mutex, no std::condition_variable, no atomics. A semaphore belongs to the thread whose
// greenlets use it; it is not for synchronising OS threads.
//
// Fairness: permits go to waiters in the order they arrived. release() hands its permit straight
// to the first waiter instead of adding it to the count, so a greenlet that calls acquire() or
// try_acquire() while others wait cannot take the permit first (no barging).
//
// Kills and timeouts: a waiter that is killed, or whose enclosing cogent::timeout scope expires,
// leaves the semaphore as if it had never waited. If a permit had just been handed to it (release
// woke it, and the exception landed before it ran), the permit goes on to the next waiter, or
// back to the count when nobody waits.
//
// Destruction: destroying a semaphore while greenlets wait in acquire() (or have been handed a
// permit and not yet run) makes each of those acquire() calls throw std::logic_error saying the
// semaphore was destroyed; they do not touch it again.
#pragma once

#include <cstddef>

#include "cogent/time.hpp"
#include "cogent/waiter.hpp"

namespace cogent {
namespace detail {

// The engine of semaphore, bounded_semaphore, mutex and recursive_mutex: a count of free permits
// and a FIFO of waiters to which release() hands permits directly. `kind` names the primitive in
// waiter labels (dump_greenlets) and error messages; it must be a string literal.
class permits {
public:
    permits(std::size_t initial, const char* kind) noexcept : count_(initial), kind_(kind) {}
    permits(const permits&) = delete;
    permits& operator=(const permits&) = delete;

    // How a wait for a permit ended.
    enum class outcome { acquired, timed_out, destroyed };

    // Takes a permit, waiting until `deadline` if none is free. A deadline already passed never
    // parks. Throws whatever is raised in the greenlet while it waits (a kill, an expired
    // timeout scope), after passing on a permit it had just been handed. On `destroyed` the
    // permits object no longer exists and must not be touched.
    outcome wait_until(clock::time_point deadline);

    // As wait_until, with `destroyed` turned into std::logic_error. False if the deadline passed.
    bool acquire_until(clock::time_point deadline);

    bool try_acquire() noexcept {
        // While anybody waits the count is zero (release() hands permits to waiters instead of
        // counting them), so a free permit here means nobody is queued ahead of the caller.
        if (count_ == 0) return false;
        --count_;
        return true;
    }

    // Gives `n` permits back: one to each greenlet still waiting, in order, the rest to the count.
    void release(std::size_t n = 1) noexcept;

    std::size_t available() const noexcept { return count_; }
    const char* kind() const noexcept { return kind_; }

private:
    std::size_t count_;
    const char* kind_;
    wait_list waiting_;  // parked in wait_until, in arrival order
    // Handed a permit and not yet resumed. Keeping them listed lets a waiter tell, when it runs,
    // whether this object still exists: its destructor takes them off the list.
    wait_list handed_;
};

}  // namespace detail

class semaphore {
public:
    // `initial` permits are free (gevent's default is one).
    explicit semaphore(std::size_t initial = 1) noexcept : permits_(initial, "semaphore") {}
    semaphore(const semaphore&) = delete;
    semaphore& operator=(const semaphore&) = delete;

    // Takes a permit, waiting up to `timeout` for one; false if the time ran out first. A zero
    // or negative timeout never blocks. Throws std::logic_error if the semaphore is destroyed
    // while the caller waits.
    bool acquire(duration timeout = forever) { return permits_.acquire_until(deadline_after(timeout)); }
    // Takes a free permit if there is one, without blocking.
    bool try_acquire() noexcept { return permits_.try_acquire(); }
    // Gives `count` permits back, each to the first waiter if there is one. Never blocks: the
    // woken waiters run once the caller yields or blocks.
    void release(std::size_t count = 1) noexcept { permits_.release(count); }

    // Free permits (zero while anyone waits).
    std::size_t value() const noexcept { return permits_.available(); }
    // Whether acquire() would block.
    bool locked() const noexcept { return permits_.available() == 0; }

private:
    detail::permits permits_;
};

// A semaphore whose count may never exceed its initial value: releasing more permits than have
// been taken is a bug, reported as std::logic_error instead of silently growing the count.
class bounded_semaphore {
public:
    explicit bounded_semaphore(std::size_t initial = 1) noexcept
        : permits_(initial, "bounded_semaphore"), initial_(initial) {}
    bounded_semaphore(const bounded_semaphore&) = delete;
    bounded_semaphore& operator=(const bounded_semaphore&) = delete;

    bool acquire(duration timeout = forever) { return permits_.acquire_until(deadline_after(timeout)); }
    bool try_acquire() noexcept { return permits_.try_acquire(); }
    // As semaphore::release, but throws std::logic_error ("released too many times"), changing
    // nothing, if fewer than `count` permits are out.
    void release(std::size_t count = 1);

    std::size_t value() const noexcept { return permits_.available(); }
    bool locked() const noexcept { return permits_.available() == 0; }
    std::size_t initial() const noexcept { return initial_; }

private:
    detail::permits permits_;
    std::size_t initial_;
};

}  // namespace cogent
