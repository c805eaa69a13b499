// Multishot accept for the io_uring backend: one IORING_OP_ACCEPT with IORING_ACCEPT_MULTISHOT
// per listening fd, armed while someone accepts, each connection a completion of its own.
//
// The life of a listener's accept stream:
//   - The first accept arms it. A connection that completes while a greenlet waits goes to that
//     greenlet; one that completes while nobody waits (the server is busy with the last one)
//     is queued, and the next accept takes it without waiting at all.
//   - The queue is bounded (queue_limit). When it is full the multishot is cancelled, so that
//     further connections wait in the kernel's backlog, where listen()'s limit applies, rather
//     than in this process; the next accept that finds the queue empty arms it again.
//   - The kernel may end a multishot by itself (a completion without IORING_CQE_F_MORE: an
//     error, or the kernel's own limits). It is armed again at once if someone waits, otherwise
//     at the next accept.
//   - A waiting accept that times out or is cancelled just stops waiting: the multishot stays
//     armed for the next one, and nothing is in the kernel's hands on its behalf.
//   - forget(fd), before the listener is closed, cancels the multishot and closes the queued
//     connections. Connections the kernel accepted before the cancellation took effect arrive
//     with a generation that is no longer armed: they are closed as they are reaped, so none
//     leaks. The backend's destructor waits such completions out too.
//
// Peer addresses: a multishot accept writes every peer's address into the same buffer, so it is
// given none, and an accept that wants the address asks getpeername(2) for it.
//
// A kernel that does not know multishot accept (before 5.19) answers EINVAL on a socket that is
// listening; the backend then uses single-shot accepts from there on.
#pragma once

#include <liburing.h>

#include <cstdint>
#include <vector>

#include "backend/backend.hpp"
#include "backend/io_uring_ring.hpp"

namespace cogent::detail {

class accept_streams {
public:
    explicit accept_streams(io_uring& ring) noexcept : ring_(ring) {}
    ~accept_streams();
    accept_streams(const accept_streams&) = delete;
    accept_streams& operator=(const accept_streams&) = delete;

    // Whether accepts go through a multishot accept (not turned off, not refused by the kernel).
    bool enabled() const noexcept { return enabled_; }
    // A connection already accepted on listening `fd` (its fd, now the caller's), or -1.
    int take(int fd) noexcept;
    // `op` waits for the next connection on `fd`; arms the multishot unless it is armed.
    void wait(native_op& op, int fd);
    // If `op` waits here, it stops waiting (result -ECANCELED, no longer in flight): true.
    bool cancel(native_op& op) noexcept;
    // `fd` is about to be closed: cancel its multishot, close its queued connections.
    void forget(int fd) noexcept;
    // Arms again the multishots that ended while someone waited; at the start of each poll.
    void rearm_waited();
    // Whether a completion's user_data is a multishot accept's.
    static bool owns(std::uint64_t id) noexcept { return (id & (native_tag | accept_tag)) == accept_tag; }
    // A multishot accept's completion; an op it completes is appended to `finished`.
    void complete(std::uint64_t id, int res, unsigned flags, std::vector<native_op*>& finished);
    // Cancels every armed multishot and waits (a little) for their last completions, closing
    // what they accepted; for the backend's destructor.
    void shut_down() noexcept;

    static constexpr std::size_t queue_limit = 64;

private:
    static constexpr std::uint32_t generation_mask = (std::uint32_t{1} << 29) - 1;
    struct stream {
        std::uint32_t generation = 0;  // of the armed multishot (survives forget)
        bool armed = false;
        bool cancelling = false;  // the queue filled: a cancellation is on its way
        native_op* waiting = nullptr;
        std::vector<int> queued;  // oldest first
    };
    stream& at(int fd);
    void arm(int fd, stream& s);
    void cancel_multishot(int fd, stream& s) noexcept;
    static void deliver(stream& s, int res, std::vector<native_op*>& finished) noexcept;
    static std::uint64_t id_of(int fd, std::uint32_t generation) noexcept {
        return accept_tag | static_cast<std::uint32_t>(fd) | std::uint64_t(generation) << 32;
    }

    io_uring& ring_;
    std::vector<stream> streams_;
    std::vector<int> rearm_;
    bool enabled_ = enabled_by_environment();
    static bool enabled_by_environment() noexcept;
};

}  // namespace cogent::detail
