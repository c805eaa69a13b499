// Queues between greenlets: gevent.queue's Queue, LifoQueue, PriorityQueue and JoinableQueue.
//
//   cogent::queue<job> jobs(100);              // holds at most 100; 0 (the default): no limit
//   cogent::spawn([&] { for (;;) handle(jobs.get()); });
//   jobs.put(next_job());                      // waits while the queue is full
//
// Operations (all kinds; detail/queue_core.hpp has the full contract):
//   put(item, timeout = forever)     waits while full; queue_full if the timeout passes
//   put_nowait(item), try_put(item&, timeout = 0) -> bool (leaves the item alone on false)
//   get(timeout = forever)           waits while empty; queue_empty if the timeout passes
//   get_nowait(), try_get(timeout = 0) -> std::optional<T>
//   peek(timeout = forever), peek_nowait()   the next item, not removed
//   size(), empty(), full(), maxsize(), getters_waiting(), putters_waiting()
//   close(): put throws queue_closed from then on; get takes what is left, then throws it; every
//            parked call is woken and throws it.
//
// Parked getters are served in the order they came, and a put hands its item straight to the
// first of them, as a get moves the first parked putter's item in: nobody barges. A call that is
// killed or whose timeout scope expires leaves the queue consistent (nothing lost or duplicated).
//
// These are cooperative primitives for the greenlets of one thread: no locks, no atomics. T may
// be move-only.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "cogent/detail/queue_core.hpp"
#include "cogent/time.hpp"
#include "cogent/waiter.hpp"

namespace cogent {
namespace detail {

// Last in, first out.
template <class T>
class lifo_items {
public:
    std::size_t size() const noexcept { return items_.size(); }
    bool empty() const noexcept { return items_.empty(); }
    void push(T&& item) { items_.push_back(std::move(item)); }
    void restore(T&& item) { items_.push_back(std::move(item)); }  // the top is the next taken
    const T& next() const noexcept { return items_.back(); }
    T take() {
        T item(std::move(items_.back()));
        items_.pop_back();
        return item;
    }

private:
    std::vector<T> items_;
};

// A binary heap: the greatest item under `Compare` first, as std::priority_queue.
template <class T, class Compare>
class heap_items {
public:
    explicit heap_items(Compare compare = Compare()) : compare_(std::move(compare)) {}
    std::size_t size() const noexcept { return heap_.size(); }
    bool empty() const noexcept { return heap_.empty(); }
    void push(T&& item) {
        heap_.push_back(std::move(item));
        std::push_heap(heap_.begin(), heap_.end(), compare_);
    }
    void restore(T&& item) { push(std::move(item)); }  // it regains its place by priority
    const T& next() const noexcept { return heap_.front(); }
    T take() {
        std::pop_heap(heap_.begin(), heap_.end(), compare_);
        T item(std::move(heap_.back()));
        heap_.pop_back();
        return item;
    }

private:
    std::vector<T> heap_;
    [[no_unique_address]] Compare compare_;
};

}  // namespace detail

// First in, first out (gevent's Queue). maxsize 0: unbounded.
template <class T>
class queue : public detail::queue_core<T, detail::fifo_items<T>> {
public:
    explicit queue(std::size_t maxsize = 0)
        : detail::queue_core<T, detail::fifo_items<T>>(maxsize == 0 ? detail::unbounded_capacity : maxsize) {}
};

// Last in, first out (gevent's LifoQueue).
template <class T>
class lifo_queue : public detail::queue_core<T, detail::lifo_items<T>> {
public:
    explicit lifo_queue(std::size_t maxsize = 0)
        : detail::queue_core<T, detail::lifo_items<T>>(maxsize == 0 ? detail::unbounded_capacity : maxsize) {}
};

// The greatest item first, as std::priority_queue<T, std::vector<T>, Compare>: with the default
// std::less, get() returns the largest. gevent's PriorityQueue (Python's heapq) gives the smallest
// first; priority_queue<T, std::greater<T>> does that. We follow the C++ convention because the
// template's shape is std::priority_queue's, and a C++ reader takes std::less to mean "largest
// first" there. Items that compare equal come out in no particular order.
template <class T, class Compare = std::less<T>>
class priority_queue : public detail::queue_core<T, detail::heap_items<T, Compare>> {
public:
    explicit priority_queue(std::size_t maxsize = 0, Compare compare = Compare())
        : detail::queue_core<T, detail::heap_items<T, Compare>>(
              maxsize == 0 ? detail::unbounded_capacity : maxsize, detail::heap_items<T, Compare>(std::move(compare))) {}
};

// A FIFO queue that also counts unfinished work (gevent's JoinableQueue): each item put is
// unfinished until a consumer calls task_done() for it; join() waits until none is.
template <class T>
class joinable_queue : public detail::queue_core<T, detail::fifo_items<T>> {
public:
    explicit joinable_queue(std::size_t maxsize = 0)
        : detail::queue_core<T, detail::fifo_items<T>>(maxsize == 0 ? detail::unbounded_capacity : maxsize) {}

    // One item taken earlier is fully handled. Throws std::logic_error if there is none left to
    // account for (more calls than items put), which always means a bug in the caller.
    void task_done() {
        if (done_ == this->accepted()) {
            throw std::logic_error("cogent::joinable_queue::task_done: called more times than items were put");
        }
        if (++done_ == this->accepted()) joiners_.wake_all();
    }

    // Items put and not yet marked done.
    std::size_t unfinished() const noexcept { return this->accepted() - done_; }

    // Waits until every item put has been marked done, or `timeout` has passed; says whether it
    // got there. Items put while it waits count too.
    bool join(duration timeout = forever) {
        clock::time_point deadline = deadline_after(timeout);
        while (unfinished() != 0) {
            if (timeout <= duration::zero()) return false;
            waiter self("joinable_queue join");
            joiners_.push_back(self);
            wake_reason why = self.wait_until(deadline);
            if (why == wake_reason::closed) return false;  // the queue is being destroyed
            if (why == wake_reason::timed_out) return unfinished() == 0;
        }
        return true;
    }

private:
    std::size_t done_ = 0;
    wait_list joiners_;
};

}  // namespace cogent
