// The blocked-hub monitor (hub_options::monitor, COGENT_MONITOR=1): a watchdog thread per hub
// that reports a greenlet which keeps its hub's thread longer than a threshold without yielding,
// as gevent's monitor thread does.
//
// Seeing a stall. Every resumption stores the greenlet resumed in hub_core::running and bumps
// hub_core::resumptions (relaxed stores, already on the switch path; the monitor adds nothing
// there). The hub says when it enters and leaves poll (monitor_polling), and each poll counts as
// progress. The watchdog wakes every quarter threshold: if neither count has moved since its
// last look and the hub is not blocked in poll, the thread is busy in one greenlet (or in one
// hub callback); once that has lasted a threshold, it reports, once per stall. A hub idle in a
// long poll is never reported, and neither is one whose greenlets yield to each other.
//
// Naming the culprit from another thread. The greenlet in `running` may end, and be freed, or be
// renamed, at any moment. So the monitor is the thread's greenlet_observer: it reads `running`
// and the greenlet's id and name only under the observer lock, the greenlet layer renames this
// thread's greenlets under that lock, and a dying greenlet first tells the monitor (forget()),
// which replaces it in `running` by the greenlet it hands control to. A pointer read from
// `running` under the lock therefore always names a greenlet that is alive until the lock is let
// go. Between stalls the monitor takes no lock the hub thread could wait for.
//
// A greenlet that switches by hand to another (greenlet::switch_to) leaves `running` naming the
// one the hub resumed: the report then names the greenlet that entered the hand-switched code.
#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "greenlet/thread_state.hpp"
#include "hub/hub_impl.hpp"
#include "hub/monitor_report.hpp"

namespace cogent::detail {

class monitor final : public greenlet_observer {
public:
    monitor(hub_core& h, thread_state& ts, duration threshold)
        : hub_(h),
          ts_(ts),
          threshold_(std::max<duration>(threshold, std::chrono::milliseconds(1))),
          tick_(std::max<duration>(threshold_ / 4, std::chrono::milliseconds(1))) {}

    // Stops the watchdog and waits for it (promptly: it sleeps on a condition variable). Runs on
    // the hub's thread, when the hub ends.
    ~monitor() {
        if (thread_.joinable()) {
            {
                std::lock_guard guard(stop_mutex_);
                stopping_ = true;
            }
            stopped_.notify_all();
            thread_.join();
        }
        if (ts_.observer == this) ts_.observer = nullptr;
    }

    monitor(const monitor&) = delete;
    monitor& operator=(const monitor&) = delete;

    // On the hub's thread, as the hub is made.
    void start() {
        // Until the hub first resumes someone, the greenlet holding the thread is whichever made
        // the hub (usually main): blame it rather than nobody.
        if (hub_.running.load(std::memory_order_relaxed) == nullptr) {
            hub_.running.store(ts_.current, std::memory_order_relaxed);
        }
        ts_.observer = this;
        try {
            thread_ = std::thread([this] { watch(); });
        } catch (...) {
            ts_.observer = nullptr;
            throw;
        }
    }

    void polling(bool now) noexcept {
        // Only the hub's thread writes these: a load and a store, no locked instruction.
        if (now) polls_.store(polls_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        polling_.store(now, std::memory_order_relaxed);
    }

    // On the hub's thread, under `lock`, as `dying` makes its last switch.
    void forget(greenlet_impl* dying, greenlet_impl* heir) noexcept override {
        if (hub_.running.load(std::memory_order_relaxed) == dying) hub_.running.store(heir, std::memory_order_relaxed);
    }

private:
    void watch() noexcept {
        pthread_setname_np(pthread_self(), "cogent-monitor");
        std::unique_lock guard(stop_mutex_);
        std::uint64_t last_resumptions = hub_.resumptions.load(std::memory_order_relaxed);
        std::uint64_t last_polls = polls_.load(std::memory_order_relaxed);
        // When progress was last seen: the stall began after it, so the time held is at least
        // now - since (and at most a tick more).
        clock::time_point since = clock::now();
        bool reported = false;
        while (!stopped_.wait_for(guard, tick_, [this] { return stopping_; })) {
            std::uint64_t resumptions = hub_.resumptions.load(std::memory_order_relaxed);
            std::uint64_t polls = polls_.load(std::memory_order_relaxed);
            clock::time_point now = clock::now();
            if (resumptions != last_resumptions || polls != last_polls || polling_.load(std::memory_order_relaxed)) {
                last_resumptions = resumptions;
                last_polls = polls;
                since = now;
                reported = false;
                continue;
            }
            if (reported || now - since < threshold_) continue;
            reported = true;
            guard.unlock();  // a slow handler must not delay the hub's end
            report_hub_blocked(describe(now - since));
            guard.lock();
        }
    }

    hub_blocked_report describe(duration held) {
        hub_blocked_report r;
        r.held = held;
        {
            std::lock_guard guard(lock);
            // Alive while the lock is held (see the top of this file). Its id never changes; its
            // name is written only under this lock once the greenlet exists, and the stall has
            // lasted a threshold, so the stores that made it are long visible here.
            if (const greenlet_impl* g = hub_.running.load(std::memory_order_relaxed)) {
                r.greenlet_id = g->id;
                r.greenlet_name = display_name(g);
                r.in_hub_callback = g == hub_.hub_greenlet;
            }
        }
        long long ms = std::chrono::duration_cast<std::chrono::milliseconds>(held).count();
        char text[128];
        if (r.in_hub_callback) {
            std::snprintf(text, sizeof text,
                          "cogent: monitor: a hub callback (a timer or a posted job) has held the hub for %lld ms "
                          "without returning",
                          ms);
            r.message = text;
        } else if (r.greenlet_id != 0) {
            std::snprintf(text, sizeof text, "' (id %llu) has held the hub for %lld ms without yielding",
                          static_cast<unsigned long long>(r.greenlet_id), ms);
            r.message = "cogent: monitor: greenlet '" + r.greenlet_name + text;
        } else {
            std::snprintf(text, sizeof text, "cogent: monitor: the hub has been held for %lld ms without yielding", ms);
            r.message = text;
        }
        return r;
    }

    hub_core& hub_;
    thread_state& ts_;
    const duration threshold_;
    const duration tick_;
    std::atomic<bool> polling_{false};
    std::atomic<std::uint64_t> polls_{0};
    std::mutex stop_mutex_;
    std::condition_variable stopped_;
    bool stopping_ = false;
    std::thread thread_;
};

void monitor_deleter::operator()(monitor* m) const noexcept { delete m; }

monitor_ptr start_monitor(hub_impl& h, duration threshold) {
    monitor_ptr m(new monitor(h, this_thread(), threshold));
    m->start();
    return m;
}

void monitor_polling(monitor* m, bool polling) noexcept {
    if (m != nullptr) m->polling(polling);
}

}  // namespace cogent::detail
