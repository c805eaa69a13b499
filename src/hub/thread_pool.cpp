// thread_pool: a FIFO of jobs and up to `size` workers, started as the queue needs them.
//
// A worker is started when a job is queued while there are more queued jobs than idle workers
// to take them (and the pool is not full); otherwise an idle worker is woken. Workers never
// touch the greenlet that submitted a job: they run it and post its completion to the caller's
// hub (thread_pool_wait.cpp), which is why a pool may be destroyed while greenlets still wait for
// its jobs.
#include <pthread.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <utility>

#include "hub/thread_pool_state.hpp"

namespace cogent {
namespace {
// The pool the calling thread works for, if it is a worker.
thread_local const thread_pool::state* own_pool = nullptr;
}  // namespace

bool thread_pool::state::is_own_worker() const noexcept { return own_pool == this; }

void thread_pool::state::enqueue(std::shared_ptr<detail::thread_job> job) {
    std::unique_lock lock(mutex);
    if (stopping) throw std::logic_error("cogent::thread_pool: a job was submitted while the pool was being destroyed");
    queue.push_back(std::move(job));
    if (queue.size() > idle && workers.size() < size) {
        try {
            workers.emplace_back([this] { work(); });
        } catch (...) {
            // No other thread could be started. With a worker already running, the job just waits
            // for it, as it would in a full pool; with none, nothing would ever run it.
            if (workers.empty()) {
                queue.pop_back();
                throw;
            }
        }
    }
    lock.unlock();
    work_queued.notify_one();
}

void thread_pool::state::work() noexcept {
    own_pool = this;
    pthread_setname_np(pthread_self(), "cogent-pool");
    std::unique_lock lock(mutex);
    for (;;) {
        while (queue.empty() && !stopping) {
            ++idle;
            work_queued.wait(lock);
            --idle;
        }
        if (queue.empty()) return;  // stopping, and every queued job has run
        std::shared_ptr<detail::thread_job> job = std::move(queue.front());
        queue.pop_front();
        lock.unlock();
        detail::run_taken_job(std::move(job));
        lock.lock();
    }
}

thread_pool::thread_pool(std::size_t size) {
    if (size == 0) throw std::invalid_argument("cogent::thread_pool: a pool needs at least one worker");
    state_ = std::make_unique<state>(size);
}

thread_pool::~thread_pool() {
    if (state_->is_own_worker()) {
        // Joining would wait for this very thread; there is no way to honour the destructor.
        std::fputs("cogent: a thread_pool was destroyed by one of its own jobs, which cannot wait for itself\n", stderr);
        std::abort();
    }
    {
        std::lock_guard lock(state_->mutex);
        state_->stopping = true;
    }
    state_->work_queued.notify_all();
    // No worker is started once `stopping` is set, so the vector no longer changes.
    for (std::thread& worker : state_->workers) worker.join();
}

std::size_t thread_pool::size() const noexcept { return state_->size; }

std::size_t thread_pool::threads() const {
    std::lock_guard lock(state_->mutex);
    return state_->workers.size();
}

std::size_t thread_pool::queued() const {
    std::lock_guard lock(state_->mutex);
    return state_->queue.size();
}

thread_pool& default_thread_pool() {
    // Never destroyed: destroying it at exit would join workers that may still be running calls
    // whose callers are long gone, and could run after other static objects they use have died.
    static thread_pool* pool = new thread_pool(thread_pool::default_size);
    return *pool;
}

}  // namespace cogent
