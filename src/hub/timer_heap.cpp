#include "hub/timer_heap.hpp"

#include <algorithm>

namespace cogent::detail {

void timer_heap::arm(timer_node& t, clock::time_point when) {
    disarm(t);
    // Growing is the only step that can throw, so it comes before any change. Geometrically:
    // reserve(size + 1) allocates exactly that in libstdc++, which made every insert past the
    // capacity copy the whole heap (a million timers took minutes).
    if (heap_.size() == heap_.capacity()) heap_.reserve(std::max<std::size_t>(64, 2 * heap_.capacity()));
    t.when = when;
    t.sequence = next_sequence_++;
    heap_.push_back(&t);
    t.heap_index = heap_.size() - 1;
    sift_up(t.heap_index);
}

void timer_heap::remove(timer_node& t) noexcept {
    std::size_t i = t.heap_index;
    t.heap_index = timer_node::not_armed;
    timer_node* last = heap_.back();
    heap_.pop_back();
    if (last == &t) return;
    place(i, last);
    if (i > 0 && earlier(last, heap_[(i - 1) / 2])) {
        sift_up(i);
    } else {
        sift_down(i);
    }
}

timer_node* timer_heap::pop() noexcept {
    timer_node* t = heap_.front();
    disarm(*t);
    return t;
}

void timer_heap::sift_up(std::size_t i) noexcept {
    timer_node* t = heap_[i];
    while (i > 0) {
        std::size_t parent = (i - 1) / 2;
        if (!earlier(t, heap_[parent])) break;
        place(i, heap_[parent]);
        i = parent;
    }
    place(i, t);
}

void timer_heap::sift_down(std::size_t i) noexcept {
    timer_node* t = heap_[i];
    std::size_t n = heap_.size();
    for (;;) {
        std::size_t child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && earlier(heap_[child + 1], heap_[child])) ++child;
        if (!earlier(heap_[child], t)) break;
        place(i, heap_[child]);
        i = child;
    }
    place(i, t);
}

}  // namespace cogent::detail
