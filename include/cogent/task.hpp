// Tasks: gevent's Greenlet. spawn() runs a function in a new greenlet scheduled by the hub; it
// starts once the spawner blocks or yields. A task<T> handle joins it, takes its value or its
// exception, kills it, and links callbacks to its end.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "cogent/detail/task_core.hpp"
#include "cogent/errors.hpp"
#include "cogent/greenlet.hpp"
#include "cogent/time.hpp"

namespace cogent {

// A handle to a task of any result type. Copies refer to the same task. A task runs to its end
// whether or not anybody holds a handle to it.
class basic_task {
public:
    basic_task() noexcept = default;
    basic_task(const basic_task& other) noexcept : core_(other.core_) {
        if (core_ != nullptr) core_->retain();
    }
    basic_task(basic_task&& other) noexcept : core_(std::exchange(other.core_, nullptr)) {}
    basic_task& operator=(basic_task other) noexcept {
        std::swap(core_, other.core_);
        return *this;
    }
    ~basic_task() {
        if (core_ != nullptr) core_->release();
    }

    // It has begun running (and may have finished). A task whose thread ended before it could
    // start never does: it is ready() and killed() instead.
    bool started() const;
    // It has finished, one way or another.
    bool ready() const;
    // It finished without an exception; a task killed with greenlet_exit counts as successful,
    // as in gevent.
    bool successful() const;
    // It ended by greenlet_exit (killed).
    bool killed() const;
    // The exception it ended with; null if it has not finished or succeeded.
    std::exception_ptr exception() const;

    // Waits for it to finish; false if `timeout` passed first.
    bool join(duration timeout = forever) const;

    // Raises `error` (greenlet_exit when null) in it at its next blocking point (after an error
    // already pending there, such as an expired timeout's); if it has not started, it never runs
    // its function and ends with that error. With `block`, waits up to
    // `timeout` for it to finish; returns whether it has.
    bool kill(std::exception_ptr error = nullptr, bool block = true, duration timeout = forever) const;

    // Calls `callback` with this task once it has finished (at once if it has), in a new task,
    // so it may block: on any outcome, on success only, or on an exception only.
    void link(std::function<void(basic_task)> callback) const;
    void link_value(std::function<void(basic_task)> callback) const;
    void link_exception(std::function<void(basic_task)> callback) const;
    // Forgets every callback linked and not yet called.
    void unlink_all() const;

    std::string name() const;
    greenlet thread() const;  // its greenlet; empty once it has finished

    explicit operator bool() const noexcept { return core_ != nullptr; }
    friend bool operator==(const basic_task& a, const basic_task& b) noexcept { return a.core_ == b.core_; }

    // Adopts a reference to `core`.
    explicit basic_task(detail::task_core* core) noexcept : core_(core) {}
    detail::task_core* core() const noexcept { return core_; }

protected:
    detail::task_core& checked() const;
    // Throws std::logic_error if the task belongs to another thread's hub.
    void check_same_thread(const char* operation) const;
    void add_link(detail::link_kind kind, std::function<void(basic_task)> callback) const;

    detail::task_core* core_ = nullptr;
};

// A handle to a task whose function returns T.
template <class T>
class task : public basic_task {
public:
    task() noexcept = default;
    explicit task(detail::task_core* core) noexcept : basic_task(core) {}

