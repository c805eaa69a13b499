// cogent::poll: one greenlet waiting on many fds at once, with poll(2)'s answer.
//
// The greenlet puts one fd_interest per (fd, direction) into the hub's fd table, all naming the
// same waiter, and parks once. Whatever wakes it, the kernel is then asked again with a zero
// timeout: the backend's report only says "look now", so the result is poll(2)'s own, and a
// stale or edge-triggered report can never make us answer wrongly (we simply wait again).
#include <cerrno>
#include <system_error>
#include <vector>

#include "cogent/io_wait.hpp"
#include "hub/hub_impl.hpp"

namespace cogent {
namespace {

int poll_now(pollfd* fds, std::size_t count) {
    for (;;) {
        int ready = ::poll(fds, static_cast<nfds_t>(count), 0);
        if (ready >= 0) return ready;
        if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "cogent::poll");
    }
}

// The interests of one cogent::poll call, taken out of the fd table when it ends however it ends.
class interest_set {
public:
    explicit interest_set(detail::hub_impl& hub) noexcept : hub_(hub) {}
    ~interest_set() {
        for (entry& e : entries_) hub_.unwatch_fd(e.fd, e.event, e.interest);
    }
    interest_set(const interest_set&) = delete;
    interest_set& operator=(const interest_set&) = delete;

    // Watches `fd` for `event` on behalf of `w`, unless this call already does (an fd may appear
    // twice in a pollfd array).
    void add(int fd, unsigned event, waiter& w) {
        if (detail::fd_interest* held = hub_.interest_in(fd, event); held != nullptr && held->target == &w) return;
        entries_.push_back(entry{fd, event, {&w, 0}});
        try {
            hub_.watch_fd(fd, event, entries_.back().interest);
        } catch (...) {
            entries_.pop_back();
            throw;
        }
    }
    bool closed(int fd) const noexcept {
        for (const entry& e : entries_) {
            if (e.fd == fd && (e.interest.seen & detail::fd_closed)) return true;
        }
        return false;
    }
    void reserve(std::size_t n) { entries_.reserve(n); }

private:
    struct entry {
        int fd;
        unsigned event;
        detail::fd_interest interest;
    };
    detail::hub_impl& hub_;
    // Reserved up front: the fd table points into it, so it must never reallocate.
    std::vector<entry> entries_;
};

}  // namespace

int poll(pollfd* fds, std::size_t count, duration timeout) {
    for (std::size_t i = 0; i < count; ++i) fds[i].revents = 0;
    if (int ready = poll_now(fds, count); ready > 0 || timeout <= duration::zero()) return ready;

    detail::hub_impl& hub = detail::hub_impl::current();
    const clock::time_point deadline = deadline_after(timeout);
    // Made once: a spurious wake (a stale or edge-triggered report) parks again on the same
    // waiter, whose interests stay in the fd table meanwhile. A report that comes while the
    // greenlet runs finds the waiter not parked and is dropped, which loses nothing: poll_now
    // looks at every fd before the next park.
    waiter w("poll");
    interest_set interests(hub);
    interests.reserve(2 * count);
    for (std::size_t i = 0; i < count; ++i) {
        if (fds[i].fd < 0) continue;
        if (fds[i].events & (POLLIN | POLLPRI | POLLRDHUP)) interests.add(fds[i].fd, detail::io_readable, w);
        if (fds[i].events & POLLOUT) interests.add(fds[i].fd, detail::io_writable, w);
    }
    for (;;) {
        const wake_reason reason = hub.park(w, deadline);
        if (reason == wake_reason::closed) {
            // notify_close: the fd is going away, so it must not be polled again (its number may
            // already belong to someone else by the time we run).
            int reported = 0;
            for (std::size_t i = 0; i < count; ++i) {
                if (fds[i].fd >= 0 && interests.closed(fds[i].fd)) {
                    fds[i].revents = POLLNVAL;
                    ++reported;
                }
            }
            return reported;
        }
        if (int ready = poll_now(fds, count); ready > 0) return ready;
        if (reason == wake_reason::timed_out) return 0;
    }
}

}  // namespace cogent
