// Running blocking code on other threads: gevent's hub.threadpool.
//
//   std::string text = cogent::run_in_thread([path] { return read_whole_file(path); });
//   auto rows = cogent::run_in_thread(2s, [query] { return legacy_db.run(query); });  // deadline
//
// The calling greenlet parks until a worker thread has run the call; its hub meanwhile runs every
// other greenlet. The call's value comes back to the caller, or its exception is rethrown there.
// While a call is out, the caller's hub counts it as work that will come back (as keep_alive
// does), so nobody is told that waiting for it would block forever.
//
// Deadlines. The overloads taking a `timeout` throw timeout_error when it passes first. A call
// that has not started by then is withdrawn and never runs. One that has started cannot be
// stopped: it runs to its end on its worker and its value (or exception) is dropped there or in
// the caller's hub. The same holds when the caller is killed while it waits. So the callable
// and its arguments must own what they use: capture and pass by value, not references into the
// caller's stack, unless the caller waits without a deadline and cannot be killed.
//
// Who may call. Any greenlet, the thread's main greenlet included, on any thread: like every
// blocking call in cogent it starts the thread's hub if need be and parks the caller. Two
// exceptions: the hub itself (a timer callback or a posted job) must never block, so calling
// from there throws std::logic_error (spawn a task to wait instead); and a call made from one of
// the pool's own workers runs at once on that worker (as gevent does), since waiting there for
// another worker of the same pool could deadlock a full pool.
//
// The callable runs on a plain thread with no hub of its own. It may use cogent there (it then
// gets a hub on that worker), but it cannot switch to or wake the caller's greenlets: post to
// their hub (this_hub() taken before) for that.
#pragma once

#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include "cogent/hub.hpp"
#include "cogent/time.hpp"

namespace cogent {

class thread_pool;
class waiter;

namespace detail {

// A call handed to a worker thread. It is shared by the greenlet that waits for it, the pool's
// queue and the completion posted back to the waiter's hub; whichever lets go last frees it, so
// a caller that has stopped waiting (timed out, killed) leaves nothing for a late completion to
// trip on.
class thread_job {
public:
    thread_job() = default;
    virtual ~thread_job() = default;
    thread_job(const thread_job&) = delete;
    thread_job& operator=(const thread_job&) = delete;

    // Runs the call on the calling thread and records its outcome; then drops the callable.
    virtual void execute() noexcept = 0;

    // What the call threw; set by execute().
    std::exception_ptr error;

    // The rest is thread_pool.cpp's; see there. `phase` moves once, from queued to running (a
    // worker took it) or to withdrawn (its caller stopped waiting first).
    enum : std::uint8_t { queued, running, withdrawn };
    std::atomic<std::uint8_t> phase{queued};
    hub_handle home;            // the caller's hub, where the completion is posted
    waiter* waiting = nullptr;  // the caller's waiter while it waits; touched in that hub only
    bool delivered = false;     // the completion has run; touched in that hub only
};

// Hands `job` to `pool` and parks the calling greenlet until the job has run; then the caller
// reads the outcome from `job`. Throws timeout_error if `timeout` passes first, whatever is
// raised in the caller while it waits (a kill, an enclosing timeout), and std::logic_error when
// called from the hub itself. Runs the job at once when called from one of `pool`'s workers.
void run_job(thread_pool& pool, const std::shared_ptr<thread_job>& job, duration timeout);

template <class R, class F, class... A>
class thread_call final : public thread_job {
public:
    template <class G, class... B>
    explicit thread_call(G&& fn, B&&... args)
        : call_(std::in_place, std::forward<G>(fn), std::forward<B>(args)...) {}

    void execute() noexcept override {
        auto apply = [](F& fn, A&... args) -> decltype(auto) { return std::invoke(std::move(fn), std::move(args)...); };
        try {
            if constexpr (std::is_void_v<R>) {
                std::apply(apply, *call_);
            } else {
                value.emplace(std::apply(apply, *call_));
            }
        } catch (...) {
            error = std::current_exception();
        }
        // What the callable held goes now, on the worker, rather than whenever the last owner of
        // the job lets go.
        call_.reset();
    }

