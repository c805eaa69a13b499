// The waits the interposers park on (see detail/monkey_core.hpp): cogent's own wait_readable,
// wait_writable, poll and sleep, with C-style results, because their callers are hooked libc
// functions that must report through errno.
#include <cerrno>
#include <chrono>
#include <system_error>

#include "cogent/detail/monkey_core.hpp"
#include "cogent/errors.hpp"
#include "cogent/io_wait.hpp"
#include "cogent/sleep.hpp"
#include "cogent/time.hpp"

namespace cogent::detail::monkey {

std::int64_t now() noexcept {
    return std::chrono::duration_cast<duration>(clock::now().time_since_epoch()).count();
}

namespace {

duration remaining(std::int64_t deadline) noexcept {
    if (deadline == no_deadline) return forever;
    std::int64_t left = deadline - now();
    return left > 0 ? duration(left) : duration::zero();
}

// What to do when the hub cannot take the wait: another greenlet already waits on this fd for
// the same event (libc lets any number of threads block on one fd; the hub allows one waiter per
// fd and direction), or the backend cannot watch it (select and fds >= FD_SETSIZE). Asking the
// kernel every millisecond keeps libc's meaning at the cost of some latency.
constexpr duration fallback_interval = std::chrono::milliseconds(1);

int poll_by_polling(pollfd* fds, nfds_t count, std::int64_t deadline) {
    for (;;) {
        int ready = ::poll(fds, count, 0);
        if (ready != 0) return ready;
        duration left = remaining(deadline);
        if (left <= duration::zero()) return 0;
        cogent::sleep(left < fallback_interval ? left : fallback_interval);
    }
}

}  // namespace

int wait_fd(int fd, short events, std::int64_t deadline) {
    std::error_code ec;
    try {
        bool ready = events & POLLOUT ? wait_writable(fd, remaining(deadline), ec)
                                      : wait_readable(fd, remaining(deadline), ec);
        if (ready) return 0;
        return ec == std::errc::timed_out ? ETIMEDOUT : EBADF;
    } catch (const concurrent_wait_error&) {
    } catch (const backend_error&) {
    }
    pollfd entry{fd, events, 0};
    int ready = poll_by_polling(&entry, 1, deadline);
    if (ready > 0) return (entry.revents & POLLNVAL) ? EBADF : 0;
    return ready == 0 ? ETIMEDOUT : errno;
}

int poll_fds(pollfd* fds, nfds_t count, std::int64_t deadline) {
    try {
        return cogent::poll(fds, count, remaining(deadline));
    } catch (const concurrent_wait_error&) {
    } catch (const backend_error&) {
    } catch (const std::system_error& e) {
        // ::poll itself failed (EINVAL for too many fds, ENOMEM): report it as poll(2) would.
        if (e.code().category() != std::generic_category() && e.code().category() != std::system_category()) throw;
        errno = e.code().value();
        return -1;
    }
    return poll_by_polling(fds, count, deadline);
}

void sleep_until(std::int64_t deadline) {
    // cogent::sleep of zero is a yield, which is what a sleep(0) inside a greenlet should do.
    cogent::sleep(remaining(deadline));
}

void close_notice(int fd) noexcept { cogent::notify_close(fd); }

}  // namespace cogent::detail::monkey
