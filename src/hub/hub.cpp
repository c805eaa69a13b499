// The hub's loop.
//
// Phases of one iteration, in order:
//   1. Run ready greenlets, in FIFO order. A greenlet that parks hands control straight to the
//      next ready one (one switch, no detour through the hub) while the handoff budget lasts;
//      the hub refills the budget (handoff_budget) each iteration, so it regains control at
//      least every `handoff_limit` resumptions.
//   2. Fire the timers whose deadline has passed, reading the clock afresh.
//   3. Poll the backend:
//        - if greenlets are ready, only look (zero timeout), and only if `poll_interval` has
//          passed since the last look and everything that was ready at the last look has run
//          since (a round): polling is a system call, a loop of greenlets that yield to each
//          other must not pay one per round, and a level-triggered backend would report again
//          every fd whose woken greenlet is still queued;
//        - if idle waiters exist, look, and wake them if that found nothing to do;
//        - if nothing can ever wake anyone (no ready greenlet, timer, watched fd, idle waiter or
//          work out elsewhere), raise loop_exit in the thread's main greenlet instead of sleeping
//          forever;
//        - otherwise block until the earliest timer (computed from a fresh clock reading, so the
//          wait is never longer than asked) or until an fd or another thread wakes the hub.
//      Jobs posted by other threads run when the hub's eventfd reports them.
//
// Invariants:
//   - Only the hub greenlet runs this loop; it never parks on a waiter.
//   - A greenlet is on the run queue at most once: through its waiter, which is woken once per
//     wait, or as a task that has not started.
//   - A parked greenlet's `parked_on` names its waiter; its `pending_error` is raised when it is
//     next resumed (waiter::wait), whatever woke it. An error raised in a greenlet that already
//     has one pending waits in the deferred list and becomes pending as that one is raised.
//   - An fd has at most one waiting reader and one waiting writer.
#include "hub/hub_impl.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "cogent/errors.hpp"
#include "greenlet/thread_state.hpp"

