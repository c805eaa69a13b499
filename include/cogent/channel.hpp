// A rendezvous between greenlets: gevent.queue.Channel, a queue of size 0. put() returns once a
// getter has the item; get() waits for a putter.
//
//   cogent::channel<reply> replies;
//   cogent::spawn([&] { replies.put(compute()); });   // waits here until someone takes it
//   reply r = replies.get(5s);                         // queue_empty if nothing comes in 5 s
//
// Whoever arrives second completes the exchange at once: a put hands its item straight to the
// first parked getter, a get takes the item of the first parked putter. Getters and putters are
// each served in the order they came.
//
// Interruption (task::kill, an expiring cogent::timeout scope): a getter that had just been
// handed an item gives it to the next parked getter, or, if there is none, the channel keeps it
// for the next get() (balance() counts it as a waiting putter): it is never lost. A putter
// interrupted just after a getter took its item still raises the exception, but the item has been
// delivered (the getter already has it; it cannot be taken back).
//
// Cooperative, for the greenlets of one thread: no locks. T may be move-only.
#pragma once

#include <cstddef>
#include <optional>

#include "cogent/detail/queue_core.hpp"
#include "cogent/queue_errors.hpp"
#include "cogent/time.hpp"

namespace cogent {

template <class T>
class channel {
public:
    channel() : core_(0) {}

    // Gives `item` to a getter, waiting up to `timeout` for one; throws queue_full if none came
    // (the item was not delivered), queue_closed if the channel is or gets closed.
    void put(T item, duration timeout = forever) {
        if (!core_.try_put(item, timeout)) throw queue_full("cogent: no getter took the item from the channel in time");
    }
    // As put, but says whether a getter took `item` (moving from it) instead of throwing
    // queue_full; on false `item` is untouched. A zero timeout (the default) never parks: it
    // succeeds only if a getter is already waiting.
    bool try_put(T& item, duration timeout = duration::zero()) { return core_.try_put(item, timeout); }

    // An item from a putter, waiting up to `timeout` for one; throws queue_empty if none came,
    // queue_closed once the channel is closed (and nothing given back is left).
    T get(duration timeout = forever) {
        if (std::optional<T> item = core_.try_get(timeout)) return std::move(*item);
        throw queue_empty("cogent: no putter came to the channel in time");
    }
    // As get, but nullopt instead of queue_empty. A zero timeout never parks.
    std::optional<T> try_get(duration timeout = duration::zero()) { return core_.try_get(timeout); }

    // Wakes every parked put and get, which throw queue_closed, and refuses every later put.
    void close() noexcept { core_.close(); }
    bool closed() const noexcept { return core_.closed(); }

    // Putters waiting minus getters waiting (gevent's balance): positive, a get would not wait;
    // negative, a put would not. Items kept from interrupted getters count as waiting putters.
    std::ptrdiff_t balance() const noexcept {
        return static_cast<std::ptrdiff_t>(core_.putters_waiting() + core_.size()) -
               static_cast<std::ptrdiff_t>(core_.getters_waiting());
    }
    std::size_t getters_waiting() const noexcept { return core_.getters_waiting(); }
    std::size_t putters_waiting() const noexcept { return core_.putters_waiting(); }

private:
    detail::queue_core<T, detail::fifo_items<T>> core_;
};

}  // namespace cogent
