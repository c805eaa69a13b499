// Where the blocked-hub monitor's reports go (monitor_report.cpp). Not a public interface.
#pragma once

#include "cogent/observability.hpp"

namespace cogent::detail {

// Hands `report` to the handler set by set_hub_blocked_handler (by default: its message on
// stderr). Called on the monitor's thread; never throws.
void report_hub_blocked(const hub_blocked_report& report) noexcept;

}  // namespace cogent::detail
