// epoll, level-triggered or edge-triggered.
//
// Level-triggered, a registration nobody wants any more is kept until it reports an event, and
// is then cut down to what is wanted: a wait that ends costs no EPOLL_CTL_DEL.
//
// Edge-triggered, an fd is registered for reading and writing (EPOLLET) and stays registered
// until forget(). See backend.hpp for the drain-until-EAGAIN contract this puts on waiters.
//
// In both modes, a wait that starts on an fd nobody was waiting on re-registers it
// (EPOLL_CTL_MOD, or ADD if the kernel no longer knows it): one epoll_ctl per wait. The kept
// registration may be stale, because close() silently drops it from the epoll set, and a new file
// given the same number would then never be reported. Skipping that call would make a raw fd
// closed without notify_close() hang its successor's first wait; correctness wins over the
// system call. Sockets that cogent made are the exception: they are adopt()ed, which promises a
// forget() before any close, so their kept registration is trusted and a wait on them costs no
// epoll_ctl at all once the first has registered them.
//
// epoll refuses regular files and directories (EPERM): they are always ready, so they are
// reported ready at once instead.
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <vector>

#include "backend/backend.hpp"
#include "cogent/errors.hpp"

namespace cogent::detail {
namespace {

unsigned to_epoll(unsigned events) {
    unsigned mask = 0;
    if (events & io_readable) mask |= EPOLLIN | EPOLLRDHUP;
    if (events & io_writable) mask |= EPOLLOUT;
    return mask;
}

unsigned from_epoll(unsigned mask) {
    unsigned events = 0;
    if (mask & (EPOLLIN | EPOLLRDHUP | EPOLLPRI)) events |= io_readable;
    if (mask & EPOLLOUT) events |= io_writable;
    if (mask & (EPOLLERR | EPOLLHUP)) events |= io_failed | io_readable | io_writable;
    return events;
}

class epoll_backend final : public backend {
public:
    explicit epoll_backend(bool edge_triggered) : edge_triggered_(edge_triggered), events_(256) {
        epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
        if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "cogent: epoll_create1");
    }
    ~epoll_backend() override { ::close(epoll_fd_); }

    backend_kind kind() const noexcept override {
        return edge_triggered_ ? backend_kind::epoll_et : backend_kind::epoll;
    }

    void set_interest(int fd, unsigned events) override {
        check_fd(fd);
        fd_record& r = record(fd);
        bool was_idle = r.wanted == 0;
        r.wanted = events & (io_readable | io_writable);
        // The number may now name a different file than the regular file epoll refused: ask again.
        if (r.always_ready && was_idle && r.wanted != 0) r.always_ready = false;
        if (r.always_ready) {
            if (r.wanted != 0) always_ready_pending_ = true;
            return;
        }
        unsigned needed = edge_triggered_ ? (r.wanted != 0 ? io_readable | io_writable : 0) : r.wanted;
        bool stale_possible = was_idle && r.wanted != 0 && r.registered != 0 && !r.adopted;
        if ((needed & ~r.registered) == 0 && !stale_possible) return;  // registered is a superset
        update(fd, r, r.registered | needed);
    }

    void adopt(int fd) noexcept override {
        if (fd < 0) return;
        try {
            fd_record& r = record(fd);
            // What is recorded for this number may be a registration the kernel dropped when an
            // earlier file with the number was closed: start afresh (the first wait then adds
            // it, or modifies it if the kernel still has it after all).
            r = fd_record{};
            r.adopted = true;
        } catch (...) {
            // Without memory for the record the fd is simply not adopted: waits stay correct,
            // paying their epoll_ctl.
        }
    }

    void forget(int fd) noexcept override {
        if (fd < 0 || static_cast<std::size_t>(fd) >= records_.size()) return;
        fd_record& r = records_[fd];
        if (r.registered != 0) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
        r = fd_record{};
    }

    std::size_t poll(duration timeout, ready_sink& sink) override {
        if (always_ready_pending_) timeout = duration::zero();
        int n = epoll_wait(epoll_fd_, events_.data(), static_cast<int>(events_.size()), timeout_milliseconds(timeout));
        if (n < 0) {
            if (errno == EINTR) return 0;
            throw std::system_error(errno, std::generic_category(), "cogent: epoll_wait");
        }
        std::size_t reported = 0;
        for (int i = 0; i < n; ++i) {
            int fd = events_[i].data.fd;
            fd_record& r = records_[fd];
            unsigned events = from_epoll(events_[i].events);
            unsigned wanted = events & (r.wanted | io_failed);
            if (!edge_triggered_ && (events & (io_readable | io_writable) & ~r.wanted) != 0) {
                update(fd, r, r.wanted);  // a stale registration: cut it down to what is wanted
            }
            if (wanted != 0) {
                sink.on_ready(fd, wanted);
                ++reported;
            }
        }
        if (static_cast<std::size_t>(n) == events_.size()) events_.resize(events_.size() * 2);
        if (always_ready_pending_) reported += report_always_ready(sink);
        return reported;
    }

private:
    struct fd_record {
        unsigned wanted = 0;
        unsigned registered = 0;
        bool always_ready = false;
        bool adopted = false;  // see adopt()
    };

    fd_record& record(int fd) {
        if (static_cast<std::size_t>(fd) >= records_.size()) records_.resize(static_cast<std::size_t>(fd) + 1);
        return records_[fd];
    }

    void update(int fd, fd_record& r, unsigned events) {
        epoll_event ev{};
        ev.data.fd = fd;
        ev.events = to_epoll(events) | (edge_triggered_ ? static_cast<unsigned>(EPOLLET) : 0u);
        int op = events == 0 ? EPOLL_CTL_DEL : (r.registered == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD);
        int rc = epoll_ctl(epoll_fd_, op, fd, &ev);
        // The fd was closed behind our back (the kernel dropped it) and its number reused, or
        // registered by a dup we no longer know about: retry as the other operation.
        if (rc < 0 && op == EPOLL_CTL_MOD && errno == ENOENT) rc = epoll_ctl(epoll_fd_, op = EPOLL_CTL_ADD, fd, &ev);
        if (rc < 0 && op == EPOLL_CTL_ADD && errno == EEXIST) rc = epoll_ctl(epoll_fd_, op = EPOLL_CTL_MOD, fd, &ev);
        if (rc < 0 && op == EPOLL_CTL_DEL && (errno == ENOENT || errno == EBADF)) rc = 0;
        if (rc < 0 && errno == EPERM) {
            r.always_ready = true;
            r.registered = 0;
            if (r.wanted != 0) always_ready_pending_ = true;
            return;
        }
        if (rc < 0) {
            throw std::system_error(errno, std::generic_category(),
                                    "cogent: epoll_ctl on fd " + std::to_string(fd));
        }
        r.registered = events;
    }

    std::size_t report_always_ready(ready_sink& sink) {
        always_ready_pending_ = false;
        std::size_t reported = 0;
        for (std::size_t fd = 0; fd < records_.size(); ++fd) {
            if (records_[fd].always_ready && records_[fd].wanted != 0) {
                sink.on_ready(static_cast<int>(fd), records_[fd].wanted);
                ++reported;
            }
        }
        return reported;
    }

    bool edge_triggered_;
    int epoll_fd_ = -1;
    std::vector<epoll_event> events_;
    std::vector<fd_record> records_;
    bool always_ready_pending_ = false;
};

}  // namespace

std::unique_ptr<backend> make_epoll_backend(bool edge_triggered) {
    return std::make_unique<epoll_backend>(edge_triggered);
}

}  // namespace cogent::detail
