// io_uring (through liburing), used for readiness: one IORING_OP_POLL_ADD per fd and direction.
//
// One-shot polls, not multishot (IORING_POLL_ADD_MULTI). A multishot poll posts a completion
// when the fd's wait queue is woken, not while it stays ready: a reader that reads part of what
// is there and waits again would never hear of the rest. That is edge-triggered behaviour, and
// this backend, like epoll and poll, promises level-triggered waits. A one-shot poll looks at the
// fd's state when it is armed, so arming one per wait gives exactly that; the arming costs no
// system call of its own, as it rides on the io_uring_enter that waits. A multishot poll would
// also end by itself (a completion without IORING_CQE_F_MORE) and need re-arming anyway.
//
// The life of a poll:
//   - set_interest arms a poll for each direction wanted that has none outstanding; the request
//     is only queued, and goes to the kernel with the next wait, costing no system call of its own.
//   - A direction nobody wants any more that still has a poll outstanding (its wait timed out or
//     was cancelled) has the poll removed at once, with a system call: an armed poll holds a
//     reference to the file, and a socket closed right after (notify_close is not required when
//     nobody waits) would otherwise stay open in the kernel, its peer seeing no end, until the
//     next wait. This is the slow path: a wait that ends normally has seen its poll complete.
//   - A completion ends its poll. If its direction is still wanted once the waiters it woke have
//     run (checked at the start of the next poll()), it is armed again. That keeps the hub's own
//     eventfd watched, which the hub asks for once and never again.
//   - forget(fd) likewise removes the fd's polls at once, before the fd is closed.
//
// Every poll's user_data carries the fd, the direction and a generation, a per-fd count of polls
// armed that survives forget(). A completion counts only if it carries the generation of its
// fd's outstanding poll in that direction, so the completion of a removed poll, or of a poll on
// an earlier file that had the same fd number, is never mistaken for news about the current one.
// Removal requests have the top bit set and are not polls; liburing's own timeouts (user_data
// all ones) fall in the same class.
//
// A regular file has no poll method: the kernel reports it readable and writable at once.
//
// Native operations. Sockets hand their recv, send and accept to the ring (submit_*) instead of
// waiting for readiness and retrying: the request rides on the next io_uring_enter with every
// other connection's, and the kernel performs it at once if it can (data already there) or when
// the socket is ready. In request-response traffic that is no system call per message at all,
// where readiness costs a recv, a send and often an EAGAIN. Their user_data is the op's address
// with the top two bits set. An op is in flight until its completion, which the waiting greenlet
// must see before it returns (the kernel writes into its buffer): cancel() and forget() ask the
// kernel to cancel, and the op then completes with -ECANCELED (or its result, if it was first).
// COGENT_IO_URING_NATIVE=0 turns native operations off (readiness only), to compare the two.
#include <liburing.h>
#include <poll.h>

#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>
#include <string_view>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "backend/backend.hpp"
#include "backend/io_uring_setup.hpp"
#include "cogent/errors.hpp"

namespace cogent::detail {
namespace {

constexpr unsigned ring_entries = 256;
constexpr std::uint64_t not_a_poll = std::uint64_t{1} << 63;
constexpr std::uint64_t native_tag = not_a_poll | std::uint64_t{1} << 62;  // and the op's address
constexpr std::uint64_t liburing_timeout = ~std::uint64_t{0};
constexpr std::uint32_t generation_mask = (std::uint32_t{1} << 30) - 1;
constexpr unsigned direction_event[2] = {io_readable, io_writable};
constexpr unsigned direction_mask[2] = {POLLIN | POLLPRI | POLLRDHUP, POLLOUT};

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

class io_uring_backend final : public backend {
public:
    io_uring_backend() { init_ring(ring_, ring_entries); }
    ~io_uring_backend() override { io_uring_queue_exit(&ring_); }

    backend_kind kind() const noexcept override { return backend_kind::io_uring; }

    bool native_io() const noexcept override { return native_; }

    void submit_recv(native_op& op, int fd, void* buffer, std::size_t size) override {
        io_uring_prep_recv(start(op, fd, 0), fd, buffer, size, 0);
    }
    void submit_send(native_op& op, int fd, const void* data, std::size_t size) override {
        io_uring_prep_send(start(op, fd, 1), fd, data, size, MSG_NOSIGNAL);
    }
    void submit_accept(native_op& op, int fd, void* address, unsigned* address_size) override {
        io_uring_prep_accept(start(op, fd, 0), fd, static_cast<sockaddr*>(address),
                             reinterpret_cast<socklen_t*>(address_size), SOCK_NONBLOCK | SOCK_CLOEXEC);
    }

