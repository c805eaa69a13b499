// Hooks that wait on many fds: poll, ppoll, select, pselect, epoll_wait. Inside a greenlet that
// may park, a wait with a timeout other than zero becomes cogent::poll (which answers exactly as
// poll(2): it asks the kernel with a zero timeout before parking and after every wake), and
// epoll_wait parks on the epoll fd becoming readable. A zero timeout never blocks, so it is
// libc's call; so is every call on the hub itself, whose own poll must reach the kernel.
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include <cerrno>
#include <cstdint>
#include <vector>

#include "hooks/core_link.hpp"
#include "hooks/libc.hpp"

using namespace cogent::hooks;

namespace {

constexpr std::int64_t nanoseconds_per_second = 1'000'000'000;

std::int64_t deadline_in(const core_api* api, std::int64_t nanoseconds) {
    if (nanoseconds < 0) return cogent::detail::monkey::no_deadline;
    std::int64_t now = api->now();
    return nanoseconds >= cogent::detail::monkey::no_deadline - now ? cogent::detail::monkey::no_deadline
                                                                    : now + nanoseconds;
}

bool valid(const timespec& t) noexcept { return t.tv_sec >= 0 && t.tv_nsec >= 0 && t.tv_nsec < nanoseconds_per_second; }

std::int64_t to_nanoseconds(const timespec& t) noexcept {
    if (t.tv_sec >= INT64_MAX / nanoseconds_per_second - 1) return INT64_MAX;
    return t.tv_sec * nanoseconds_per_second + t.tv_nsec;
}

// The bit of `fd` in a set, without FD_ISSET: like the kernel, select accepts sets larger than
// FD_SETSIZE (allocated by the caller up to `count` bits), which the fortified macros refuse.
constexpr int bits_per_word = 8 * sizeof(__fd_mask);
bool is_set(const fd_set* set, int fd) noexcept {
    return set != nullptr && (__FDS_BITS(set)[fd / bits_per_word] & (__fd_mask{1} << (fd % bits_per_word))) != 0;
}
void set_bit(fd_set* set, int fd) noexcept { __FDS_BITS(set)[fd / bits_per_word] |= __fd_mask{1} << (fd % bits_per_word); }
void clear_all(fd_set* set, int count) noexcept {
    if (set == nullptr) return;
    for (int w = 0; w < (count + bits_per_word - 1) / bits_per_word; ++w) __FDS_BITS(set)[w] = 0;
}

// select through poll: the sets become pollfd entries and back, with Linux's mapping of poll
// events to select's three sets. `timeout` is nanoseconds, negative for none.
int select_through_poll(const core_api* api, int count, fd_set* readable, fd_set* writable, fd_set* exceptional,
                        std::int64_t timeout, std::int64_t* left) {
    if (count < 0) {
        errno = EINVAL;
        return -1;
    }
    std::vector<pollfd> entries;
    for (int fd = 0; fd < count; ++fd) {
        short events = 0;
        if (is_set(readable, fd)) events |= POLLIN;
        if (is_set(writable, fd)) events |= POLLOUT;
        if (is_set(exceptional, fd)) events |= POLLPRI;
        if (events != 0) entries.push_back({fd, events, 0});
    }
    std::int64_t deadline = deadline_in(api, timeout);
    int ready = api->poll(entries.data(), entries.size(), deadline);
    if (ready < 0) return -1;
    for (const pollfd& e : entries) {
        if (e.revents & POLLNVAL) {
            errno = EBADF;
            return -1;
        }
    }
    if (left != nullptr) {
        std::int64_t remaining = deadline == cogent::detail::monkey::no_deadline ? -1 : deadline - api->now();
        *left = remaining < 0 ? 0 : remaining;
    }
    clear_all(readable, count);
    clear_all(writable, count);
    clear_all(exceptional, count);
    int bits = 0;
    for (const pollfd& e : entries) {
        if ((e.events & POLLIN) && (e.revents & (POLLIN | POLLHUP | POLLERR))) {
            set_bit(readable, e.fd);
            ++bits;
        }
        if ((e.events & POLLOUT) && (e.revents & (POLLOUT | POLLERR))) {
            set_bit(writable, e.fd);
            ++bits;
        }
        if ((e.events & POLLPRI) && (e.revents & POLLPRI)) {
            set_bit(exceptional, e.fd);
            ++bits;
        }
    }
    return bits;
}

}  // namespace

