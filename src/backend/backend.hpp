// The contract between the hub and an I/O multiplexer. Not a public interface.
//
// The hub keeps, per fd, who waits to read and who waits to write. Whenever that changes it tells
// the backend which events it now wants (set_interest); the backend decides when to tell the
// kernel (it may be lazy: keep a registration nobody wants until an event shows it stale). poll()
// blocks for at most the given time and reports each fd that has events; it may report events
// nobody wants any more (the hub ignores them) but never misses one that is wanted.
//
// Edge-triggered backends (epoll_et) report an fd when it *becomes* ready. The contract with their
// users: wait for readability only after a read returned EAGAIN (and likewise for writes), so an
// edge that came before the wait has been consumed by the draining reads. The hub forgets edges
// that arrive while nobody waits.
#pragma once

#include <cstddef>
#include <memory>

#include "cogent/hub.hpp"
#include "cogent/time.hpp"

namespace cogent::detail {

enum io_event : unsigned {
    io_readable = 1,
    io_writable = 2,
    io_failed = 4,  // error, hang-up or an invalid fd: wakes readers and writers alike
};

// Where poll() reports ready fds.
class ready_sink {
public:
    virtual void on_ready(int fd, unsigned events) noexcept = 0;

protected:
    ~ready_sink() = default;
};

// A system call the kernel performs on the hub's behalf (io_uring's recv, send, accept) instead
// of reporting readiness. Lives in the frame of the greenlet that waits for it, which must not
// return while it is in flight: the kernel writes into its buffer until it completes.
struct native_op {
    // Called in the hub once the result is in; the op is no longer in flight by then.
    void (*complete)(native_op* op) noexcept = nullptr;
    int result = 0;  // what the system call returns: >= 0, or -errno (-ECANCELED once cancelled)
    bool in_flight = false;
    int fd = -1;         // for the backend
    int direction = 0;   // for the backend: 0 reads (recv, accept), 1 writes (send)
};

class backend {
public:
    virtual ~backend() = default;
    virtual backend_kind kind() const noexcept = 0;

    // Throws backend_error if this backend can never watch `fd` (select: fd >= FD_SETSIZE).
    virtual void check_fd(int fd) const;
    // The hub now wants `events` (io_readable | io_writable, or 0) for `fd`.
    virtual void set_interest(int fd, unsigned events) = 0;
    // `fd` is about to be closed: drop any registration, report nothing more for it.
    virtual void forget(int fd) noexcept = 0;
    // cogent made `fd` (a socket) and promises forget() before it is closed or handed to anyone
    // else. A registration kept for it can then be trusted: no close behind the backend's back can
    // have dropped it. Backends that re-register defensively (epoll) skip that for such fds.
    virtual void adopt(int fd) noexcept { (void)fd; }
    // Whether the backend performs socket calls itself (submit_*); sockets then use that instead
    // of waiting for readiness and retrying.
    virtual bool native_io() const noexcept { return false; }
    // Queue a recv, send or accept on `fd`; it goes to the kernel with the next poll(), and
    // op.complete is called when it is done. At most one read (recv, accept) and one send per fd
    // at a time. Throw std::logic_error unless native_io(), std::system_error if there is no room.
    virtual void submit_recv(native_op& op, int fd, void* buffer, std::size_t size);
    virtual void submit_send(native_op& op, int fd, const void* data, std::size_t size);
    virtual void submit_accept(native_op& op, int fd, void* address, unsigned* address_size);
    // Multishot accept (io_uring, unless the kernel refuses it): one accept stays armed on a
    // listening fd while someone accepts, and connections that arrive while nobody does are
    // queued (bounded) for the next accept. Peer addresses are not written: ask getpeername.
    virtual bool multishot_accept() const noexcept { return false; }
    // Like submit_accept through the listener's multishot accept; op.result is the new fd.
    virtual void submit_multishot_accept(native_op& op, int fd);
    // A connection accepted already on listening `fd` and queued (its fd, now the caller's), or -1.
    virtual int take_accepted(int fd) noexcept {
        (void)fd;
        return -1;
    }
    // Asks the kernel to stop `op`; it still completes (with -ECANCELED, or its result if it was
    // done first). forget(fd) cancels the fd's ops likewise.
    virtual void cancel(native_op& op) noexcept;
    // Cancels `op` and blocks the thread in the kernel until it is over, without the hub's loop:
    // for a greenlet that must not leave before the kernel lets go of its buffer and cannot park
    // (it is unwinding, or the hub is being destroyed). `op`'s own completion callback is not
    // called; other ops that complete meanwhile have theirs called, and readiness found meanwhile
    // is reported at the next poll(). Cancelling a socket call ends it at once, so this is short.
    virtual void wait_out(native_op& op) noexcept;
    // Waits at most `timeout` (zero: only looks; forever: as long as it takes) and reports ready fds
    // to `sink`. Returns how many it reported. An interrupted wait (EINTR) reports nothing.
    virtual std::size_t poll(duration timeout, ready_sink& sink) = 0;
};

// Makes a backend of this kind; throws backend_error if the system refuses it.
std::unique_ptr<backend> make_backend(backend_kind kind);

std::unique_ptr<backend> make_select_backend();
std::unique_ptr<backend> make_poll_backend();
std::unique_ptr<backend> make_epoll_backend(bool edge_triggered);
std::unique_ptr<backend> make_io_uring_backend();

// Milliseconds for poll(2)/epoll_wait(2): rounded up (a timer must never fire early), -1 for
// forever, and clamped to what an int holds.
int timeout_milliseconds(duration timeout) noexcept;

}  // namespace cogent::detail
