// The whole of a thread's hub. Not a public interface. See hub.cpp for the loop.
#pragma once

#include <atomic>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <vector>

#include "backend/backend.hpp"
#include "cogent/detail/hub_core.hpp"
#include "cogent/greenlet.hpp"
#include "cogent/hub.hpp"
#include "cogent/waiter.hpp"
#include "hub/timer_heap.hpp"

namespace cogent {

// How other threads reach a hub: jobs under a mutex and an eventfd to wake the hub's poll.
struct hub_handle::channel {
    std::mutex mutex;
    std::vector<std::function<void()>> jobs;
    bool open = true;
    int event_fd = -1;
    std::atomic<bool> signalled{false};
    bool post(std::function<void()>&& job);
};

namespace detail {

class monitor;
// Stops the monitor's thread and frees it (monitor.cpp).
struct monitor_deleter {
    void operator()(monitor* m) const noexcept;
};
using monitor_ptr = std::unique_ptr<monitor, monitor_deleter>;

// One greenlet's interest in one event (io_readable or io_writable) of one fd: what the fd table
// holds. A single-fd wait makes one; a multi-fd poll makes one per fd and event, all waking the
// same waiter, so one greenlet can wait on many fds at once (cogent::poll, and the drivers of
// c-ares and libcurl that must watch several sockets).
struct fd_interest {
    waiter* target = nullptr;
    unsigned seen = 0;  // io_event bits reported while registered, plus fd_closed
    // A native operation (backend::submit_*) holds the slot, for the one-reader-one-writer rule
    // and for notify_close's wake-up; the backend is asked for no readiness.
    bool native = false;
};
// Set in fd_interest::seen when notify_close took the interest off its fd.
inline constexpr unsigned fd_closed = 8;

class hub_impl final : public hub_core, private ready_sink {
public:
    explicit hub_impl(const hub_options& options);
    ~hub_impl();
    hub_impl(const hub_impl&) = delete;
    hub_impl& operator=(const hub_impl&) = delete;

    // This thread's hub, made (with options from the environment) on first use.
    // Inline: every wait asks, and only the first on a thread makes it.
    static hub_impl& current() {
        if (hub_impl* h = existing()) [[likely]] return *h;
        return make_for_this_thread();
    }
    static hub_impl* existing() noexcept { return static_cast<hub_impl*>(tls_hub); }
    static hub_impl& make_for_this_thread();

    // Timers; the node's `fire` runs in the hub.
    void arm(timer_node& t, clock::time_point when) { timers_.arm(t, when); }
    void disarm(timer_node& t) noexcept { timers_.disarm(t); }
    std::size_t timer_count() const noexcept { return timers_.size(); }

    // Makes `n` run after everything already ready.
    void schedule(run_node& n) noexcept { ready.push_back(&n); }

    // Parks the current greenlet on `w` (see waiter::wait). Not for the hub itself.
    // `ready_at_once`: it is woken as it parks, so it runs again after everything already ready.
    wake_reason park(waiter& w, clock::time_point deadline, bool ready_at_once = false);
    // Parks without raising a pending error, before or after: it stays pending for the next
    // park. For waiting out a native operation that must complete before its frame may go.
    wake_reason park_keeping_errors(waiter& w, clock::time_point deadline);

    // Waits until `fd` has `event` (io_readable or io_writable) or the deadline passes.
    wake_reason wait_fd(int fd, unsigned event, clock::time_point deadline, const char* what);
    // Puts `interest` in `fd`'s slot for `event`: from now on a matching event (or an error, or a
    // close) is added to interest.seen and wakes interest.target. Throws concurrent_wait_error if
    // another interest holds the slot, backend_error if the backend cannot watch `fd`.
    void watch_fd(int fd, unsigned event, fd_interest& interest);
    // Takes `interest` out of the slot again, unless notify_close already did.
    void unwatch_fd(int fd, unsigned event, fd_interest& interest) noexcept;
    // Who holds `fd`'s slot for `event`, if anyone.
    fd_interest* interest_in(int fd, unsigned event) const noexcept;
    // `fd` is a socket cogent made, to be closed only after close_fd (see backend::adopt).
    void adopt_fd(int fd) noexcept { backend_->adopt(fd); }
    // Wakes whoever waits on `fd` with wake_reason::closed and forgets it (before closing it).
    void close_fd(int fd) noexcept;
    std::size_t fd_waits() const noexcept { return fd_waits_; }

    // Raises `error` in `g` at its next blocking point (now, if it is parked). If an error is
    // already pending there, `later` (when given, and not already queued) queues this one to be
    // raised after it; otherwise it is dropped. False unless it is pending now.
    bool raise_in(greenlet_impl* g, std::exception_ptr error, deferred_error* later = nullptr) noexcept;
    // Takes the current greenlet `g`'s pending error (to raise it) and makes the next error
    // deferred for it pending.
    std::exception_ptr take_pending(greenlet_impl* g) noexcept;
    // Makes the next error deferred for `g`, if any, pending (after `g`'s pending one was withdrawn).
    void promote_deferred(greenlet_impl* g) noexcept;
    // Takes `d` off the deferred errors if it is queued.
    void withdraw(deferred_error& d) noexcept;

    // The idle waiters: woken when nothing else is ready (gevent.idle()).
    wait_list idle_waiters;
    // Work out elsewhere (keep_alive, thread-pool jobs) that will come back as a post.
    std::size_t holds = 0;
    bool shutting_down = false;

    backend& io() noexcept { return *backend_; }
    // What every socket call asks of the backend, cached when the hub is made: whether it
    // performs socket calls itself (backend::native_io), and whether it is edge-triggered (a
    // wait may then begin only after an EAGAIN).
    bool native_io() const noexcept { return native_io_; }
    bool edge_triggered() const noexcept { return edge_triggered_; }
    const hub_options& options() const noexcept { return options_; }
    const std::shared_ptr<hub_handle::channel>& channel() const noexcept { return channel_; }
    greenlet hub_greenlet_handle() const { return greenlet_; }

    // Runs the loop; the hub greenlet's function.
    void loop();

private:
    struct fd_watch {
        fd_interest* reader = nullptr;
        fd_interest* writer = nullptr;
    };

    void on_ready(int fd, unsigned events) noexcept override;
    void run_ready();
    void fire_due_timers();
    void poll(duration timeout);
    void run_posted_jobs();
    bool nothing_can_wake() const noexcept;
    void report_would_block_forever();
    void abandon_everything() noexcept;
    void update_interest(int fd);
    wake_reason park_as(waiter& w, clock::time_point deadline, bool ready_at_once, bool raise_pending);

    hub_options options_;
    greenlet greenlet_;
    timer_heap timers_;
    std::unique_ptr<backend> backend_;
    bool native_io_ = false;
    bool edge_triggered_ = false;
    std::vector<fd_watch> fds_;
    std::size_t fd_waits_ = 0;
    deferred_error* deferred_first_ = nullptr;  // FIFO of deferred errors, all greenlets together
    deferred_error* deferred_last_ = nullptr;
    std::shared_ptr<hub_handle::channel> channel_;
    clock::time_point last_poll_{};
    std::uint64_t round_end_ = 0;  // `resumptions` once everything ready at the last poll has run
    monitor_ptr monitor_;
};

// Starts the blocked-hub monitor for `h` (monitor.cpp).
monitor_ptr start_monitor(hub_impl& h, duration threshold);
// The hub is about to block in poll (true) or has come back (false): the monitor ignores a hub that waits.
void monitor_polling(monitor* m, bool polling) noexcept;

}  // namespace detail
}  // namespace cogent
