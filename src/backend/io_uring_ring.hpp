// What the io_uring backend's parts share about the ring: how a completion's user_data says what
// it completes, and how to get a submission entry when the queue is full.
#pragma once

#include <liburing.h>

#include <cstdint>
#include <string>
#include <system_error>

namespace cogent::detail {

// user_data. A readiness poll's has the top bit clear and carries the fd, the direction and a
// generation (io_uring_polls.cpp). Everything else has the top bit set: removals and
// cancellations (nothing to do at their completion), native ops (the next bit too, and the op's
// address), multishot accepts (bit 61, the listening fd and a generation), and liburing's own
// timeouts (all ones).
constexpr std::uint64_t not_a_poll = std::uint64_t{1} << 63;
constexpr std::uint64_t native_tag = not_a_poll | std::uint64_t{1} << 62;
constexpr std::uint64_t accept_tag = not_a_poll | std::uint64_t{1} << 61;
constexpr std::uint64_t liburing_timeout = ~std::uint64_t{0};

// A free submission entry, or null if even handing the queue to the kernel makes no room.
inline io_uring_sqe* sqe_or_null(io_uring& ring) noexcept {
    if (io_uring_sqe* s = io_uring_get_sqe(&ring)) return s;
    io_uring_submit(&ring);
    return io_uring_get_sqe(&ring);
}

// A free submission entry; throws std::system_error saying what it was for if there is none.
inline io_uring_sqe* sqe_or_throw(io_uring& ring, const char* what, int fd) {
    if (io_uring_sqe* s = io_uring_get_sqe(&ring)) return s;
    // The submission queue is full: hand it to the kernel and take a fresh entry.
    const int rc = io_uring_submit(&ring);
    if (io_uring_sqe* s = io_uring_get_sqe(&ring)) return s;
    throw std::system_error(rc < 0 ? -rc : EBUSY, std::generic_category(),
                            std::string("cogent: io_uring: no room ") + what + " fd " + std::to_string(fd));
}

}  // namespace cogent::detail