    // Waits for it and returns its value (a reference into the task's state, valid while a handle
    // lives), or rethrows its exception. Throws timeout_error if `timeout` passes first, and
    // task_killed if it was killed before producing a value.
    std::add_lvalue_reference_t<T> get(duration timeout = forever) const {
        wait_for_outcome(timeout);
        if constexpr (!std::is_void_v<T>) {
            auto& state = static_cast<detail::task_result<T>&>(*core_);
            return *state.value;
        }
    }

private:
    void wait_for_outcome(duration timeout) const {
        detail::task_core& c = checked();
        if (!join(timeout)) throw timeout_error(nullptr, "cogent: timed out waiting for task '" + name() + "'");
        if (c.error) std::rethrow_exception(c.error);
        if (c.killed) throw task_killed(name());
    }
};

namespace detail {
template <class F, class... A>
using task_value_t = std::decay_t<std::invoke_result_t<std::decay_t<F>, std::decay_t<A>...>>;

template <class F, class... A>
task<task_value_t<F, A...>> make_task(const task_options& options, duration delay, F&& fn, A&&... args) {
    using T = task_value_t<F, A...>;
    auto* state = new task_state<T, std::decay_t<F>, std::decay_t<A>...>(std::forward<F>(fn), std::forward<A>(args)...);
    task<T> handle(state);  // the caller's reference
    launch(state, options, delay);
    return handle;
}
}  // namespace detail

// Starts fn(args...) in a new task; the arguments are moved or copied into it.
template <class F, class... A>
    requires(!std::is_same_v<std::decay_t<F>, task_options>)
auto spawn(F&& fn, A&&... args) {
    return detail::make_task(task_options{}, duration::zero(), std::forward<F>(fn), std::forward<A>(args)...);
}
template <class F, class... A>
auto spawn(const task_options& options, F&& fn, A&&... args) {
    return detail::make_task(options, duration::zero(), std::forward<F>(fn), std::forward<A>(args)...);
}
// Starts fn(args...) in a new task once `delay` has passed.
template <class F, class... A>
auto spawn_later(duration delay, F&& fn, A&&... args) {
    return detail::make_task(task_options{}, delay, std::forward<F>(fn), std::forward<A>(args)...);
}

// Runs fn(args...) as a task and waits for its value: the usual way for main() to enter the
// cooperative world. Rethrows its exception.
template <class F, class... A>
auto run(F&& fn, A&&... args) -> detail::task_value_t<F, A...> {
    auto t = spawn(std::forward<F>(fn), std::forward<A>(args)...);
    if constexpr (std::is_void_v<detail::task_value_t<F, A...>>) {
        t.get();
    } else {
        return std::move(t.get());
    }
}

inline constexpr std::size_t all_tasks = std::numeric_limits<std::size_t>::max();

// Waits until `count` of the tasks (all by default) have finished or `timeout` has passed, and
// returns those that finished, in the order they did. With `raise_error`, rethrows the first
// exception a task ended with, as soon as it is seen.
std::vector<basic_task> joinall(const std::vector<basic_task>& tasks, duration timeout = forever,
                                bool raise_error = false, std::size_t count = all_tasks);
// Kills each task (see basic_task::kill); with `block`, waits up to `timeout` for all of them.
void killall(const std::vector<basic_task>& tasks, std::exception_ptr error = nullptr, bool block = true,
             duration timeout = forever);

// The tasks as they finish (gevent's iwait):
//     for (cogent::basic_task t : cogent::as_completed(tasks)) ...
// Iteration ends when all have finished or `timeout` (counted from construction) has passed.
class as_completed {
public:
    explicit as_completed(std::vector<basic_task> tasks, duration timeout = forever);
    ~as_completed();
    as_completed(const as_completed&) = delete;
    as_completed& operator=(const as_completed&) = delete;

    // The next task to finish; nullopt when none is left or the time is up.
    std::optional<basic_task> next();

    class iterator {
    public:
        using value_type = basic_task;
        using difference_type = std::ptrdiff_t;
        iterator() = default;
        explicit iterator(as_completed* owner) : owner_(owner) { ++*this; }
        const basic_task& operator*() const { return *current_; }
        iterator& operator++() {
            current_ = owner_->next();
            return *this;
        }
        void operator++(int) { ++*this; }
        friend bool operator==(const iterator& it, std::default_sentinel_t) { return !it.current_; }

    private:
        as_completed* owner_ = nullptr;
        std::optional<basic_task> current_;
    };
    iterator begin() { return iterator(this); }
    std::default_sentinel_t end() { return {}; }

private:
    static void on_finished(detail::completion_listener* l, detail::task_core& t) noexcept;

    std::vector<basic_task> tasks_;
    std::unique_ptr<detail::completion_listener[]> listeners_;
    std::vector<std::size_t> finished_;  // indexes into tasks_, in the order they finished
    std::size_t delivered_ = 0;
    clock::time_point deadline_;
    waiter* waiting_ = nullptr;
};

}  // namespace cogent
