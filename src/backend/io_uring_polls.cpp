// Readiness for the io_uring backend: arming, removing and reading one-shot polls.
#include "backend/io_uring_polls.hpp"

#include <poll.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "backend/backend.hpp"

namespace cogent::detail {
namespace {

constexpr std::uint32_t generation_mask = (std::uint32_t{1} << 30) - 1;
constexpr unsigned direction_event[2] = {io_readable, io_writable};
constexpr unsigned direction_mask[2] = {POLLIN | POLLPRI | POLLRDHUP, POLLOUT};

// A poll's user_data: the fd, the direction and the generation (top bit clear).
std::uint64_t poll_id(int fd, int direction, std::uint32_t generation) noexcept {
    return static_cast<std::uint32_t>(fd) | std::uint64_t(direction) << 32 | std::uint64_t(generation) << 33;
}

unsigned from_poll(int mask) noexcept {
    unsigned events = 0;
    if (mask & (POLLIN | POLLPRI | POLLRDHUP)) events |= io_readable;
    if (mask & POLLOUT) events |= io_writable;
    if (mask & (POLLERR | POLLHUP | POLLNVAL)) events |= io_failed | io_readable | io_writable;
    return events;
}

}  // namespace

void uring_polls::set_interest(int fd, unsigned events) {
    if (static_cast<std::size_t>(fd) >= records_.size()) records_.resize(static_cast<std::size_t>(fd) + 1);
    fd_record& r = records_[static_cast<std::size_t>(fd)];
    r.wanted = events & (io_readable | io_writable);
    bool disarmed = false;
    for (int d : {0, 1}) {
        bool wanted = (r.wanted & direction_event[d]) != 0;
        if (wanted && r.armed[d] == 0) {
            arm(fd, r, d);
        } else if (!wanted && r.armed[d] != 0) {
            if (!disarm(fd, r, d)) submit_then_disarm(fd, r, d);
            disarmed = true;
        }
    }
    // A poll outlived its wait (which timed out or was cancelled): its removal goes to the
    // kernel now, as the fd may be closed next, without notify_close if nobody else waits.
    if (disarmed) io_uring_submit(&ring_);
}

bool uring_polls::forget(int fd) noexcept {
    if (fd < 0 || static_cast<std::size_t>(fd) >= records_.size()) return false;
    fd_record& r = records_[static_cast<std::size_t>(fd)];
    r.wanted = 0;
    bool removing = false;
    for (int d : {0, 1}) {
        if (r.armed[d] == 0) continue;
        // If even a submit leaves no room for the removal, the poll stays until it fires; its
        // completion is then stale (its generation is no longer armed) and ignored.
        if (!disarm(fd, r, d)) {
            io_uring_submit(&ring_);
            disarm(fd, r, d);
        }
        r.armed[d] = 0;
        removing = true;
    }
    return removing;
}

void uring_polls::arm(int fd, fd_record& r, int d) {
    io_uring_sqe* s = sqe_or_throw(ring_, "to watch", fd);
    r.generation = (r.generation + 1) & generation_mask;
    if (r.generation == 0) r.generation = 1;
    io_uring_prep_poll_add(s, fd, direction_mask[d]);
    io_uring_sqe_set_data64(s, poll_id(fd, d, r.generation));
    r.armed[d] = r.generation;
}

// Queues the removal of the outstanding poll; false if the submission queue is full.
bool uring_polls::disarm(int fd, fd_record& r, int d) noexcept {
    io_uring_sqe* s = io_uring_get_sqe(&ring_);
    if (s == nullptr) return false;
    io_uring_prep_poll_remove(s, poll_id(fd, d, r.armed[d]));
    io_uring_sqe_set_data64(s, not_a_poll);
    r.armed[d] = 0;
    return true;
}

void uring_polls::submit_then_disarm(int fd, fd_record& r, int d) {
    int rc = io_uring_submit(&ring_);
    if (!disarm(fd, r, d)) {
        throw std::system_error(rc < 0 ? -rc : EBUSY, std::generic_category(),
                                "cogent: io_uring: no room to stop watching fd " + std::to_string(fd));
    }
}

// An fd leaves the list only once armed, so that a failure to arm it is retried next time
// rather than losing a wanted event.
void uring_polls::rearm_still_wanted() {
    while (!rearm_.empty()) {
        int fd = rearm_.back();
        fd_record& r = records_[static_cast<std::size_t>(fd)];
        for (int d : {0, 1}) {
            if ((r.wanted & direction_event[d]) != 0 && r.armed[d] == 0) arm(fd, r, d);
        }
        rearm_.pop_back();
    }
}

void uring_polls::complete(std::uint64_t id, int res, std::vector<std::pair<int, unsigned>>& ready) {
    int fd = static_cast<int>(static_cast<std::uint32_t>(id));
    int d = static_cast<int>((id >> 32) & 1);
    auto generation = static_cast<std::uint32_t>(id >> 33);
    if (fd < 0 || static_cast<std::size_t>(fd) >= records_.size()) return;
    fd_record& r = records_[static_cast<std::size_t>(fd)];
    if (r.armed[d] != generation) return;  // a removed poll, or one on an earlier file
    r.armed[d] = 0;
    // A poll the kernel cancelled by itself has nothing to say: it is armed again if wanted.
    // A bad fd is reported, and not re-armed until a wait asks for it again (as poll drops a
    // POLLNVAL fd), so a closed fd cannot make the loop spin.
    if (res != -EBADF && (r.wanted & direction_event[d]) != 0) rearm_.push_back(fd);
    if (res == -ECANCELED) return;
    unsigned events = res < 0 ? io_failed | io_readable | io_writable : from_poll(res);
    events &= r.wanted | io_failed;
    if (events != 0) ready.emplace_back(fd, events);
}

}  // namespace cogent::detail
