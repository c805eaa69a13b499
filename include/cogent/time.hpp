// Time as the hub sees it: a monotonic clock, durations in nanoseconds, and "forever".
#pragma once

#include <chrono>

namespace cogent {

// Monotonic: a deadline is never moved by a change of the wall clock.
using clock = std::chrono::steady_clock;
// Every blocking call takes one. Any std::chrono duration with an integer count converts to it.
using duration = std::chrono::nanoseconds;
// The timeout of a call that may wait as long as it takes.
inline constexpr duration forever = duration::max();

// The absolute deadline `timeout` from now, read fresh (a cached loop time would make the
// deadline early by however long the current loop iteration has run). forever stays forever.
inline clock::time_point deadline_after(duration timeout) noexcept {
    if (timeout == forever) return clock::time_point::max();
    if (timeout <= duration::zero()) return clock::now();
    clock::time_point now = clock::now();
    if (timeout >= clock::time_point::max() - now) return clock::time_point::max();
    return now + timeout;
}

}  // namespace cogent
