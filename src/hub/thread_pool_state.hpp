// The inside of a thread_pool: its queue and its workers (thread_pool.cpp). Not a public
// interface.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "cogent/thread_pool.hpp"

namespace cogent {

struct thread_pool::state {
    explicit state(std::size_t max_workers) : size(max_workers) {}

    // Queues `job` for a worker, starting one if every worker is busy and the pool is not full.
    // Throws if the pool is being destroyed, or if no worker exists and none can be started.
    void enqueue(std::shared_ptr<detail::thread_job> job);
    // A worker's life: take jobs until the pool stops and the queue is empty.
    void work() noexcept;
    // Whether the calling thread is one of this pool's workers.
    bool is_own_worker() const noexcept;

    const std::size_t size;
    mutable std::mutex mutex;
    std::condition_variable work_queued;  // a job was queued, or the pool is stopping
    std::deque<std::shared_ptr<detail::thread_job>> queue;
    std::vector<std::thread> workers;
    std::size_t idle = 0;  // workers waiting on work_queued
    bool stopping = false;
};

namespace detail {
// Runs a job a worker has taken (unless its caller withdrew it) and posts its completion to the
// caller's hub (thread_pool_wait.cpp).
void run_taken_job(std::shared_ptr<thread_job> job) noexcept;
}  // namespace detail

}  // namespace cogent
