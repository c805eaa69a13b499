// poll(2), through ppoll(2) for its nanosecond timeout.
//
// Like select, poll keeps nothing in the kernel: every call passes the array of watched fds, and
// the kernel visits each of them, so a call costs time in proportion to the number of watched fds.
// Unlike select it takes any fd number. The array is kept dense: an fd -> index table finds an
// fd's entry, and a removed entry is replaced by the last one.
//
// POLLERR, POLLHUP and POLLNVAL are reported as failures, which wake readers and writers alike.
// POLLNVAL means the fd was closed behind the hub's back (without notify_close): poll would
// report it again on every call, so it is also dropped from the array; a later wait on that
// number adds it afresh.
//
// Regular files are always readable and writable to poll: a wait on one is reported at once.
#include <poll.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <system_error>
#include <utility>
#include <vector>

#include "backend/backend.hpp"
#include "cogent/errors.hpp"

namespace cogent::detail {
namespace {

short to_poll(unsigned events) noexcept {
    short mask = 0;
    if (events & io_readable) mask |= POLLIN | POLLPRI | POLLRDHUP;
    if (events & io_writable) mask |= POLLOUT;
    return mask;
}

unsigned from_poll(short mask) noexcept {
    unsigned events = 0;
    if (mask & (POLLIN | POLLPRI | POLLRDHUP)) events |= io_readable;
    if (mask & POLLOUT) events |= io_writable;
    if (mask & (POLLERR | POLLHUP | POLLNVAL)) events |= io_failed | io_readable | io_writable;
    return events;
}

// The timeout as ppoll wants it: exact to the nanosecond, so never early; null for forever.
timespec* to_timespec(duration timeout, timespec& ts) noexcept {
    if (timeout == forever) return nullptr;
    std::int64_t ns = std::max<std::int64_t>(timeout.count(), 0);
    ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    return &ts;
}

class poll_backend final : public backend {
public:
    backend_kind kind() const noexcept override { return backend_kind::poll; }

    void set_interest(int fd, unsigned events) override {
        check_fd(fd);
        short mask = to_poll(events);
        if (static_cast<std::size_t>(fd) >= index_.size())
            index_.resize(static_cast<std::size_t>(fd) + 1, -1);
        int& slot = index_[static_cast<std::size_t>(fd)];
        if (mask == 0) {
            if (slot >= 0) unwatch(fd);
        } else if (slot < 0) {
            slot = static_cast<int>(fds_.size());
            fds_.push_back(pollfd{fd, mask, 0});
        } else {
            fds_[static_cast<std::size_t>(slot)].events = mask;
        }
    }

    void forget(int fd) noexcept override {
        if (watched(fd)) unwatch(fd);
    }

    std::size_t poll(duration timeout, ready_sink& sink) override {
        timespec ts{};
        int n = ::ppoll(fds_.data(), fds_.size(), to_timespec(timeout, ts), nullptr);
        if (n < 0) {
            if (errno == EINTR) return 0;
            throw std::system_error(errno, std::generic_category(), "cogent: poll");
        }
        ready_.clear();
        bool invalid = false;
        for (std::size_t i = 0; i < fds_.size() && ready_.size() < static_cast<std::size_t>(n); ++i) {
            const pollfd& p = fds_[i];
            if (p.revents == 0) continue;
            invalid |= (p.revents & POLLNVAL) != 0;
            unsigned wanted = from_poll(p.events) | io_failed;
            ready_.push_back(entry{p.fd, from_poll(p.revents) & wanted, (p.revents & POLLNVAL) != 0});
        }
        // Dropped only once the whole array has been read: unwatching reorders it.
        if (invalid) {
            for (const entry& e : ready_) {
                if (e.invalid && watched(e.fd)) unwatch(e.fd);
            }
        }
        // Reported last: the sink may run posted jobs, which may change the array (notify_close).
        for (const entry& e : ready_)
            sink.on_ready(e.fd, e.events);
        return ready_.size();
    }

private:
    struct entry {
        int fd;
        unsigned events;
        bool invalid;
    };

    bool watched(int fd) const noexcept {
        return fd >= 0 && static_cast<std::size_t>(fd) < index_.size() &&
               index_[static_cast<std::size_t>(fd)] >= 0;
    }

    // Removes `fd` from the array by moving the last entry into its place.
    void unwatch(int fd) noexcept {
        std::size_t i = static_cast<std::size_t>(index_[static_cast<std::size_t>(fd)]);
        fds_[i] = fds_.back();
        index_[static_cast<std::size_t>(fds_[i].fd)] = static_cast<int>(i);
        fds_.pop_back();
        index_[static_cast<std::size_t>(fd)] = -1;
    }

    std::vector<pollfd> fds_;
    std::vector<int> index_;  // fd -> its place in fds_, or -1
    std::vector<entry> ready_;
};

}  // namespace

std::unique_ptr<backend> make_poll_backend() {
    return std::make_unique<poll_backend>();
}

}  // namespace cogent::detail