    void cancel(native_op& op) noexcept override {
        if (!op.in_flight) return;
        io_uring_sqe* s = sqe();
        if (s == nullptr) {
            io_uring_submit(&ring_);
            s = sqe();
        }
        // Without room even then, the op runs to its natural end (data, or the fd's close).
        if (s == nullptr) return;
        io_uring_prep_cancel64(s, native_id(op), 0);
        io_uring_sqe_set_data64(s, not_a_poll);
    }

    void set_interest(int fd, unsigned events) override {
        check_fd(fd);
        if (static_cast<std::size_t>(fd) >= records_.size())
            records_.resize(static_cast<std::size_t>(fd) + 1);
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

    void forget(int fd) noexcept override {
        if (fd < 0 || static_cast<std::size_t>(fd) >= records_.size()) return;
        fd_record& r = records_[static_cast<std::size_t>(fd)];
        r.wanted = 0;
        bool removing = false;
        for (native_op* op : r.native) {
            if (op == nullptr) continue;
            cancel(*op);
            removing = true;
        }
        for (int d : {0, 1}) {
            if (r.armed[d] == 0) continue;
            // If even a submit leaves no room for the removal, the poll stays until it fires;
            // its completion is then stale (its generation is no longer armed) and ignored.
            if (!disarm(fd, r, d)) {
                io_uring_submit(&ring_);
                disarm(fd, r, d);
            }
            r.armed[d] = 0;
            removing = true;
        }
        // The removals (and any arming of this fd still queued) reach the kernel before the
        // fd is closed.
        if (removing || io_uring_sq_ready(&ring_) > 0) io_uring_submit(&ring_);
    }

    std::size_t poll(duration timeout, ready_sink& sink) override {
        rearm_still_wanted();
        int rc;
        if (timeout == duration::zero()) {
            rc = io_uring_submit(&ring_);
        } else {
            __kernel_timespec ts{};
            if (timeout != forever) {
                std::int64_t ns = std::max<std::int64_t>(timeout.count(), 0);
                ts.tv_sec = ns / 1'000'000'000;
                ts.tv_nsec = ns % 1'000'000'000;
            }
            io_uring_cqe* first = nullptr;
            rc = io_uring_submit_and_wait_timeout(&ring_, &first, 1, timeout == forever ? nullptr : &ts,
                                                  nullptr);
        }
        // ETIME: the time is up. EINTR: a signal. EAGAIN, EBUSY: the kernel is short of room for
        // completions, which reaping below makes.
        if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
            throw std::system_error(-rc, std::generic_category(), "cogent: io_uring_enter");
        }
        reap();
        ready_.clear();
        finished_.clear();
        for (const auto& [id, res] : completions_)
            complete(id, res);
        // Reported last: the sink may run posted jobs, which may call set_interest or forget,
        // and a finished op's waiter may be destroyed as soon as its greenlet runs.
        for (native_op* op : finished_)
            op->complete(op);
        for (const auto& [fd, events] : ready_)
            sink.on_ready(fd, events);
        return ready_.size() + finished_.size();
    }

private:
    struct fd_record {
        unsigned wanted = 0;
        std::uint32_t armed[2] = {0, 0};  // generation of the outstanding poll per direction; 0: none
        std::uint32_t generation = 0;
        native_op* native[2] = {nullptr, nullptr};  // in flight, per direction
    };

    static std::uint64_t native_id(const native_op& op) noexcept {
        return native_tag | reinterpret_cast<std::uintptr_t>(&op);
    }

    // An entry for `op`, marked in flight on `fd`.
    io_uring_sqe* start(native_op& op, int fd, int direction) {
        check_fd(fd);
        if (static_cast<std::size_t>(fd) >= records_.size()) records_.resize(static_cast<std::size_t>(fd) + 1);
        io_uring_sqe* s = sqe();
        if (s == nullptr) {
            int rc = io_uring_submit(&ring_);
            s = sqe();
            if (s == nullptr) {
                throw std::system_error(rc < 0 ? -rc : EBUSY, std::generic_category(),
                                        "cogent: io_uring: no room for an operation on fd " + std::to_string(fd));
            }
        }
        op.fd = fd;
        op.direction = direction;
        op.in_flight = true;
        op.result = 0;
        records_[static_cast<std::size_t>(fd)].native[direction] = &op;
        io_uring_sqe_set_data64(s, native_id(op));
        return s;
    }

    io_uring_sqe* sqe() noexcept { return io_uring_get_sqe(&ring_); }

