#include "cogent/sleep.hpp"

#include <utility>

#include "cogent/waiter.hpp"
#include "greenlet/thread_state.hpp"
#include "hub/hub_impl.hpp"

namespace cogent {

namespace detail {

void yield_slow() {
    hub_impl& h = hub_impl::current();
    if (existing_thread_state()->current == h.hub_greenlet) return;  // the hub has nobody to yield to
    waiter w("yield");
    // Woken before it parks: it goes to the back of the run queue and parks until its turn (or
    // raises its pending error at once).
    h.park(w, clock::time_point::max(), true);
}

void raise_pending(greenlet_impl* self) { std::rethrow_exception(hub_impl::current().take_pending(self)); }

}  // namespace detail

void sleep(duration d) {
    if (d <= duration::zero()) {
        yield();
        return;
    }
    waiter w("sleep");
    w.wait(d);
}

bool idle(duration timeout) {
    detail::hub_impl& h = detail::hub_impl::current();
    waiter w("idle");
    h.idle_waiters.push_back(w);
    return w.wait(timeout) == wake_reason::ready;
}

}  // namespace cogent
