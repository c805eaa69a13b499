// io_uring (through liburing): the backend. Readiness is one IORING_OP_POLL_ADD per fd and
// direction (io_uring_polls.cpp), sockets' own calls are native ops (here), and listeners accept
// through a multishot accept (io_uring_accept.cpp); this file ties them to one ring and one poll().
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
// An op whose greenlet must go without the hub's help (it is unwinding, or the hub is being
// destroyed) is cancelled and waited out here, in the kernel (wait_out). Listeners accept through
// a multishot accept instead of one accept per connection (io_uring_accept.hpp).
#include <liburing.h>
#include <poll.h>

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstdio>
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
#include "backend/io_uring_accept.hpp"
#include "backend/io_uring_polls.hpp"
#include "backend/io_uring_ring.hpp"
#include "backend/io_uring_setup.hpp"
#include "cogent/errors.hpp"

namespace cogent::detail {
namespace {

constexpr unsigned ring_entries = 256;
// A completion copied out of the ring.
struct completion {
    std::uint64_t id;
    int res;
    unsigned flags;
};

class io_uring_backend final : public backend {
public:
    io_uring_backend() { init_ring(ring_, ring_entries); }
    ~io_uring_backend() override {
        accepts_.shut_down();
        io_uring_queue_exit(&ring_);
    }

    backend_kind kind() const noexcept override { return backend_kind::io_uring; }

    bool native_io() const noexcept override { return native_enabled_; }

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

    bool multishot_accept() const noexcept override { return native_enabled_ && accepts_.enabled(); }
    void submit_multishot_accept(native_op& op, int fd) override {
        check_fd(fd);
        accepts_.wait(op, fd);
    }
    int take_accepted(int fd) noexcept override { return accepts_.take(fd); }

    void cancel(native_op& op) noexcept override {
        if (!op.in_flight) return;
        if (accepts_.cancel(op)) return;  // it only stops waiting; the multishot stays armed
        // Without room even after a submit, the op runs to its natural end (data, or the fd's close).
        io_uring_sqe* s = sqe_or_null(ring_);
        if (s == nullptr) return;
        io_uring_prep_cancel64(s, native_id(op), 0);
        io_uring_sqe_set_data64(s, not_a_poll);
    }

    void set_interest(int fd, unsigned events) override {
        check_fd(fd);
        polls_.set_interest(fd, events);
    }

    void forget(int fd) noexcept override {
        accepts_.forget(fd);
        bool removing = polls_.forget(fd);
        if (fd >= 0 && static_cast<std::size_t>(fd) < native_.size()) {
            for (native_op* op : native_[static_cast<std::size_t>(fd)]) {
                if (op == nullptr) continue;
                cancel(*op);
                removing = true;
            }
        }
        // The removals (and any arming of this fd still queued) reach the kernel before the
        // fd is closed.
        if (removing || io_uring_sq_ready(&ring_) > 0) io_uring_submit(&ring_);
    }

    std::size_t poll(duration timeout, ready_sink& sink) override {
        polls_.rearm_still_wanted();
        accepts_.rearm_waited();
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
        for (const completion& c : completions_)
            complete(c);
        // Reported last: the sink may run posted jobs, which may call set_interest or forget,
        // and a finished op's waiter may be destroyed as soon as its greenlet runs.
        for (native_op* op : finished_)
            op->complete(op);
        for (const auto& [fd, events] : ready_)
            sink.on_ready(fd, events);
        const std::size_t reported = ready_.size() + finished_.size();
        ready_.clear();
        finished_.clear();
        return reported;
    }

    void wait_out(native_op& op) noexcept override {
        cancel(op);
        while (op.in_flight) {
            int rc = io_uring_submit_and_wait(&ring_, 1);
            if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY && rc != -ETIME) {
                // The ring itself is broken: nothing will ever complete `op`, and its buffer may
                // still be written. There is no safe way on.
                std::fprintf(stderr, "cogent: io_uring_enter failed (%s) while waiting out a cancelled call\n",
                             std::strerror(-rc));
                std::abort();
            }
            reap();
            for (const completion& c : completions_)
                complete(c);
            // Other calls that ended meanwhile wake their greenlets now (a wake only queues
            // them); readiness stays in ready_ for the next poll().
            for (native_op* done : finished_) {
                if (done != &op) done->complete(done);
            }
            finished_.clear();
        }
    }

private:
    static std::uint64_t native_id(const native_op& op) noexcept {
        return native_tag | reinterpret_cast<std::uintptr_t>(&op);
    }

    // An entry for `op`, marked in flight on `fd`.
    io_uring_sqe* start(native_op& op, int fd, int direction) {
        check_fd(fd);
        if (static_cast<std::size_t>(fd) >= native_.size()) native_.resize(static_cast<std::size_t>(fd) + 1);
        io_uring_sqe* s = sqe_or_throw(ring_, "for an operation on", fd);
        op.fd = fd;
        op.direction = direction;
        op.in_flight = true;
        op.result = 0;
        native_[static_cast<std::size_t>(fd)][direction] = &op;
        io_uring_sqe_set_data64(s, native_id(op));
        return s;
    }

    // Copies every completion out of the ring, so that none is looked at twice and the ring is
    // free again before anyone is told anything.
    void reap() {
        completions_.clear();
        io_uring_cqe* batch[64];
        while (unsigned n = io_uring_peek_batch_cqe(&ring_, batch, 64)) {
            for (unsigned i = 0; i < n; ++i)
                completions_.push_back({io_uring_cqe_get_data64(batch[i]), batch[i]->res, batch[i]->flags});
            io_uring_cq_advance(&ring_, n);
        }
    }

    void complete(const completion& c) {
        const std::uint64_t id = c.id;
        const int res = c.res;
        if (id == liburing_timeout) return;
        if (accept_streams::owns(id)) {
            accepts_.complete(id, res, c.flags, finished_);
            return;
        }
        if ((id & native_tag) == native_tag) {
            auto* op = reinterpret_cast<native_op*>(static_cast<std::uintptr_t>(id & ~native_tag));
            op->result = res;
            op->in_flight = false;
            native_op*& slot = native_[static_cast<std::size_t>(op->fd)][op->direction];
            if (slot == op) slot = nullptr;
            finished_.push_back(op);
            return;
        }
        if (uring_polls::owns(id)) polls_.complete(id, res, ready_);
        // Anything else (a removal's, a cancellation's) has nothing to report.
    }

    io_uring ring_{};
    uring_polls polls_{ring_};
    std::vector<std::array<native_op*, 2>> native_;  // per fd, the ops in flight per direction
    std::vector<completion> completions_;
    std::vector<std::pair<int, unsigned>> ready_;
    std::vector<native_op*> finished_;
    bool native_enabled_ = native_enabled();
    accept_streams accepts_{ring_};

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
