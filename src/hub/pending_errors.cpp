// Errors raised in a greenlet at its next blocking point (kills, expired timeouts), and the FIFO
// of deferred ones: a second error for a greenlet that already has one pending waits there instead
// of being dropped, and becomes pending when the first is raised or withdrawn.
#include <utility>

#include "cogent/waiter.hpp"
#include "hub/hub_impl.hpp"

namespace cogent::detail {

bool hub_impl::raise_in(greenlet_impl* g, std::exception_ptr error, deferred_error* later) noexcept {
    if (g->pending_error) {
        // Raised after the pending one (gevent raises each in turn), not dropped.
        if (later != nullptr && !later->queued()) {
            later->target = g;
            later->error = std::move(error);
            later->next = nullptr;
            later->prev = deferred_last_;
            if (deferred_last_ != nullptr) {
                deferred_last_->next = later;
            } else {
                deferred_first_ = later;
            }
            deferred_last_ = later;
        }
        return false;
    }
    g->pending_error = std::move(error);
    if (g->parked_on != nullptr) static_cast<waiter*>(g->parked_on)->wake(wake_reason::cancelled);
    return true;
}

void hub_impl::withdraw(deferred_error& d) noexcept {
    if (!d.queued()) return;
    if (d.prev != nullptr) {
        d.prev->next = d.next;
    } else {
        deferred_first_ = d.next;
    }
    if (d.next != nullptr) {
        d.next->prev = d.prev;
    } else {
        deferred_last_ = d.prev;
    }
    d.prev = d.next = nullptr;
    d.target = nullptr;
    d.error = nullptr;
}

void hub_impl::promote_deferred(greenlet_impl* g) noexcept {
    if (g->pending_error) return;
    for (deferred_error* d = deferred_first_; d != nullptr; d = d->next) {
        if (d->target != g) continue;
        std::exception_ptr error = std::move(d->error);
        withdraw(*d);
        raise_in(g, std::move(error));
        return;
    }
}

std::exception_ptr hub_impl::take_pending(greenlet_impl* g) noexcept {
    std::exception_ptr error = std::exchange(g->pending_error, nullptr);
    if (deferred_first_ != nullptr) [[unlikely]] {
        // `g` is running (it is about to raise `error`): the next one is raised at its next
        // blocking point, without waking anything.
        for (deferred_error* d = deferred_first_; d != nullptr; d = d->next) {
            if (d->target != g) continue;
            g->pending_error = std::move(d->error);
            withdraw(*d);
            break;
        }
    }
    return error;
}

}  // namespace cogent::detail
