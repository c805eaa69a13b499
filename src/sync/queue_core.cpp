// The wait_list helpers every queue kind and the channel share (detail/queue_core.hpp).
#include "cogent/detail/queue_core.hpp"

namespace cogent::detail {

namespace {
// Parked and not yet woken: the only kind of waiter something can still be handed to.
bool still_waiting(const waiter& w) noexcept { return w.waiting() && !w.woken(); }
}  // namespace

waiter* first_waiting(wait_list& list) noexcept {
    while (waiter* w = list.front()) {
        if (still_waiting(*w)) return w;
        list.pop_front();
    }
    return nullptr;
}

void take_and_wake(wait_list& list, waiter& w) noexcept {
    list.remove(w);
    w.wake(wake_reason::ready);
}

std::size_t count_waiting(const wait_list& list) noexcept {
    std::size_t count = 0;
    list.for_each([&count](const waiter& w) { count += still_waiting(w) ? 1 : 0; });
    return count;
}

}  // namespace cogent::detail
