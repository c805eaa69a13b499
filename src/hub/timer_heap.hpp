// The hub's timers: a binary min-heap of intrusive nodes ordered by (deadline, sequence), each
// node knowing its index so that cancelling is O(log n) and allocates nothing beyond the heap's
// own array.
#pragma once

#include <cstdint>
#include <vector>

#include "cogent/detail/hub_core.hpp"

namespace cogent::detail {

class timer_heap {
public:
    bool empty() const noexcept { return heap_.empty(); }
    std::size_t size() const noexcept { return heap_.size(); }
    timer_node* top() const noexcept { return heap_.front(); }

    // Arms `t` for `when`; re-arms it if it was armed.
    void arm(timer_node& t, clock::time_point when);
    // Disarms `t` if it is armed. Inline, because every wait ends by calling it and most waits
    // never armed a timer: the common case is one predictable branch, not a call.
    void disarm(timer_node& t) noexcept {
        if (t.armed()) remove(t);
    }
    // Removes and returns the earliest timer.
    timer_node* pop() noexcept;

    template <class F>
    void for_each(F&& f) const {
        for (timer_node* t : heap_) f(t);
    }

private:
    static bool earlier(const timer_node* a, const timer_node* b) noexcept {
        return a->when < b->when || (a->when == b->when && a->sequence < b->sequence);
    }
    void place(std::size_t i, timer_node* t) noexcept {
        heap_[i] = t;
        t->heap_index = i;
    }
    void remove(timer_node& t) noexcept;
    void sift_up(std::size_t i) noexcept;
    void sift_down(std::size_t i) noexcept;

    std::vector<timer_node*> heap_;
    std::uint64_t next_sequence_ = 0;
};

}  // namespace cogent::detail