    void arm(int fd, fd_record& r, int d) {
        io_uring_sqe* s = sqe();
        if (s == nullptr) {
            // The submission queue is full: hand it to the kernel and take a fresh entry.
            int rc = io_uring_submit(&ring_);
            s = sqe();
            if (s == nullptr) {
                throw std::system_error(rc < 0 ? -rc : EBUSY, std::generic_category(),
                                        "cogent: io_uring: no room to watch fd " + std::to_string(fd));
            }
        }
        r.generation = (r.generation + 1) & generation_mask;
        if (r.generation == 0) r.generation = 1;
        io_uring_prep_poll_add(s, fd, direction_mask[d]);
        io_uring_sqe_set_data64(s, poll_id(fd, d, r.generation));
        r.armed[d] = r.generation;
    }

    // Queues the removal of the outstanding poll; false if the submission queue is full.
    bool disarm(int fd, fd_record& r, int d) noexcept {
        io_uring_sqe* s = sqe();
        if (s == nullptr) return false;
        io_uring_prep_poll_remove(s, poll_id(fd, d, r.armed[d]));
        io_uring_sqe_set_data64(s, not_a_poll);
        r.armed[d] = 0;
        return true;
    }

    void submit_then_disarm(int fd, fd_record& r, int d) {
        int rc = io_uring_submit(&ring_);
        if (!disarm(fd, r, d)) {
            throw std::system_error(rc < 0 ? -rc : EBUSY, std::generic_category(),
                                    "cogent: io_uring: no room to stop watching fd " + std::to_string(fd));
        }
    }

    // An fd leaves the list only once armed, so that a failure to arm it is retried next time
    // rather than losing a wanted event.
    void rearm_still_wanted() {
        while (!rearm_.empty()) {
            int fd = rearm_.back();
            fd_record& r = records_[static_cast<std::size_t>(fd)];
            for (int d : {0, 1}) {
                if ((r.wanted & direction_event[d]) != 0 && r.armed[d] == 0) arm(fd, r, d);
            }
            rearm_.pop_back();
        }
    }

    // Copies every completion out of the ring, so that none is looked at twice and the ring is
    // free again before anyone is told anything.
    void reap() {
        completions_.clear();
        io_uring_cqe* batch[64];
        while (unsigned n = io_uring_peek_batch_cqe(&ring_, batch, 64)) {
            for (unsigned i = 0; i < n; ++i)
                completions_.emplace_back(io_uring_cqe_get_data64(batch[i]), batch[i]->res);
            io_uring_cq_advance(&ring_, n);
        }
    }

    void complete(std::uint64_t id, int res) {
        if ((id & native_tag) == native_tag && id != liburing_timeout) {
            auto* op = reinterpret_cast<native_op*>(static_cast<std::uintptr_t>(id & ~native_tag));
            op->result = res;
            op->in_flight = false;
            native_op*& slot = records_[static_cast<std::size_t>(op->fd)].native[op->direction];
            if (slot == op) slot = nullptr;
            finished_.push_back(op);
            return;
        }
        if (id & not_a_poll) return;
        int fd = static_cast<int>(static_cast<std::uint32_t>(id));
        int d = static_cast<int>((id >> 32) & 1);
        auto generation = static_cast<std::uint32_t>(id >> 33);
        if (fd < 0 || static_cast<std::size_t>(fd) >= records_.size()) return;
        fd_record& r = records_[static_cast<std::size_t>(fd)];
        if (r.armed[d] != generation) return;  // a removed poll, or one on an earlier file
        r.armed[d] = 0;
        // A poll the kernel cancelled by itself has nothing to say: it is armed again if wanted.
        // A bad fd is reported, and not re-armed until a wait asks for it again (as poll drops
        // a POLLNVAL fd), so a closed fd cannot make the loop spin.
        if (res != -EBADF && (r.wanted & direction_event[d]) != 0) rearm_.push_back(fd);
        if (res == -ECANCELED) return;
        unsigned events = res < 0 ? io_failed | io_readable | io_writable : from_poll(res);
        events &= r.wanted | io_failed;
        if (events != 0) ready_.emplace_back(fd, events);
    }

    io_uring ring_{};
    std::vector<fd_record> records_;
    std::vector<int> rearm_;  // fds whose poll has completed; armed again at the next poll() if still wanted
    std::vector<std::pair<std::uint64_t, int>> completions_;
    std::vector<std::pair<int, unsigned>> ready_;
    std::vector<native_op*> finished_;
    bool native_ = native_enabled();

    static bool native_enabled() noexcept {
        const char* setting = std::getenv("COGENT_IO_URING_NATIVE");
        return setting == nullptr || std::string_view(setting) != "0";
    }
};

}  // namespace

std::unique_ptr<backend> make_io_uring_backend() {
    return std::make_unique<io_uring_backend>();
}

}  // namespace cogent::detail
