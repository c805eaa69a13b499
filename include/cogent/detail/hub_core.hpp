// The part of a thread's hub that the inline paths (yield, waking, parking) touch. Not a public
// interface; the rest of the hub lives in src/hub/hub_impl.hpp.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <typeinfo>

#include "cogent/detail/greenlet_impl.hpp"
#include "cogent/time.hpp"

namespace cogent::detail {

// A greenlet that is ready to run, as a node of the run queue. It lives inside whatever made the
// greenlet ready (a waiter, a task not yet started), so queueing allocates nothing.
struct run_node {
    run_node* prev = nullptr;
    run_node* next = nullptr;
    greenlet_impl* greenlet = nullptr;
    void* owner = nullptr;  // what the node belongs to, for `abandon`
    // Called instead of running it if the hub ends while it is queued (a task that never started
    // must still release what it holds). Null: nothing to do.
    void (*abandon)(run_node*) noexcept = nullptr;
    bool queued() const noexcept { return next != nullptr; }
};

// The hub's FIFO of ready greenlets: intrusive, doubly linked so that a greenlet killed while it
// is queued can leave in O(1).
class run_queue {
public:
    run_queue() noexcept { head_.prev = head_.next = &head_; }
    run_queue(const run_queue&) = delete;
    run_queue& operator=(const run_queue&) = delete;

    bool empty() const noexcept { return head_.next == &head_; }
    std::size_t size() const noexcept { return size_; }
    void push_back(run_node* n) noexcept {
        n->prev = head_.prev;
        n->next = &head_;
        head_.prev->next = n;
        head_.prev = n;
        ++size_;
    }
    run_node* pop_front() noexcept {
        run_node* n = head_.next;
        remove(n);
        return n;
    }
    void remove(run_node* n) noexcept {
        n->prev->next = n->next;
        n->next->prev = n->prev;
        n->prev = n->next = nullptr;
        --size_;
    }
    template <class F>
    void for_each(F&& f) const {
        for (run_node* n = head_.next; n != &head_; n = n->next) f(n);
    }

private:
    run_node head_;
    std::size_t size_ = 0;
};

// A deadline in the hub's timer heap. `fire` runs in the hub when it passes.
struct timer_node {
    static constexpr std::size_t not_armed = std::numeric_limits<std::size_t>::max();
    clock::time_point when{};
    std::uint64_t sequence = 0;  // equal deadlines fire in the order they were set
    std::size_t heap_index = not_armed;
    void (*fire)(timer_node*) = nullptr;
    void* owner = nullptr;
    // Called instead of `fire` if the hub ends while it is armed. Null: nothing to do.
    void (*abandon)(timer_node*) noexcept = nullptr;
    bool armed() const noexcept { return heap_index != not_armed; }
};

// An error for a greenlet that already has one pending (a kill arriving while a timeout's error
// waits to be raised, nested timeout scopes expiring together): it is raised after that one, at
// the greenlet's next blocking point, instead of being dropped. Lives in what raised it (a
// timeout scope, a task), which withdraws it when it no longer applies.
struct deferred_error {
    deferred_error* prev = nullptr;
    deferred_error* next = nullptr;
    greenlet_impl* target = nullptr;  // non-null while queued
    std::exception_ptr error;
    bool queued() const noexcept { return target != nullptr; }
};

struct hub_core {
    greenlet_impl* hub_greenlet = nullptr;
    run_queue ready;
    // How many more times greenlets may hand control straight to the next ready one before the
    // hub must run again (to read the clock and poll for I/O). Refilled by the hub.
    int handoff_budget = 0;
    // For the blocked-hub monitor, which reads them from its own thread: which greenlet was
    // last given control, and how many times control has been given.
    std::atomic<greenlet_impl*> running{nullptr};
    std::atomic<std::uint64_t> resumptions{0};
};

// This thread's hub, or nullptr before its first use.
extern thread_local constinit hub_core* tls_hub __attribute__((tls_model("initial-exec")));

// Switches to `target`, which is suspended waiting for nothing in particular (a parked greenlet,
// the hub, or an unstarted task), and returns when something switches back.
[[gnu::always_inline]] inline void resume(hub_core* h, greenlet_impl* target) {
    h->running.store(target, std::memory_order_relaxed);
    h->resumptions.store(h->resumptions.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    message out;
    message* in = switch_fast<false>(target, out, typeid(void), nullptr);
    receive<void>(in);
}

// Gives up the processor: to the next ready greenlet if the budget allows (one switch, without
// a detour through the hub), else to the hub. The caller has arranged to be woken, or has put
// itself on the run queue.
[[gnu::always_inline]] inline void switch_away(hub_core* h, greenlet_impl* self) {
    greenlet_impl* target = h->hub_greenlet;
    if (h->handoff_budget > 0 && !h->ready.empty()) {
        --h->handoff_budget;
        target = h->ready.pop_front()->greenlet;
        if (target == self) return;  // it was the only one ready
    }
    resume(h, target);
}

}  // namespace cogent::detail
