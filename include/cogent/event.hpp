// A flag greenlets can wait for: gevent.event.Event.
//
//   cogent::event started;
//   auto t = cogent::spawn([&] { ...; started.set(); ... });
//   started.wait();                       // returns once the task has called set()
//
// A single-thread, cooperative primitive built only on cogent::waiter and wait_list: no
// std::mutex, no std::condition_variable, no atomics. Use it from greenlets of one thread.
//
// set() wakes every waiter, and each of their wait() calls returns true even if the event was
// cleared again before they ran (gevent does the same: the flag was set while they waited).
// Waiting hands nothing over, so a waiter that is killed or whose timeout scope expires leaves
// the event as it was.
//
// Destroying an event while greenlets wait on it makes their wait() return false; they do not
// touch it again.
#pragma once

#include "cogent/time.hpp"
#include "cogent/waiter.hpp"

namespace cogent {

class event {
public:
    event() noexcept = default;
    event(const event&) = delete;
    event& operator=(const event&) = delete;

    // Sets the flag and wakes every waiter. They run once the caller yields or blocks.
    void set() noexcept;
    // Clears the flag; later wait() calls block until the next set().
    void clear() noexcept { flag_ = false; }
    bool is_set() const noexcept { return flag_; }

    // Waits up to `timeout` for the flag. Returns at once, without yielding, if it is set. True
    // if it was set, false if the time ran out (or the event was destroyed) first. A zero or
    // negative timeout never blocks.
    bool wait(duration timeout = forever);

private:
    bool flag_ = false;
    wait_list waiting_;
};

}  // namespace cogent
