// The shared state behind task handles. Not a public interface.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "cogent/detail/hub_core.hpp"
#include "cogent/greenlet.hpp"
#include "cogent/time.hpp"
#include "cogent/waiter.hpp"

namespace cogent {
class basic_task;
struct task_options {
    std::string name;            // empty: "greenlet-<id>"
    std::size_t stack_size = 0;  // 0: the default
};
}  // namespace cogent

namespace cogent::detail {

class task_core;

// Told once when a task finishes, synchronously, in the finishing task: joinall, as_completed,
// groups and pools use it. Must not block. Leaves the task's list by itself when destroyed.
struct completion_listener {
    completion_listener() = default;
    completion_listener(const completion_listener&) = delete;
    completion_listener& operator=(const completion_listener&) = delete;
    ~completion_listener() { detach(); }
    void attach(task_core& t) noexcept;
    void detach() noexcept;

    void (*notify)(completion_listener* self, task_core& finished) noexcept = nullptr;
    void* owner = nullptr;
    task_core* attached = nullptr;
    completion_listener* prev = nullptr;
    completion_listener* next = nullptr;
};

enum class link_kind : std::uint8_t { any, value, exception };

class task_core {
public:
    enum class phase : std::uint8_t { scheduled, running, finished };

    task_core() noexcept;
    virtual ~task_core();
    task_core(const task_core&) = delete;
    task_core& operator=(const task_core&) = delete;

    void retain() noexcept { references.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (references.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }

    // The task's greenlet body: runs the function unless killed first, records the outcome,
    // reports an exception, and tells joiners, listeners and links.
    void run() noexcept;
    // Ends a task that never started because its thread's hub ended first.
    void abandon() noexcept;

    std::atomic<std::size_t> references{1};
    greenlet thread;  // its greenlet; released once it has finished
    std::string name;  // as given at spawn (or to its greenlet while it ran)
    std::uint64_t id = 0;  // its greenlet's id, which names it when it has no name
    phase state = phase::scheduled;
    bool ran = false;     // its greenlet began (a task ended by its thread's end never does)
    bool killed = false;  // ended by greenlet_exit
    std::exception_ptr error;
    std::exception_ptr kill_before_start;
    deferred_error deferred_kill;  // a kill that came while another error was pending in it
    run_node start_node;
    timer_node start_timer;
    wait_list joiners;
    completion_listener* listeners = nullptr;
    std::vector<std::pair<link_kind, std::function<void(basic_task)>>> links;

protected:
    virtual void invoke() = 0;
    virtual void drop_function() noexcept = 0;

private:
    void finish() noexcept;
};

template <class T>
class task_result : public task_core {
public:
    std::optional<T> value;
};
template <>
class task_result<void> : public task_core {};

template <class T, class F, class... A>
class task_state final : public task_result<T> {
public:
    template <class G, class... B>
    explicit task_state(G&& fn, B&&... args) : call_(std::in_place, std::forward<G>(fn), std::forward<B>(args)...) {}

private:
    void invoke() override {
        auto apply = [](F& fn, A&... args) -> decltype(auto) { return std::invoke(std::move(fn), std::move(args)...); };
        if constexpr (std::is_void_v<T>) {
            std::apply(apply, *call_);
        } else {
            this->value.emplace(std::apply(apply, *call_));
        }
    }
    void drop_function() noexcept override { call_.reset(); }

    std::optional<std::tuple<F, A...>> call_;
};

// Gives `t` its greenlet (a child of the hub) and queues it to start, now or after `delay`.
// Takes over the caller's reference on failure only by releasing it.
void launch(task_core* t, const task_options& options, duration delay);

}  // namespace cogent::detail
