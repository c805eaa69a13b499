// Giving up the processor: sleep(d), yield() (gevent.sleep(0)) and idle().
#pragma once

#include "cogent/detail/hub_core.hpp"
#include "cogent/time.hpp"

namespace cogent {

// Parks the current greenlet for `d`. A zero or negative duration is yield().
void sleep(duration d);

namespace detail {
void yield_slow();
[[noreturn]] void raise_pending(greenlet_impl* self);
}  // namespace detail

// Lets every other ready greenlet run once, then continues (gevent.sleep(0)). Inline: a yield
// between ready greenlets is one context switch.
[[gnu::always_inline]] inline void yield() {
    detail::hub_core* h = detail::tls_hub;
    if (h == nullptr) [[unlikely]] {
        detail::yield_slow();
        return;
    }
    detail::greenlet_impl* self = detail::tls_switch->current;
    if (self == h->hub_greenlet || self->pending_error || self->parked_on != nullptr) [[unlikely]] {
        detail::yield_slow();
        return;
    }
    detail::run_node node;
    node.greenlet = self;
    h->ready.push_back(&node);
    try {
        detail::switch_away(h, self);
    } catch (...) {
        if (node.queued()) h->ready.remove(&node);
        throw;
    }
    // Switched to by hand before its turn: the yield is over, and the node (in this frame) must
    // not stay queued.
    if (node.queued()) [[unlikely]] h->ready.remove(&node);
    if (self->pending_error) [[unlikely]] detail::raise_pending(self);
}

// Parks the current greenlet until the hub has nothing else to do: no greenlet ready, no timer
// due, no I/O waiting to be handled (gevent.idle()). False if `timeout` passed first.
bool idle(duration timeout = forever);

}  // namespace cogent