extern "C" {

int poll(pollfd* fds, nfds_t count, int timeout) {
    const core_api* api = timeout != 0 ? cooperative_core() : nullptr;
    if (api == nullptr) return libc::poll(fds, count, timeout);
    return api->poll(fds, count, deadline_in(api, timeout < 0 ? -1 : std::int64_t{timeout} * 1'000'000));
}

// The signal mask is not applied while the greenlet is parked (the thread goes on running other
// greenlets under its own mask); see docs/hooks.md.
int ppoll(pollfd* fds, nfds_t count, const timespec* timeout, const sigset_t* mask) {
    if (timeout != nullptr && !valid(*timeout)) return libc::ppoll(fds, count, timeout, mask);  // EINVAL
    const core_api* api = timeout == nullptr || to_nanoseconds(*timeout) != 0 ? cooperative_core() : nullptr;
    if (api == nullptr) return libc::ppoll(fds, count, timeout, mask);
    return api->poll(fds, count, deadline_in(api, timeout == nullptr ? -1 : to_nanoseconds(*timeout)));
}

int select(int count, fd_set* readable, fd_set* writable, fd_set* exceptional, timeval* timeout) {
    bool invalid = timeout != nullptr && (timeout->tv_sec < 0 || timeout->tv_usec < 0);
    bool zero = timeout != nullptr && timeout->tv_sec == 0 && timeout->tv_usec == 0;
    const core_api* api = invalid || zero ? nullptr : cooperative_core();
    if (api == nullptr) return libc::select(count, readable, writable, exceptional, timeout);
    std::int64_t nanoseconds = -1;
    if (timeout != nullptr) {
        nanoseconds = timeout->tv_sec >= INT64_MAX / nanoseconds_per_second - 1
                          ? INT64_MAX
                          : std::int64_t{timeout->tv_sec} * nanoseconds_per_second + std::int64_t{timeout->tv_usec} * 1000;
    }
    std::int64_t left = 0;
    int ready = select_through_poll(api, count, readable, writable, exceptional, nanoseconds, &left);
    // Linux's select leaves the time not slept in *timeout.
    if (ready >= 0 && timeout != nullptr) {
        timeout->tv_sec = static_cast<time_t>(left / nanoseconds_per_second);
        timeout->tv_usec = static_cast<suseconds_t>(left % nanoseconds_per_second / 1000);
    }
    return ready;
}

int pselect(int count, fd_set* readable, fd_set* writable, fd_set* exceptional, const timespec* timeout,
            const sigset_t* mask) {
    if (timeout != nullptr && !valid(*timeout)) return libc::pselect(count, readable, writable, exceptional, timeout, mask);
    const core_api* api = timeout == nullptr || to_nanoseconds(*timeout) != 0 ? cooperative_core() : nullptr;
    if (api == nullptr) return libc::pselect(count, readable, writable, exceptional, timeout, mask);
    return select_through_poll(api, count, readable, writable, exceptional,
                               timeout == nullptr ? -1 : to_nanoseconds(*timeout), nullptr);
}

int epoll_wait(int epoll_fd, epoll_event* events, int capacity, int timeout) {
    const core_api* api = timeout != 0 ? cooperative_core() : nullptr;
    if (api == nullptr) return libc::epoll_wait(epoll_fd, events, capacity, timeout);
    if (capacity <= 0) return libc::epoll_wait(epoll_fd, events, capacity, 0);  // EINVAL
    std::int64_t deadline = deadline_in(api, timeout < 0 ? -1 : std::int64_t{timeout} * 1'000'000);
    for (;;) {
        // Asked first, so that events already there (and bad arguments) are answered at once.
        int ready = libc::epoll_wait(epoll_fd, events, capacity, 0);
        if (ready != 0) return ready;
        int waited = api->wait_fd(epoll_fd, POLLIN, deadline);
        if (waited == ETIMEDOUT) return 0;
        if (waited != 0) {
            errno = waited;
            return -1;
        }
    }
}

}  // extern "C"