    std::optional<std::conditional_t<std::is_void_v<R>, std::monostate, R>> value;

private:
    std::optional<std::tuple<F, A...>> call_;
};

template <class F, class... A>
using thread_result_t = std::decay_t<std::invoke_result_t<std::decay_t<F>, std::decay_t<A>...>>;

template <class F, class... A>
concept thread_callable = std::invocable<std::decay_t<F>, std::decay_t<A>...>;

template <class F, class... A>
thread_result_t<F, A...> submit_to(thread_pool& pool, duration timeout, F&& fn, A&&... args) {
    using R = thread_result_t<F, A...>;
    auto job = std::make_shared<thread_call<R, std::decay_t<F>, std::decay_t<A>...>>(std::forward<F>(fn),
                                                                                     std::forward<A>(args)...);
    run_job(pool, job, timeout);
    if (job->error) std::rethrow_exception(job->error);
    if constexpr (!std::is_void_v<R>) return std::move(*job->value);
}

}  // namespace detail

// A bounded set of worker threads. Workers start as jobs need them, up to `size`; further jobs
// wait in a FIFO queue for a free worker. Idle workers stay until the pool is destroyed.
class thread_pool {
public:
    static constexpr std::size_t default_size = 10;  // as gevent's hub.threadpool

    // Throws std::invalid_argument for a size of 0.
    explicit thread_pool(std::size_t size = default_size);
    // Runs every job already queued, then joins the workers. It blocks the calling thread (not
    // just its greenlet) until then, so it must not be run by one of this pool's own jobs.
    // Greenlets still waiting for jobs of this pool get their results as usual.
    ~thread_pool();
    thread_pool(const thread_pool&) = delete;
    thread_pool& operator=(const thread_pool&) = delete;

    // Runs fn(args...) on a worker (the arguments are moved or copied into the job) and parks the
    // calling greenlet until it is done: see the top of this header.
    template <class F, class... A>
        requires detail::thread_callable<F, A...>
    detail::thread_result_t<F, A...> submit(F&& fn, A&&... args) {
        return detail::submit_to(*this, forever, std::forward<F>(fn), std::forward<A>(args)...);
    }
    // The same, throwing timeout_error if `timeout` passes first.
    template <class F, class... A>
        requires detail::thread_callable<F, A...>
    detail::thread_result_t<F, A...> submit(duration timeout, F&& fn, A&&... args) {
        return detail::submit_to(*this, timeout, std::forward<F>(fn), std::forward<A>(args)...);
    }

    // The most workers it will run at once.
    std::size_t size() const noexcept;
    // Workers started so far.
    std::size_t threads() const;
    // Jobs waiting for a free worker (withdrawn ones included until a worker discards them).
    std::size_t queued() const;

    struct state;  // internal

private:
    friend void detail::run_job(thread_pool&, const std::shared_ptr<detail::thread_job>&, duration);
    std::unique_ptr<state> state_;
};

// The process's shared pool, of thread_pool::default_size workers, made on first use. It is never
// destroyed: its idle workers end with the process, and a call still running at exit is cut off
// as any thread is.
thread_pool& default_thread_pool();

// fn(args...) on a worker of the default pool; see the top of this header.
template <class F, class... A>
    requires detail::thread_callable<F, A...>
detail::thread_result_t<F, A...> run_in_thread(F&& fn, A&&... args) {
    return default_thread_pool().submit(std::forward<F>(fn), std::forward<A>(args)...);
}
// The same, throwing timeout_error if `timeout` passes first.
template <class F, class... A>
    requires detail::thread_callable<F, A...>
detail::thread_result_t<F, A...> run_in_thread(duration timeout, F&& fn, A&&... args) {
    return default_thread_pool().submit(timeout, std::forward<F>(fn), std::forward<A>(args)...);
}

}  // namespace cogent
