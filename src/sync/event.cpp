// cogent::event.
#include "cogent/event.hpp"

namespace cogent {

void event::set() noexcept {
    flag_ = true;
    waiting_.wake_all(wake_reason::ready);
}

bool event::wait(duration timeout) {
    if (flag_) return true;
    clock::time_point deadline = deadline_after(timeout);
    if (deadline != clock::time_point::max() && deadline <= clock::now()) return false;
    waiter w("event");
    waiting_.push_back(w);
    // Only set() wakes with `ready`, so the answer needs no second look at the event, which may
    // have been cleared (or destroyed) since. A kill or an expired timeout scope propagates;
    // nothing was handed to us, so there is nothing to give back.
    return w.wait_until(deadline) == wake_reason::ready;
}

}  // namespace cogent
