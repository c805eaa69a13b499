// Readiness for the io_uring backend: one one-shot IORING_OP_POLL_ADD per fd and direction that
// a waiter wants (see io_uring.cpp for why one-shot, and for the life of a poll).
#pragma once

#include <liburing.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "backend/io_uring_ring.hpp"

namespace cogent::detail {

class uring_polls {
public:
    explicit uring_polls(io_uring& ring) noexcept : ring_(ring) {}

    // The hub now wants `events` for `fd` (checked by the backend): arms the polls newly wanted
    // (queued, no system call) and removes at once those no longer wanted.
    void set_interest(int fd, unsigned events);
    // `fd` is about to be closed: its polls are removed. True if a removal was queued.
    bool forget(int fd) noexcept;
    // Arms again the polls that completed while their direction is still wanted; at each poll.
    void rearm_still_wanted();
    // Whether a completion's user_data is a poll's.
    static bool owns(std::uint64_t id) noexcept { return (id & not_a_poll) == 0; }
    // A poll's completion: what it reports for a wanted direction is appended to `ready`.
    void complete(std::uint64_t id, int res, std::vector<std::pair<int, unsigned>>& ready);

private:
    struct fd_record {
        unsigned wanted = 0;
        std::uint32_t armed[2] = {0, 0};  // generation of the outstanding poll per direction; 0: none
        std::uint32_t generation = 0;
    };
    void arm(int fd, fd_record& r, int d);
    bool disarm(int fd, fd_record& r, int d) noexcept;
    void submit_then_disarm(int fd, fd_record& r, int d);

    io_uring& ring_;
    std::vector<fd_record> records_;
    std::vector<int> rearm_;  // fds whose poll has completed; armed again at the next poll if still wanted
};

}  // namespace cogent::detail
