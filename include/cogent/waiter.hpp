// The one park/wake primitive. Every blocking operation in cogent (sleep, fd readiness, locks,
// queues, joins) parks the current greenlet on a waiter with a deadline and is woken with an
// explicit reason. A waiter lives in the parked greenlet's frame; queueing it allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cogent/detail/hub_core.hpp"
#include "cogent/time.hpp"

namespace cogent {
namespace detail {
class hub_impl;
}

// Why a parked greenlet runs again.
enum class wake_reason : std::uint8_t {
    none,       // not woken (yet)
    ready,      // what it waited for happened
    timed_out,  // its deadline passed first
    cancelled,  // an exception (a kill, an enclosing timeout) is about to be raised in it
    closed,     // what it waited on was closed or destroyed
};
const char* to_string(wake_reason reason) noexcept;

class wait_list;

// Parks one greenlet. Made by the greenlet that will wait on it; anyone on the same thread may
// wake it. A waiter can be woken once per wait.
class waiter {
public:
    // A waiter for the current greenlet. `what` says what it waits for (for dump_greenlets); it
    // must outlive the waiter (a string literal, typically).
    explicit waiter(const char* what = "waiter") noexcept;
    ~waiter();
    waiter(const waiter&) = delete;
    waiter& operator=(const waiter&) = delete;

    // Parks the current greenlet until woken or until `timeout` has passed, and says why it runs
    // again. If an exception is pending for this greenlet (it was killed, or a `timeout` scope
    // around it expired), it is raised instead, when the greenlet is resumed: the caller then
    // looks at reason() in its handler to undo what a wake may have handed it.
    wake_reason wait(duration timeout = forever);
    wake_reason wait_until(clock::time_point deadline);

    // Makes the parked greenlet ready to run. False if it was already woken (the first reason
    // wins). Must be called on the waiter's thread; from another thread, post to its hub.
    bool wake(wake_reason reason = wake_reason::ready) noexcept;

    wake_reason reason() const noexcept { return reason_; }
    bool woken() const noexcept { return reason_ != wake_reason::none; }
    bool waiting() const noexcept { return waiting_; }
    const char* what() const noexcept { return what_; }
    void set_what(const char* what) noexcept { what_ = what; }
    detail::greenlet_impl* greenlet() const noexcept { return node_.greenlet; }
    // When the current wait times out; clock::time_point::max() if it has no deadline armed.
    clock::time_point deadline() const noexcept { return timer_.armed() ? timer_.when : clock::time_point::max(); }

    // Whether it is on a wait_list, and which.
    wait_list* list() const noexcept { return list_; }

private:
    friend class wait_list;
    friend class detail::hub_impl;
    static void on_deadline(detail::timer_node* timer) noexcept;

    detail::run_node node_;
    detail::timer_node timer_;
    detail::hub_core* hub_ = nullptr;
    const char* what_;
    wake_reason reason_ = wake_reason::none;
    bool waiting_ = false;
    waiter* list_prev_ = nullptr;
    waiter* list_next_ = nullptr;
    wait_list* list_ = nullptr;
};

// A FIFO of waiters, for the primitives built on them. A waiter leaves its list when it is
// destroyed, so a killed or timed-out waiter never leaves a dangling entry.
class wait_list {
public:
    wait_list() noexcept = default;
    ~wait_list();  // wakes whoever is still on it with wake_reason::closed
    wait_list(const wait_list&) = delete;
    wait_list& operator=(const wait_list&) = delete;

    bool empty() const noexcept { return first_ == nullptr; }
    std::size_t size() const noexcept { return size_; }
    waiter* front() const noexcept { return first_; }

    void push_back(waiter& w) noexcept;
    void push_front(waiter& w) noexcept;
    void remove(waiter& w) noexcept;
    waiter* pop_front() noexcept;

    // Takes the first waiter off and wakes it; false if there was none.
    bool wake_one(wake_reason reason = wake_reason::ready) noexcept;
    // Takes every waiter off and wakes each; returns how many.
    std::size_t wake_all(wake_reason reason = wake_reason::ready) noexcept;

    template <class F>
    void for_each(F&& f) const {
        for (waiter* w = first_; w != nullptr; w = w->list_next_) f(*w);
    }

private:
    waiter* first_ = nullptr;
    waiter* last_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace cogent
