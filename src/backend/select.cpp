// select(2): the oldest multiplexer, for fds below FD_SETSIZE only.
//
// select keeps nothing in the kernel between calls: each call hands over the whole interest set
// as bitmaps, which are rebuilt here from the table of watched fds, and the kernel then scans
// every bit below the highest watched fd. Both costs grow with the number of watched fds (and
// the kernel's with their magnitude), which is what the benchmarks show against epoll.
//
// An fd_set holds FD_SETSIZE (1024) bits; FD_SET on a higher fd writes past its end. check_fd
// therefore refuses such fds with a backend_error, before anything touches a bitmap.
//
// select cannot say which fd is bad: one fd closed behind the hub's back (without notify_close)
// makes the whole call fail with EBADF, every time. The table is then searched with
// fcntl(F_GETFD) for the closed fds, which are reported failed (their waiters wake, and their own
// calls fail with EBADF) and no longer watched, so the loop does not spin on the same error.
//
// Regular files are always readable and writable to select: a wait on one is reported at once.
#include <fcntl.h>
#include <sys/select.h>
#include <sys/time.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "backend/backend.hpp"
#include "cogent/errors.hpp"

namespace cogent::detail {
namespace {

// The timeout as select wants it: microseconds, rounded up so that a timer is never early;
// null for forever.
timeval* to_timeval(duration timeout, timeval& tv) noexcept {
    if (timeout == forever) return nullptr;
    std::int64_t ns = std::max<std::int64_t>(timeout.count(), 0);
    std::int64_t us = ns / 1000 + (ns % 1000 != 0 ? 1 : 0);
    tv.tv_sec = static_cast<time_t>(us / 1'000'000);
    tv.tv_usec = static_cast<suseconds_t>(us % 1'000'000);
    return &tv;
}

class select_backend final : public backend {
public:
    select_backend() { index_.fill(-1); }

    backend_kind kind() const noexcept override { return backend_kind::select; }

    void check_fd(int fd) const override {
        backend::check_fd(fd);
        if (fd >= FD_SETSIZE) {
            throw backend_error("cogent: the select backend cannot watch fd " + std::to_string(fd) +
                                ": select only handles fds below FD_SETSIZE (" + std::to_string(FD_SETSIZE) +
                                "); use the poll, epoll or io_uring backend instead (hub_options::backend or "
                                "COGENT_BACKEND)");
        }
    }

    void set_interest(int fd, unsigned events) override {
        check_fd(fd);
        events &= io_readable | io_writable;
        int& slot = index_[static_cast<std::size_t>(fd)];
        if (events == 0) {
            if (slot >= 0) unwatch(fd);
        } else if (slot < 0) {
            slot = static_cast<int>(watched_.size());
            watched_.push_back(entry{fd, events});
        } else {
            watched_[static_cast<std::size_t>(slot)].events = events;
        }
    }

    void forget(int fd) noexcept override {
        if (fd >= 0 && fd < FD_SETSIZE && index_[static_cast<std::size_t>(fd)] >= 0) unwatch(fd);
    }

    std::size_t poll(duration timeout, ready_sink& sink) override {
        fd_set readable;
        fd_set writable;
        fd_set exceptional;
        FD_ZERO(&readable);
        FD_ZERO(&writable);
        FD_ZERO(&exceptional);
        int nfds = 0;
        for (const entry& e : watched_) {
            // Out-of-band data shows in the exceptional set only; epoll reports it (EPOLLPRI) as
            // readable, and so do we.
            if (e.events & io_readable) {
                FD_SET(e.fd, &readable);
                FD_SET(e.fd, &exceptional);
            }
            if (e.events & io_writable) FD_SET(e.fd, &writable);
            nfds = std::max(nfds, e.fd + 1);
        }
        timeval tv{};
        int n = ::select(nfds, &readable, &writable, &exceptional, to_timeval(timeout, tv));
        if (n < 0) {
            if (errno == EINTR) return 0;
            if (errno == EBADF) return report_closed_fds(sink);
            throw std::system_error(errno, std::generic_category(), "cogent: select");
        }
        ready_.clear();
        for (std::size_t i = 0; i < watched_.size() && ready_.size() < static_cast<std::size_t>(n); ++i) {
            int fd = watched_[i].fd;
            unsigned events = 0;
            if (FD_ISSET(fd, &readable) || FD_ISSET(fd, &exceptional)) events |= io_readable;
            if (FD_ISSET(fd, &writable)) events |= io_writable;
            if (events != 0) ready_.emplace_back(fd, events);
        }
        return report(sink);
    }

private:
    struct entry {
        int fd;
        unsigned events;
    };

    // Removes `fd` from the watched fds by moving the last one into its place.
    void unwatch(int fd) noexcept {
        std::size_t i = static_cast<std::size_t>(index_[static_cast<std::size_t>(fd)]);
        watched_[i] = watched_.back();
        index_[static_cast<std::size_t>(watched_[i].fd)] = static_cast<int>(i);
        watched_.pop_back();
        index_[static_cast<std::size_t>(fd)] = -1;
    }

    std::size_t report_closed_fds(ready_sink& sink) {
        ready_.clear();
        for (const entry& e : watched_) {
            if (::fcntl(e.fd, F_GETFD) < 0 && errno == EBADF) {
                ready_.emplace_back(e.fd, io_failed | io_readable | io_writable);
            }
        }
        for (const auto& [fd, events] : ready_)
            unwatch(fd);
        return report(sink);
    }

    // Reported only once the table has been read: the sink may run posted jobs, which may
    // change the interest set (notify_close, say) while we would otherwise be walking it.
    std::size_t report(ready_sink& sink) {
        for (const auto& [fd, events] : ready_)
            sink.on_ready(fd, events);
        return ready_.size();
    }

    std::vector<entry> watched_;
    std::array<int, FD_SETSIZE> index_;  // fd -> its place in watched_, or -1
    std::vector<std::pair<int, unsigned>> ready_;
};

}  // namespace

std::unique_ptr<backend> make_select_backend() {
    return std::make_unique<select_backend>();
}

}  // namespace cogent::detail
