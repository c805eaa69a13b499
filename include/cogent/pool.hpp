// A group with a limit: gevent.pool.Pool. At most `size` members run at once; spawn() waits
// while the pool is full, and places freed by finishing members go to waiting spawners in the
// order they came.
//
//   cogent::pool workers(10);
//   for (auto& c : connections) workers.spawn(serve, c);      // the 11th waits for a place
//   if (workers.wait_available(1s)) workers.spawn(job);       // or give up after a second
//   if (!workers.try_spawn(1s, job)) reject();                 // the same in one call
//   auto pages = workers.map(fetch, urls);                     // 10 fetches at a time
//
// Deadlines: spawn() and add() wait as long as it takes (gevent's behaviour); try_spawn(timeout,
// ...) and wait_available(timeout) are the forms with a deadline. wait_available() followed by
// spawn() with nothing in between that blocks never waits in spawn(), since this is cooperative
// and nothing else runs between the two. Interrupted waits (task::kill, a cogent::timeout scope)
// leave the count of places right: a spawner interrupted just after it was handed a place passes
// it to the next spawner.
//
// Cooperative, for the greenlets of one thread: the waiting spawners are a wait_list, not a
// semaphore object, and there are no locks.
#pragma once

#include <cstddef>

#include "cogent/group.hpp"
#include "cogent/time.hpp"
#include "cogent/waiter.hpp"

namespace cogent {

class pool : public group {
public:
    // `size` at least 1 (std::invalid_argument otherwise).
    explicit pool(std::size_t size);
    ~pool() override;

    // The limit (gevent's Pool.size).
    std::size_t capacity() const noexcept { return size_; }
    // Places free now; a place handed to a spawner that has not run yet is not free.
    std::size_t free_count() const noexcept { return size_ - in_use_; }
    bool full() const noexcept { return in_use_ >= size_; }
    bool has_free_slot() const noexcept override { return in_use_ < size_; }

    // Waits until a place is free (a spawn would not wait), or `timeout` has passed; says which.
    // It takes no place: places freed while spawners wait go to them, not to this.
    bool wait_available(duration timeout = forever);

protected:
    bool acquire_slot(clock::time_point deadline) override;
    void release_slot() noexcept override;

private:
    std::size_t size_;
    std::size_t in_use_ = 0;  // members, plus places taken for a spawn or handed to a spawner
    wait_list spawners_;
    wait_list watchers_;  // in wait_available
};

}  // namespace cogent
