// Multishot accept for the io_uring backend; see io_uring_accept.hpp for the life of a stream.
#include "backend/io_uring_accept.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string_view>

namespace cogent::detail {

bool accept_streams::enabled_by_environment() noexcept {
    // COGENT_IO_URING_MULTISHOT_ACCEPT=0 accepts one connection per submission instead, to compare.
    const char* setting = std::getenv("COGENT_IO_URING_MULTISHOT_ACCEPT");
    return setting == nullptr || std::string_view(setting) != "0";
}

accept_streams::~accept_streams() {
    for (stream& s : streams_) {
        for (int fd : s.queued) ::close(fd);
    }
}

accept_streams::stream& accept_streams::at(int fd) {
    if (static_cast<std::size_t>(fd) >= streams_.size()) streams_.resize(static_cast<std::size_t>(fd) + 1);
    return streams_[static_cast<std::size_t>(fd)];
}

int accept_streams::take(int fd) noexcept {
    if (fd < 0 || static_cast<std::size_t>(fd) >= streams_.size()) return -1;
    stream& s = streams_[static_cast<std::size_t>(fd)];
    if (s.queued.empty()) return -1;
    const int connection = s.queued.front();
    s.queued.erase(s.queued.begin());
    return connection;
}

void accept_streams::wait(native_op& op, int fd) {
    stream& s = at(fd);
    if (!s.armed) arm(fd, s);
    op.fd = fd;
    op.direction = 0;
    op.result = 0;
    op.in_flight = true;
    s.waiting = &op;
}

void accept_streams::arm(int fd, stream& s) {
    io_uring_sqe* sqe = sqe_or_throw(ring_, "to accept on", fd);
    s.generation = (s.generation + 1) & generation_mask;
    io_uring_prep_multishot_accept(sqe, fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, id_of(fd, s.generation));
    s.armed = true;
    s.cancelling = false;
}

void accept_streams::cancel_multishot(int fd, stream& s) noexcept {
    if (!s.armed || s.cancelling) return;
    // Without room even after a submit, the multishot stays armed and the queue grows past its
    // limit; that costs memory, not connections.
    io_uring_sqe* sqe = sqe_or_null(ring_);
    if (sqe == nullptr) return;
    io_uring_prep_cancel64(sqe, id_of(fd, s.generation), 0);
    io_uring_sqe_set_data64(sqe, not_a_poll);
    s.cancelling = true;
}

bool accept_streams::cancel(native_op& op) noexcept {
    if (op.fd < 0 || static_cast<std::size_t>(op.fd) >= streams_.size()) return false;
    stream& s = streams_[static_cast<std::size_t>(op.fd)];
    if (s.waiting != &op) return false;
    s.waiting = nullptr;
    op.result = -ECANCELED;
    op.in_flight = false;
    return true;
}

void accept_streams::forget(int fd) noexcept {
    if (fd < 0 || static_cast<std::size_t>(fd) >= streams_.size()) return;
    stream& s = streams_[static_cast<std::size_t>(fd)];
    if (s.waiting != nullptr) {
        // The hub has woken it already (closed); it only has to find its call over.
        s.waiting->result = -ECANCELED;
        s.waiting->in_flight = false;
        s.waiting = nullptr;
    }
    cancel_multishot(fd, s);
    for (int connection : s.queued) ::close(connection);
    s.queued.clear();
    // From now on every completion of the old multishot is stale: what it accepted is closed.
    s.generation = (s.generation + 1) & generation_mask;
    s.armed = false;
    s.cancelling = false;
}

void accept_streams::rearm_waited() {
    while (!rearm_.empty()) {
        const int fd = rearm_.back();
        stream& s = streams_[static_cast<std::size_t>(fd)];
        if (s.waiting != nullptr && !s.armed) arm(fd, s);
        rearm_.pop_back();
    }
}

void accept_streams::complete(std::uint64_t id, int res, unsigned flags, std::vector<native_op*>& finished) {
    const int fd = static_cast<int>(static_cast<std::uint32_t>(id));
    const auto generation = static_cast<std::uint32_t>(id >> 32) & generation_mask;
    stream* s = fd >= 0 && static_cast<std::size_t>(fd) < streams_.size() ? &streams_[static_cast<std::size_t>(fd)] : nullptr;
    if (s == nullptr || !s->armed || s->generation != generation) {
        // A multishot forgotten (its listener closed) or replaced: nobody will take this one.
        if (res >= 0) ::close(res);
        return;
    }
    if ((flags & IORING_CQE_F_MORE) == 0) {
        s->armed = false;
        s->cancelling = false;
    }
    if (res >= 0) {
        if (s->waiting != nullptr) {
            deliver(*s, res, finished);
        } else {
            s->queued.push_back(res);
            if (s->queued.size() >= queue_limit) cancel_multishot(fd, *s);
        }
        return;  // a multishot that ended with this one is armed again by the next accept
    }
    // An error ends the multishot.
    if (res == -ECANCELED) {
        // Cancelled because the queue filled; if someone waits again by now, arm it anew.
        if (s->waiting != nullptr) rearm_.push_back(fd);
        return;
    }
    if (res == -EINVAL) {
        // Either the kernel does not know multishot accept, or the fd is no listener. Only the
        // first is the backend's business (single-shot accepts from now on, which the listener
        // retries with); the second is the caller's error, reported as it is.
        int listening = 0;
        socklen_t size = sizeof listening;
        if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) == 0 && listening != 0) enabled_ = false;
    }
    // Nobody waiting: the next accept arms again, and meets the error itself if it persists.
    if (s->waiting != nullptr) deliver(*s, res, finished);
}

void accept_streams::deliver(stream& s, int res, std::vector<native_op*>& finished) noexcept {
    native_op* op = s.waiting;
    s.waiting = nullptr;
    op->result = res;
    op->in_flight = false;
    finished.push_back(op);
}

void accept_streams::shut_down() noexcept {
    std::size_t armed = 0;
    for (std::size_t fd = 0; fd < streams_.size(); ++fd) {
        stream& s = streams_[fd];
        if (!s.armed) continue;
        s.cancelling = false;
        cancel_multishot(static_cast<int>(fd), s);
        ++armed;
    }
    // Each armed multishot ends with a completion without IORING_CQE_F_MORE; connections accepted
    // before that are closed as they come. A tenth of a second at most per round, a few rounds.
    for (int round = 0; armed > 0 && round < 10; ++round) {
        __kernel_timespec limit{0, 100'000'000};
        io_uring_cqe* cqe = nullptr;
        io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &limit, nullptr);
        while (io_uring_peek_cqe(&ring_, &cqe) == 0) {
            const std::uint64_t id = io_uring_cqe_get_data64(cqe);
            if (owns(id)) {
                const int fd = static_cast<int>(static_cast<std::uint32_t>(id));
                if (cqe->res >= 0) ::close(cqe->res);
                if ((cqe->flags & IORING_CQE_F_MORE) == 0 && static_cast<std::size_t>(fd) < streams_.size() &&
                    streams_[static_cast<std::size_t>(fd)].armed) {
                    streams_[static_cast<std::size_t>(fd)].armed = false;
                    --armed;
                }
            }
            io_uring_cqe_seen(&ring_, cqe);
        }
    }
}

}  // namespace cogent::detail
