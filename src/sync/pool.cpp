// cogent::pool: a group whose places are handed, first come first served, to waiting spawners.
#include "cogent/pool.hpp"

#include <stdexcept>

namespace cogent {

pool::pool(std::size_t size) : size_(size) {
    if (size == 0) throw std::invalid_argument("cogent::pool: the size must be at least 1");
}

// Spawners still parked are woken with `closed` by spawners_'s destructor and throw without
// touching the pool again (acquire_slot).
pool::~pool() = default;

bool pool::acquire_slot(clock::time_point deadline) {
    for (;;) {
        // Waiting spawners exist only while the pool is full (release_slot hands a freed place to
        // the first of them), so a free place here is nobody else's.
        if (in_use_ < size_) {
            ++in_use_;
            return true;
        }
        if (deadline <= clock::now()) return false;
        waiter self("pool spawn");
        spawners_.push_back(self);
        wake_reason why;
        try {
            why = self.wait_until(deadline);
        } catch (...) {
            // Interrupted, possibly just after a place was handed over: pass it on.
            if (self.reason() == wake_reason::ready) release_slot();
            throw;
        }
        if (why == wake_reason::ready) return true;  // the place is ours, still counted in in_use_
        if (why == wake_reason::closed) throw std::logic_error("cogent::pool: destroyed while a spawn waited for a place");
        // Timed out. A place freed since was not handed to this spawner (it no longer waited)
        // and nobody else waits for it, so it may still be taken; otherwise give up.
    }
}

void pool::release_slot() noexcept {
    if (spawners_.wake_one()) return;  // the place goes straight to the first waiting spawner
    --in_use_;
    watchers_.wake_all();
}

bool pool::wait_available(duration timeout) {
    clock::time_point deadline = deadline_after(timeout);
    while (in_use_ >= size_) {
        if (clock::now() >= deadline) return false;
        waiter self("pool wait_available");
        watchers_.push_back(self);
        wake_reason why = self.wait_until(deadline);
        if (why == wake_reason::closed) return false;  // the pool is being destroyed
        if (why == wake_reason::timed_out) return in_use_ < size_;
    }
    return true;
}

}  // namespace cogent
