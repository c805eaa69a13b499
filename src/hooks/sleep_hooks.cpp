// Hooks that sleep: sleep, usleep, nanosleep, clock_nanosleep. Inside a greenlet that may park,
// they park it (cogent::sleep) and other greenlets run; a parked sleep is never interrupted by a
// signal, so the time "remaining" is never reported (and the rem argument never written).
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "hooks/core_link.hpp"
#include "hooks/libc.hpp"

using namespace cogent::hooks;

namespace {

constexpr std::int64_t nanoseconds_per_second = 1'000'000'000;

void sleep_for(const core_api* api, std::int64_t nanoseconds) {
    std::int64_t now = api->now();
    api->sleep_until(nanoseconds >= cogent::detail::monkey::no_deadline - now ? cogent::detail::monkey::no_deadline
                                                                               : now + nanoseconds);
}

std::int64_t to_nanoseconds(const timespec& t) noexcept {
    if (t.tv_sec >= INT64_MAX / nanoseconds_per_second - 1) return INT64_MAX;
    return std::int64_t{t.tv_sec} * nanoseconds_per_second + t.tv_nsec;
}

bool valid(const timespec& t) noexcept { return t.tv_nsec >= 0 && t.tv_nsec < nanoseconds_per_second; }

// The clocks a greenlet can sleep on: those whose time can be read and that move with real time.
// The CPU-time clocks (and anything else) are left to libc, which answers EINVAL or ENOTSUP, or
// sleeps on process CPU time as the kernel does.
bool parkable(clockid_t clock) noexcept {
    return clock == CLOCK_REALTIME || clock == CLOCK_MONOTONIC || clock == CLOCK_BOOTTIME || clock == CLOCK_TAI;
}

}  // namespace

extern "C" {

unsigned sleep(unsigned seconds) {
    const core_api* api = cooperative_core();
    if (api == nullptr) return libc::sleep(seconds);
    sleep_for(api, std::int64_t{seconds} * nanoseconds_per_second);
    return 0;
}

int usleep(useconds_t microseconds) {
    const core_api* api = cooperative_core();
    if (api == nullptr) return libc::usleep(microseconds);
    sleep_for(api, std::int64_t{microseconds} * 1000);
    return 0;
}

int nanosleep(const timespec* duration, timespec* remaining) {
    const core_api* api = cooperative_core();
    // Bad arguments go to libc, which reports them (EFAULT, EINVAL) exactly.
    if (api == nullptr || duration == nullptr || !valid(*duration) || duration->tv_sec < 0) {
        return libc::nanosleep(duration, remaining);
    }
    sleep_for(api, to_nanoseconds(*duration));
    return 0;
}

int clock_nanosleep(clockid_t clock, int flags, const timespec* time, timespec* remaining) {
    const core_api* api = cooperative_core();
    if (api == nullptr || time == nullptr || !valid(*time) || !parkable(clock)) {
        return libc::clock_nanosleep(clock, flags, time, remaining);
    }
    if (!(flags & TIMER_ABSTIME)) {
        // A negative relative time is no sleep at all for the kernel (not an error).
        if (time->tv_sec >= 0) sleep_for(api, to_nanoseconds(*time));
        return 0;
    }
    // An absolute time on `clock`: sleep until that clock reads it. The hub's timers run on the
    // monotonic clock, so a sleep on another clock that was stepped meanwhile is measured again.
    for (;;) {
        timespec now{};
        if (::clock_gettime(clock, &now) != 0) return errno;
        std::int64_t seconds = std::int64_t{time->tv_sec} - now.tv_sec;
        if (seconds >= INT64_MAX / nanoseconds_per_second - 1) {
            sleep_for(api, INT64_MAX);  // beyond any deadline the hub can represent
            continue;
        }
        std::int64_t left = seconds * nanoseconds_per_second + (time->tv_nsec - now.tv_nsec);
        if (left <= 0) return 0;
        sleep_for(api, left);
    }
}

}  // extern "C"
