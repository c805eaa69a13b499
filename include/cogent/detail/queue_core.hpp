// The one implementation behind queue, lifo_queue, priority_queue, joinable_queue and channel.
// Not a public interface: the public classes in queue.hpp and channel.hpp choose an ordering
// (the `Items` policy) and a capacity, and show the operations that suit them.
//
// Like everything in cogent's sync layer this is a cooperative, single-thread primitive: every
// operation runs on the hub's thread between two switches, so there is no lock and no atomic; a
// std::mutex or std::condition_variable would block the whole thread. Use it from one thread.
//
// Hand-over. A put() that finds a getter parked moves its item straight into that getter's frame
// and wakes it; a get() that frees room in a full queue moves the first parked putter's item in.
// Nobody who arrives in between can take what was handed over, so getters and putters are served
// in the order they came (no barging).
//
// Interruption. A parked call can also be resumed by an exception: task::kill(), or an enclosing
// cogent::timeout scope. A getter that was handed an item just before gives it back as the next to
// be taken (to the next parked getter, or to the front of the queue), so nothing is lost; the
// queue may then briefly hold more than its maxsize, since the item had already been accepted. A
// putter is woken only once its item has been taken in, so its put has happened: the exception
// still propagates (a kill cannot be swallowed), and the item stays delivered.
#pragma once

#include <cstddef>
#include <deque>
#include <limits>
#include <optional>
#include <utility>

#include "cogent/queue_errors.hpp"
#include "cogent/time.hpp"
#include "cogent/waiter.hpp"

namespace cogent::detail {

// The first waiter on `list` that is still waiting, left on the list; nullptr if none is. Waiters
// already woken (by their deadline, a kill, a close) are dropped from the front on the way: they
// are no longer candidates, and leave the list by themselves anyway when they run.
waiter* first_waiting(wait_list& list) noexcept;
// Takes `w` off `list` and wakes it with `ready`: what it waited for has been done for it.
void take_and_wake(wait_list& list, waiter& w) noexcept;
// How many waiters on `list` are still waiting (not yet woken).
std::size_t count_waiting(const wait_list& list) noexcept;

inline constexpr std::size_t unbounded_capacity = std::numeric_limits<std::size_t>::max();

// A get() that parked; a put() moves the item into `item` before waking it.
template <class T>
struct parked_getter : waiter {
    parked_getter() noexcept : waiter("queue get") {}
    std::optional<T> item;
};

// A put() that parked; its item stays in its own frame until a get() moves it out.
template <class T>
struct parked_putter : waiter {
    explicit parked_putter(T& waiting_item) noexcept : waiter("queue put"), item(&waiting_item) {}
    T* item;
};

// First in, first out: the ordering of queue, joinable_queue and channel.
template <class T>
class fifo_items {
public:
    std::size_t size() const noexcept { return items_.size(); }
    bool empty() const noexcept { return items_.empty(); }
    void push(T&& item) { items_.push_back(std::move(item)); }
    // An item given back by an interrupted getter: it was the next to be taken, so it still is.
    void restore(T&& item) { items_.push_front(std::move(item)); }
    const T& next() const noexcept { return items_.front(); }
    T take() {
        T item(std::move(items_.front()));
        items_.pop_front();
        return item;
    }

private:
    std::deque<T> items_;
};

template <class T, class Items>
class queue_core {
public:
    // `capacity`: how many items it holds before put() waits (unbounded_capacity: never; 0: a
    // channel, where a put waits for a getter).
    explicit queue_core(std::size_t capacity, Items items = Items()) : items_(std::move(items)), capacity_(capacity) {}
    // Parked greenlets are woken with `closed` (the wait_lists' destructors do it); they do not
    // touch the queue again, but a queue must still outlive any call that is running on it.
    ~queue_core() = default;
    queue_core(const queue_core&) = delete;
    queue_core& operator=(const queue_core&) = delete;

    // Puts `item`, waiting up to `timeout` for room; throws queue_full if none came (the item is
    // then dropped: use try_put to keep it), queue_closed if the queue is or gets closed.
    void put(T item, duration timeout = forever) {
        if (!try_put(item, timeout)) throw queue_full();
    }
    void put_nowait(T item) { put(std::move(item), duration::zero()); }

    // Puts `item` (moving from it) if it can within `timeout`, and says whether it did; on false
    // `item` is untouched. A zero timeout never parks (the _nowait form).
    bool try_put(T& item, duration timeout = duration::zero()) {
        if (closed_) throw queue_closed();
        if (waiter* w = first_waiting(getters_)) {
            hand_to(static_cast<parked_getter<T>&>(*w), std::move(item));
            ++accepted_;
            return true;
        }
        if (items_.size() < capacity_) {
            store(std::move(item));
            ++accepted_;
            return true;
        }
        if (timeout <= duration::zero()) return false;
        parked_putter<T> self(item);
        putters_.push_back(self);
        // No handler: a putter woken `ready` has been emptied already, so there is nothing to
        // undo if an exception comes with the wake (see the top of this file).
        wake_reason why = self.wait(timeout);
        if (why == wake_reason::closed) throw queue_closed();
        return why == wake_reason::ready;
    }

