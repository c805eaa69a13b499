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
    static_cast<detail::hub_impl*>(hub_)->disarm(timer_);
    if (error_ && greenlet_->pending_error == error_) greenlet_->pending_error = nullptr;
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
    static_cast<detail::hub_impl*>(self->hub_)->raise_in(self->greenlet_, self->error_);
}

}  // namespace cogent