namespace cogent::detail {

thread_local constinit hub_core* tls_hub __attribute__((tls_model("initial-exec"))) = nullptr;

namespace {

constexpr int handoff_limit = 64;
constexpr duration poll_interval = std::chrono::microseconds(50);
constexpr std::size_t hub_stack_size = 256 * 1024;

// Owns this thread's hub; destroyed at thread exit before the greenlet layer's own state (it is
// made later), so the hub outlives every greenlet that could still touch it.
struct hub_owner {
    hub_impl* hub = nullptr;
    ~hub_owner() { delete hub; }
};
thread_local hub_owner owner;

hub_options options_from_environment(hub_options options) {
    if (!options.backend) {
        if (const char* name = std::getenv("COGENT_BACKEND"); name != nullptr && *name != '\0') {
            options.backend = parse_backend(name);
            if (!options.backend) {
                throw backend_error(std::string("cogent: COGENT_BACKEND=") + name +
                                    " names no backend (select, poll, epoll, epoll_et, io_uring)");
            }
        }
    }
    if (!options.monitor) {
        const char* on = std::getenv("COGENT_MONITOR");
        options.monitor = on != nullptr && std::string(on) == "1";
        if (const char* ms = std::getenv("COGENT_MONITOR_THRESHOLD_MS"); ms != nullptr && *ms != '\0') {
            options.monitor_threshold = std::chrono::milliseconds(std::strtol(ms, nullptr, 10));
        }
    }
    return options;
}

std::unique_ptr<backend> choose_backend(const std::optional<backend_kind>& asked) {
    if (asked) return make_backend(*asked);
    return make_backend(backend_kind::epoll);
}

}  // namespace

hub_impl::hub_impl(const hub_options& options)
    : options_(options_from_environment(options)), backend_(choose_backend(options_.backend)) {
    if (!options_.backend) options_.backend = backend_->kind();
    native_io_ = backend_->native_io();
    edge_triggered_ = backend_->kind() == backend_kind::epoll_et;
    thread_state& ts = this_thread();
    channel_ = std::make_shared<hub_handle::channel>();
    channel_->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (channel_->event_fd < 0) throw std::system_error(errno, std::generic_category(), "cogent: eventfd");
    try {
        backend_->set_interest(channel_->event_fd, io_readable);
        greenlet main = greenlet::from_impl(ts.main);
        greenlet_ = greenlet([this] { loop(); }, main, greenlet_options{hub_stack_size, "hub"});
    } catch (...) {
        ::close(channel_->event_fd);
        throw;
    }
    hub_greenlet = greenlet_.impl();
    if (*options_.monitor) monitor_ = start_monitor(*this, options_.monitor_threshold);
}

hub_impl::~hub_impl() {
    monitor_.reset();
    shutting_down = true;
    // Parked greenlets point into this hub (their waiters are on its queues and heap): kill them
    // while it still exists. The hub greenlet itself is among them.
    if (thread_state* ts = existing_thread_state()) kill_all_but_current(*ts);
    abandon_everything();
    while (deferred_first_ != nullptr) withdraw(*deferred_first_);
    // Jobs nobody will run are destroyed outside the lock: a job's destructor may post again.
    std::vector<std::function<void()>> unrun;
    {
        std::lock_guard lock(channel_->mutex);
        channel_->open = false;
        unrun.swap(channel_->jobs);
        ::close(channel_->event_fd);
        channel_->event_fd = -1;
    }
    unrun.clear();
    greenlet_ = greenlet();
    if (tls_hub == this) tls_hub = nullptr;
}

void hub_impl::abandon_everything() noexcept {
    while (!ready.empty()) {
        run_node* n = ready.pop_front();
        if (n->abandon != nullptr) n->abandon(n);
    }
    while (!timers_.empty()) {
        timer_node* t = timers_.pop();
        if (t->abandon != nullptr) t->abandon(t);
    }
}

hub_impl& hub_impl::make_for_this_thread() {
    this_thread();  // the greenlet layer's state first, so that it is destroyed after the hub
    auto* h = new hub_impl(hub_options{});
    owner.hub = h;
    tls_hub = h;
    return *h;
}

void hub_impl::loop() {
    for (;;) {
        run_ready();
        fire_due_timers();
        if (!ready.empty()) {
            // Mid-run looks come once a round of the run queue is done (everything that was ready
            // at the last look has run): a level-triggered backend reports again every fd whose
            // woken greenlet is still queued, and with hundreds queued an earlier look is mostly
            // those repeats.
            if (resumptions.load(std::memory_order_relaxed) >= round_end_ &&
                clock::now() - last_poll_ >= poll_interval) {
                poll(duration::zero());
            }
            continue;
        }
        if (!idle_waiters.empty()) {
            poll(duration::zero());
            fire_due_timers();
            if (ready.empty()) idle_waiters.wake_all();
            continue;
        }
        if (nothing_can_wake()) {
            report_would_block_forever();
            continue;
        }
        duration timeout = forever;
        if (!timers_.empty()) {
            timeout = std::max(duration::zero(), timers_.top()->when - clock::now());
        }
        poll(timeout);
    }
}

void hub_impl::run_ready() {
    handoff_budget = handoff_limit;
    while (!ready.empty() && handoff_budget > 0) {
        --handoff_budget;
        greenlet_impl* g = ready.pop_front()->greenlet;
        resume(this, g);
    }
    running.store(hub_greenlet, std::memory_order_relaxed);
}

void hub_impl::fire_due_timers() {
    if (timers_.empty()) return;
    clock::time_point now = clock::now();
    while (!timers_.empty() && timers_.top()->when <= now) {
        timer_node* t = timers_.pop();
        try {
            t->fire(t);
        } catch (...) {
            report_error("hub", std::current_exception());
        }
    }
}

void hub_impl::poll(duration timeout) {
    // The monitor is told about the wait only if there is one: this runs once per loop turn.
    if (monitor_ != nullptr) [[unlikely]] {
        monitor_polling(monitor_.get(), true);
        try {
            backend_->poll(timeout, *this);
        } catch (...) {
            monitor_polling(monitor_.get(), false);
            throw;
        }
        monitor_polling(monitor_.get(), false);
    } else {
        backend_->poll(timeout, *this);
    }
    last_poll_ = clock::now();
    round_end_ = resumptions.load(std::memory_order_relaxed) + ready.size();
}

void hub_impl::on_ready(int fd, unsigned events) noexcept {
    // The backend reports fds once its wait is over: from here the hub is busy, not blocked, and a
    // posted job that never returns must show up as a stall.
    if (monitor_ != nullptr) [[unlikely]] monitor_polling(monitor_.get(), false);
    if (fd == channel_->event_fd) {
        run_posted_jobs();
        return;
    }
    if (fd < 0 || static_cast<std::size_t>(fd) >= fds_.size()) return;
    fd_watch& w = fds_[fd];
    if ((events & io_readable) && w.reader != nullptr) {
        w.reader->seen |= events & (io_readable | io_failed);
        w.reader->target->wake(wake_reason::ready);
    }
    if ((events & io_writable) && w.writer != nullptr) {
        w.writer->seen |= events & (io_writable | io_failed);
        w.writer->target->wake(wake_reason::ready);
    }
}

void hub_impl::run_posted_jobs() {
    std::uint64_t count;
    while (::read(channel_->event_fd, &count, sizeof count) == static_cast<ssize_t>(sizeof count)) {
    }
    std::vector<std::function<void()>> jobs;
    {
        std::lock_guard lock(channel_->mutex);
        channel_->signalled.store(false, std::memory_order_relaxed);
        jobs.swap(channel_->jobs);
    }
    for (auto& job : jobs) {
        try {
            job();
        } catch (...) {
            report_error("hub", std::current_exception());
        }
    }
}

bool hub_impl::nothing_can_wake() const noexcept {
    // A job already posted (from this thread, typically) will run at the next poll: it may wake
    // someone. (Jobs still to come from other threads count only through a keep_alive.)
    return ready.empty() && timers_.empty() && fd_waits_ == 0 && holds == 0 && idle_waiters.empty() &&
           !channel_->signalled.load(std::memory_order_relaxed);
}

void hub_impl::report_would_block_forever() {
    thread_state& ts = this_thread();
    greenlet_impl* main = ts.main;
    std::exception_ptr error = std::make_exception_ptr(loop_exit());
    if (main->parked_on != nullptr) {
        raise_in(main, error);
        // The main greenlet may have had an error pending already; it is woken either way.
        static_cast<waiter*>(main->parked_on)->wake(wake_reason::cancelled);
        return;
    }
    // The main greenlet switched to the hub by hand: answer it with the error.
    greenlet::from_impl(main).throw_into(error);
}

}  // namespace cogent::detail

namespace cogent {

using detail::hub_impl;

void start_hub(const hub_options& options) {
    if (hub_impl::existing() != nullptr) throw std::logic_error("cogent::start_hub: this thread's hub has already started");
    detail::this_thread();
    auto* h = new hub_impl(options);
    detail::owner.hub = h;
    detail::tls_hub = h;
}

bool hub_started() noexcept { return hub_impl::existing() != nullptr; }

backend_kind current_backend() { return hub_impl::current().io().kind(); }

}  // namespace cogent
