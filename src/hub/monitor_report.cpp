// What is done with the blocked-hub monitor's reports: set_hub_blocked_handler.
#include <cstdio>
#include <mutex>
#include <string>
#include <utility>

#include "hub/monitor_report.hpp"

namespace cogent {
namespace {

std::mutex handler_mutex;
hub_blocked_handler& handler() {
    static hub_blocked_handler* h = new hub_blocked_handler;  // never destroyed: monitors may report during exit
    return *h;
}

}  // namespace

hub_blocked_handler set_hub_blocked_handler(hub_blocked_handler h) {
    std::lock_guard lock(handler_mutex);
    std::swap(handler(), h);
    return h;
}

namespace detail {

void report_hub_blocked(const hub_blocked_report& report) noexcept {
    hub_blocked_handler h;
    {
        std::lock_guard lock(handler_mutex);
        h = handler();
    }
    try {
        if (h) {
            h(report);
            return;
        }
        // One write for the whole line, so that it is not interleaved with other threads' output.
        std::string line = report.message + "\n";
        std::fwrite(line.data(), 1, line.size(), stderr);
    } catch (...) {
        std::fputs("cogent: the hub-blocked handler raised an exception (ignored)\n", stderr);
    }
}

}  // namespace detail
}  // namespace cogent
