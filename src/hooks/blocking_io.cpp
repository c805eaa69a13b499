// The waits of the retry loop (see blocking_io.hpp).
#include "hooks/blocking_io.hpp"

#include <fcntl.h>

#include <algorithm>
#include <ctime>

#include "hooks/libc.hpp"

namespace cogent::hooks {

void make_kernel_nonblocking(int fd, socket_state& state) noexcept {
    if (state.has(socket_state::kernel_nonblocking)) return;
    int saved = errno;
    int flags = libc::fcntl(fd, F_GETFL, 0UL);
    if (flags >= 0 && libc::fcntl(fd, F_SETFL, static_cast<unsigned long>(flags | O_NONBLOCK)) == 0) {
        state.set(socket_state::kernel_nonblocking, true);
    }
    errno = saved;
}

namespace {

std::int64_t steady_now() noexcept {
    timespec t{};
    ::clock_gettime(CLOCK_MONOTONIC, &t);
    return std::int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
}

}  // namespace

std::int64_t deadline_for(std::int64_t timeout) noexcept {
    if (timeout <= 0) return detail::monkey::no_deadline;
    return steady_now() + timeout;
}

int wait_ready(const core_api* api, int fd, direction dir, std::int64_t deadline) {
    if (api != nullptr) return api->wait_fd(fd, static_cast<short>(dir), deadline);
    for (;;) {
        int timeout_ms = -1;
        if (deadline != detail::monkey::no_deadline) {
            std::int64_t left = deadline - steady_now();
            if (left <= 0) return ETIMEDOUT;
            // Rounded up: waking early would only cost another round.
            timeout_ms = static_cast<int>(std::min<std::int64_t>((left + 999'999) / 1'000'000, 1 << 30));
        }
        pollfd entry{fd, static_cast<short>(dir), 0};
        int ready = libc::poll(&entry, 1, timeout_ms);
        if (ready < 0) return errno;
        if (ready > 0) return (entry.revents & POLLNVAL) ? EBADF : 0;
    }
}

}  // namespace cogent::hooks
