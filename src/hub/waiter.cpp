// Parking and waking: waiter, wait_list and hub_impl::park.
#include <stdexcept>
#include <string>

#include "cogent/errors.hpp"
#include "cogent/waiter.hpp"
#include "greenlet/thread_state.hpp"
#include "hub/hub_impl.hpp"

namespace cogent {

const char* to_string(wake_reason reason) noexcept {
    switch (reason) {
        case wake_reason::none: return "none";
        case wake_reason::ready: return "ready";
        case wake_reason::timed_out: return "timed_out";
        case wake_reason::cancelled: return "cancelled";
        case wake_reason::closed: return "closed";
    }
    return "unknown";
}

waiter::waiter(const char* what) noexcept : what_(what) {
    timer_.fire = &waiter::on_deadline;
    timer_.owner = this;
}

waiter::~waiter() {
    // Only the wait list: its timer and run-queue node are in use only while it is parked, and
    // park takes them back however the park ends (hub_impl::park_as), so nothing of the hub can
    // still point here.
    if (list_ != nullptr) list_->remove(*this);
}

void waiter::on_deadline(detail::timer_node* timer) noexcept {
    static_cast<waiter*>(timer->owner)->wake(wake_reason::timed_out);
}

wake_reason waiter::wait(duration timeout) { return wait_until(deadline_after(timeout)); }

wake_reason waiter::wait_until(clock::time_point deadline) {
    return detail::hub_impl::current().park(*this, deadline);
}

bool waiter::wake(wake_reason reason) noexcept {
    if (!waiting_ || reason_ != wake_reason::none) return false;
    reason_ = reason;
    static_cast<detail::hub_impl*>(hub_)->schedule(node_);
    return true;
}

wait_list::~wait_list() { wake_all(wake_reason::closed); }

void wait_list::push_back(waiter& w) noexcept {
    if (w.list_ != nullptr) w.list_->remove(w);
    w.list_ = this;
    w.list_next_ = nullptr;
    w.list_prev_ = last_;
    if (last_ != nullptr) {
        last_->list_next_ = &w;
    } else {
        first_ = &w;
    }
    last_ = &w;
    ++size_;
}

void wait_list::push_front(waiter& w) noexcept {
    if (w.list_ != nullptr) w.list_->remove(w);
    w.list_ = this;
    w.list_prev_ = nullptr;
    w.list_next_ = first_;
    if (first_ != nullptr) {
        first_->list_prev_ = &w;
    } else {
        last_ = &w;
    }
    first_ = &w;
    ++size_;
}

void wait_list::remove(waiter& w) noexcept {
    if (w.list_ != this) return;
    if (w.list_prev_ != nullptr) {
        w.list_prev_->list_next_ = w.list_next_;
    } else {
        first_ = w.list_next_;
    }
    if (w.list_next_ != nullptr) {
        w.list_next_->list_prev_ = w.list_prev_;
    } else {
        last_ = w.list_prev_;
    }
    w.list_prev_ = w.list_next_ = nullptr;
    w.list_ = nullptr;
    --size_;
}

waiter* wait_list::pop_front() noexcept {
    waiter* w = first_;
    if (w != nullptr) remove(*w);
    return w;
}

bool wait_list::wake_one(wake_reason reason) noexcept {
    // A waiter on the list that was already woken (by its deadline, say) is skipped: it will
    // take itself off when it runs.
    while (waiter* w = pop_front()) {
        if (w->wake(reason)) return true;
    }
    return false;
}

std::size_t wait_list::wake_all(wake_reason reason) noexcept {
    std::size_t woken = 0;
    while (waiter* w = pop_front()) woken += w->wake(reason) ? 1 : 0;
    return woken;
}

namespace detail {

wake_reason hub_impl::park(waiter& w, clock::time_point deadline, bool ready_at_once) {
    return park_as(w, deadline, ready_at_once, true);
}

wake_reason hub_impl::park_keeping_errors(waiter& w, clock::time_point deadline) {
    return park_as(w, deadline, false, false);
}

wake_reason hub_impl::park_as(waiter& w, clock::time_point deadline, bool ready_at_once, bool raise_pending) {
    greenlet_impl* self = existing_thread_state()->current;
    if (self == hub_greenlet) {
        throw std::logic_error(std::string("cogent: the hub cannot wait (on ") + w.what_ +
                               "): a timer callback or posted job tried to block; spawn a task for it");
    }
    if (raise_pending && self->pending_error) std::rethrow_exception(take_pending(self));
    if (self->parked_on != nullptr) throw std::logic_error("cogent: a greenlet cannot wait on two waiters at once");
    w.hub_ = this;
    w.reason_ = wake_reason::none;
    w.node_.greenlet = self;
    if (deadline != clock::time_point::max()) arm(w.timer_, deadline);
    w.waiting_ = true;
    self->parked_on = &w;
    if (ready_at_once) w.wake(wake_reason::ready);
    struct unpark {
        hub_impl* h;
        waiter& w;
        greenlet_impl* self;
        ~unpark() {
            self->parked_on = nullptr;
            w.waiting_ = false;
            h->disarm(w.timer_);
            if (w.node_.queued()) h->ready.remove(&w.node_);
        }
    } guard{this, w, self};
    switch_away(this, self);
    if (raise_pending && self->pending_error) [[unlikely]] std::rethrow_exception(take_pending(self));
    if (w.reason_ == wake_reason::none) [[unlikely]] {
        throw greenlet_error(std::string("cogent: greenlet '") + display_name(self) + "', waiting on " + w.what_ +
                             ", was switched to directly; a parked greenlet runs again only when its waiter is woken");
    }
    return w.reason_;
}

}  // namespace detail
}  // namespace cogent
