// The greenlet's side of a thread-pool call: parking until the job comes back, and the
// completion that a worker posts to the caller's hub.
//
// Who touches what. The caller fills in the job (`home`, `waiting`) before queueing it; the pool's
// mutex hands it to a worker. The worker writes the outcome and posts the completion; the hub's
// channel mutex hands the outcome to the caller's hub. `waiting` and `delivered` are read and
// written only in the caller's hub thread (by the caller and by the completion), so they need no
// lock. `phase` is the one field both sides race for: the worker moves it from queued to
// running, or the caller, giving up, from queued to withdrawn; whoever loses knows the other
// won. Everything is shared by reference count, so the side that finishes last frees the job,
// wherever that is.
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "cogent/errors.hpp"
#include "cogent/waiter.hpp"
#include "greenlet/thread_state.hpp"
#include "hub/hub_impl.hpp"
#include "hub/thread_pool_state.hpp"

namespace cogent::detail {
namespace {

// Runs in the caller's hub, posted by the worker that ran the job.
void deliver(thread_job& job) noexcept {
    job.delivered = true;
    if (job.waiting != nullptr) job.waiting->wake(wake_reason::ready);
}

// Moves a job nobody has taken yet to withdrawn; false if a worker already runs (or ran) it.
bool withdraw(thread_job& job) noexcept {
    std::uint8_t expected = thread_job::queued;
    return job.phase.compare_exchange_strong(expected, thread_job::withdrawn, std::memory_order_acq_rel);
}

[[noreturn]] void throw_timed_out(duration timeout, bool withdrawn) {
    double ms = std::chrono::duration<double, std::milli>(timeout).count();
    char text[200];
    if (withdrawn) {
        std::snprintf(text, sizeof text,
                      "cogent: timed out after %g ms waiting for a free worker thread; the call was withdrawn "
                      "and will not run",
                      ms);
    } else {
        std::snprintf(text, sizeof text,
                      "cogent: timed out after %g ms waiting for a call on a worker thread; it runs on there "
                      "and its result will be dropped",
                      ms);
    }
    throw timeout_error(nullptr, text);
}

}  // namespace

void run_taken_job(std::shared_ptr<thread_job> job) noexcept {
    std::uint8_t expected = thread_job::queued;
    if (!job->phase.compare_exchange_strong(expected, thread_job::running, std::memory_order_acq_rel)) {
        return;  // its caller stopped waiting before any worker got to it
    }
    job->execute();
    hub_handle home = job->home;
    try {
        // False when the caller's hub has ended (its thread exited): nobody is left to tell, and
        // the job is freed here.
        home.post([job] { deliver(*job); });
    } catch (...) {
        // Out of memory while queueing the completion: the caller would wait for ever, so say so.
        std::fputs("cogent: a thread-pool call finished but its completion could not be posted to its "
                   "caller's hub (out of memory); the caller will not be woken\n",
                   stderr);
    }
}

void run_job(thread_pool& pool, const std::shared_ptr<thread_job>& job, duration timeout) {
    thread_pool::state& s = *pool.state_;
    if (s.is_own_worker()) {
        job->execute();
        return;
    }
    hub_impl& h = hub_impl::current();
    if (this_thread().current == h.hub_greenlet) {
        throw std::logic_error(
            "cogent::run_in_thread: called from the hub itself (a timer callback or a posted job), which must "
            "never block; spawn a task to wait for the thread pool");
    }
    clock::time_point deadline = deadline_after(timeout);  // the time in the queue counts too
    job->home = this_hub();
    waiter w("run_in_thread");
    keep_alive hold;  // the completion will come back: the hub must not declare it would block forever
    job->waiting = &w;
    struct stop_waiting {
        thread_job& job;
        ~stop_waiting() {
            // Killed, timed out or done: a completion arriving later finds nobody to wake, and a
            // job still queued never runs.
            job.waiting = nullptr;
            if (!job.delivered) withdraw(job);
        }
    } guard{*job};
    s.enqueue(job);
    w.wait_until(deadline);
    // Woken by the completion, or by the deadline. If both came in the same turn of the loop the
    // outcome is here already, and there is no reason to throw it away.
    if (job->delivered) return;
    throw_timed_out(timeout, withdraw(*job));
}

}  // namespace cogent::detail
