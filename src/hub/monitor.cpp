// TEMPORARY during development: the blocked-hub monitor is being written.
#include "hub/hub_impl.hpp"
namespace cogent::detail {
class monitor {};
void monitor_deleter::operator()(monitor* m) const noexcept { delete m; }
monitor_ptr start_monitor(hub_impl&, duration) { return nullptr; }
void monitor_polling(monitor*, bool) noexcept {}
}
