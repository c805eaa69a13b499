#include "cogent/timeout.hpp"

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "greenlet/thread_state.hpp"
#include "hub/hub_impl.hpp"

namespace cogent {

timeout::timeout(duration limit) : limit_(limit) {
    timer_.fire = &timeout::on_expiry;
    timer_.owner = this;
    if (limit == forever) return;
    detail::hub_impl& h = detail::hub_impl::current();
    greenlet_ = detail::existing_thread_state()->current;
    if (greenlet_ == h.hub_greenlet) throw std::logic_error("cogent::timeout: the hub cannot run under a timeout");
    hub_ = &h;
    h.arm(timer_, deadline_after(limit));
}

timeout::~timeout() { cancel(); }

void timeout::cancel() noexcept {
    if (hub_ == nullptr) return;
    auto* h = static_cast<detail::hub_impl*>(hub_);
    h->disarm(timer_);
    h->withdraw(later_);
    // An error that has already woken its parked greenlet (to be raised there) stands, as in
    // gevent, where it would have been thrown already: withdrawn, it would leave the wait to return
    // as if woken for nothing. (Cancelling from elsewhere can find it so; a scope's own end cannot.)
    auto* parked = static_cast<waiter*>(greenlet_->parked_on);
    bool delivered = parked != nullptr && parked->reason() == wake_reason::cancelled;
    if (error_ && greenlet_->pending_error == error_ && !delivered) {
        greenlet_->pending_error = nullptr;
        h->promote_deferred(greenlet_);  // an error queued behind this one (an outer scope's, a kill)
    }
}

void timeout::on_expiry(detail::timer_node* timer) noexcept {
    auto* self = static_cast<timeout*>(timer->owner);
    self->expired_ = true;
    auto ms = std::chrono::duration_cast<std::chrono::duration<double, std::milli>>(self->limit_).count();
    char text[64];
    std::snprintf(text, sizeof text, "cogent: timed out after %g ms", ms);
    try {
        self->error_ = std::make_exception_ptr(timeout_error(self, text));
    } catch (...) {
        self->error_ = std::current_exception();  // out of memory: raise that instead
    }
    static_cast<detail::hub_impl*>(self->hub_)->raise_in(self->greenlet_, self->error_, &self->later_);
}

}  // namespace cogent