    // Takes the next item, waiting up to `timeout` for one; throws queue_empty if none came,
    // queue_closed if the queue is closed and empty (a closed queue still gives what it holds).
    T get(duration timeout = forever) {
        if (std::optional<T> item = try_get(timeout)) return std::move(*item);
        throw queue_empty();
    }
    T get_nowait() { return get(duration::zero()); }

    // The next item if one comes within `timeout`, else nullopt. A zero timeout never parks.
    std::optional<T> try_get(duration timeout = duration::zero()) {
        if (!items_.empty()) {
            std::optional<T> item(items_.take());
            refill();
            return item;
        }
        // Only a channel (capacity 0) has putters parked while it is empty.
        if (waiter* w = first_waiting(putters_)) {
            auto& putter = static_cast<parked_putter<T>&>(*w);
            std::optional<T> item(std::move(*putter.item));
            take_and_wake(putters_, putter);
            ++accepted_;
            return item;
        }
        if (closed_) throw queue_closed();
        if (timeout <= duration::zero()) return std::nullopt;
        parked_getter<T> self;
        getters_.push_back(self);
        wake_reason why;
        try {
            why = self.wait(timeout);
        } catch (...) {
            // Killed, or a timeout scope expired, possibly just after an item was handed over:
            // the item goes back, as the next to be taken, before the exception goes on.
            if (self.item) give_back(std::move(*self.item));
            throw;
        }
        if (why == wake_reason::closed) throw queue_closed();
        return std::move(self.item);  // set if and only if woken `ready`
    }

    // The next item, left in place, waiting up to `timeout` for one (queue_empty if none came,
    // queue_closed if closed and empty). The reference is valid until the queue next changes:
    // copy what you need before anything that may block. Items handed straight to parked getters
    // never show here: peek shows what the next get() would take.
    const T& peek(duration timeout = forever) {
        clock::time_point deadline = deadline_after(timeout);
        while (items_.empty()) {
            if (closed_) throw queue_closed();
            if (timeout <= duration::zero()) throw queue_empty();
            waiter self("queue peek");
            peekers_.push_back(self);
            wake_reason why = self.wait_until(deadline);
            if (why == wake_reason::closed) throw queue_closed();
            if (why == wake_reason::timed_out && items_.empty()) throw queue_empty();
        }
        return items_.next();
    }
    const T& peek_nowait() { return peek(duration::zero()); }

    // Refuses every later put, and wakes every parked call, which throws queue_closed. What the
    // queue holds can still be taken. Closing twice does nothing more.
    void close() noexcept {
        closed_ = true;
        getters_.wake_all(wake_reason::closed);
        putters_.wake_all(wake_reason::closed);
        peekers_.wake_all(wake_reason::closed);
    }
    bool closed() const noexcept { return closed_; }

    std::size_t size() const noexcept { return items_.size(); }
    bool empty() const noexcept { return items_.empty(); }
    bool full() const noexcept { return items_.size() >= capacity_; }
    // 0 for an unbounded queue, as in gevent.
    std::size_t maxsize() const noexcept { return capacity_ == unbounded_capacity ? 0 : capacity_; }
    // Calls parked in get() and in put(), not yet served.
    std::size_t getters_waiting() const noexcept { return count_waiting(getters_); }
    std::size_t putters_waiting() const noexcept { return count_waiting(putters_); }

protected:
    // Items put so far (joinable_queue counts unfinished work with it); an item given back by an
    // interrupted getter is not counted twice.
    std::size_t accepted() const noexcept { return accepted_; }

private:
    // Moves the item in before waking, so that a throwing move leaves the getter parked.
    void hand_to(parked_getter<T>& getter, T&& item) {
        getter.item.emplace(std::move(item));
        take_and_wake(getters_, getter);
    }
    void store(T&& item) {
        items_.push(std::move(item));
        peekers_.wake_all();
    }
    // A get() made room: parked putters' items come in, first come first served.
    void refill() {
        while (items_.size() < capacity_) {
            waiter* w = first_waiting(putters_);
            if (w == nullptr) return;
            auto& putter = static_cast<parked_putter<T>&>(*w);
            store(std::move(*putter.item));
            take_and_wake(putters_, putter);
            ++accepted_;
        }
    }
    void give_back(T&& item) {
        if (waiter* w = first_waiting(getters_)) {
            hand_to(static_cast<parked_getter<T>&>(*w), std::move(item));
            return;
        }
        items_.restore(std::move(item));
        peekers_.wake_all();
    }

    Items items_;
    std::size_t capacity_;
    std::size_t accepted_ = 0;
    bool closed_ = false;
    wait_list getters_;
    wait_list putters_;
    wait_list peekers_;
};

}  // namespace cogent::detail
