// The per-thread state of the greenlet layer: the current greenlet, the main greenlet, the
// list of live greenlets, the stack cache, and greenlets waiting to be killed.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "cogent/detail/greenlet_impl.hpp"
#include "cogent/greenlet.hpp"
#include "greenlet/stack.hpp"

namespace cogent::detail {

// Something on another thread that reads this thread's greenlets while they run: the hub's
// blocked-hub monitor, which names the greenlet holding the hub. It reads a greenlet only under
// `lock`, and only through a pointer that `forget` keeps from naming a dead greenlet. The
// greenlet layer renames this thread's greenlets under `lock`, and calls `forget` under it as a
// greenlet dies (before anything can free it), so the observer never reads a name being written
// or a greenlet that is gone. Switches never look at it; only death and renaming do.
struct greenlet_observer {
    std::mutex lock;
    // `dying` is making its last switch, to `heir`.
    virtual void forget(greenlet_impl* dying, greenlet_impl* heir) noexcept = 0;

protected:
    ~greenlet_observer() = default;
};

// Extends switch_state (current, errno and exception globals, id, needs_attention, tracing),
// which the inline switch in greenlet_impl.hpp reads.
struct thread_state : switch_state {
    thread_state();
    ~thread_state();

    greenlet_impl* main = nullptr;

    // Started greenlets that have not died, newest first: what thread exit kills and what a
    // dump lists.
    greenlet_impl* live_newest = nullptr;
    std::size_t live_count = 0;

    // Suspended greenlets nobody refers to any more, to be killed at the next switch on this thread
    // (needs_attention is set). Both lists are linked through pending_next, so queueing allocates
    // nothing. pending_kills: those that dropped their last handle to themselves while running;
    // only this thread touches it. remote_kills: those whose last handle was dropped on another
    // thread; guarded by the thread registry's mutex.
    greenlet_impl* pending_kills = nullptr;
    greenlet_impl* remote_kills = nullptr;

    greenlet::trace_function trace;

    // Set and cleared on this thread only (see greenlet_observer); null almost always.
    greenlet_observer* observer = nullptr;

    stack_cache stacks;
};

// This thread's state, or nullptr before its first use (or after the thread's end).
inline thread_state* existing_thread_state() noexcept { return static_cast<thread_state*>(tls_switch); }

// This thread's state, made on first use. The pointer read is a plain initial-exec TLS load.
thread_state& make_thread_state();
inline thread_state& this_thread() {
    thread_state* state = existing_thread_state();
    if (state != nullptr) [[likely]] return *state;
    return make_thread_state();
}

void link_live(thread_state& ts, greenlet_impl* g) noexcept;
void unlink_live(thread_state& ts, greenlet_impl* g) noexcept;

// Kills a suspended greenlet from the current one: makes the current greenlet its parent, so
// control comes back here once it has died, and raises greenlet_exit in it. Reports (once per
// greenlet) on stderr if it survives or raises something else.
void kill_from_here(thread_state& ts, greenlet_impl* g) noexcept;

// The name shown in reports: its own, or "greenlet-<id>".
std::string display_name(const greenlet_impl* g);

// Ends a greenlet's locals (in die(), on its own stack, and for a main greenlet at thread exit).
void destroy_locals(greenlet_impl* g) noexcept;
// Frees a greenlet nobody refers to any more; it must not be running or suspended.
void destroy_impl(greenlet_impl* g) noexcept;

// Whether the thread with this id still has its greenlet state (has not ended).
bool thread_alive(std::uint64_t id) noexcept;

// Kills every suspended greenlet of the thread except the current one, newest first, until none
// is left (a dying greenlet's cleanup may make or wake others). Used at thread exit, and by the
// hub before it frees what parked greenlets still point into.
void kill_all_but_current(thread_state& ts) noexcept;

// Queues a greenlet of this thread that nobody refers to, to be killed at the next switch.
void queue_kill(thread_state& ts, greenlet_impl* g) noexcept;

// Kills the greenlets queued in pending kills.
void process_pending_kills(thread_state& ts) noexcept;

// Installs the overflow handler (once per process) and an alternate signal stack for this thread
// (unless it has one). Defined in overflow_guard.cpp.
void install_overflow_guard_for_thread();
void remove_overflow_guard_for_thread() noexcept;

}  // namespace cogent::detail
