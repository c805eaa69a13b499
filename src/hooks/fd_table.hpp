// What the hooks know about the sockets made through them: the user's own O_NONBLOCK choice,
// whether the hooks turned O_NONBLOCK on in the kernel, and SO_RCVTIMEO / SO_SNDTIMEO.
//
// In the kernel, O_NONBLOCK and the socket timeouts belong to the open file description, which
// dup(), dup2(), dup3() and F_DUPFD share between fds. So does this state: an fd refers to a
// socket_state, and dups refer to the same one (counted), so that F_SETFL on one alias is seen
// through every other, as the kernel sees it.
//
// Lookups take no lock and are async-signal-safe: a two-level table of atomics indexed by fd,
// whose chunks (and the states themselves) come from mmap and are never returned, only
// recycled. A lookup racing with the close of the same fd (a race in the program itself) may
// read a recycled state, never freed memory. Fds beyond the table (above 2^20) are untracked.
#pragma once

#include <atomic>
#include <cstdint>

namespace cogent::hooks {

struct socket_state {
    static constexpr std::uint32_t user_nonblocking = 1;    // the user's view of O_NONBLOCK
    static constexpr std::uint32_t kernel_nonblocking = 2;  // the hooks set O_NONBLOCK in the kernel
    static constexpr std::uint32_t stream = 4;              // SOCK_STREAM: writes may be partial

    std::atomic<std::uint32_t> flags{0};
    std::atomic<std::int64_t> receive_timeout{0};  // nanoseconds; 0: none (as in the kernel)
    std::atomic<std::int64_t> send_timeout{0};
    std::atomic<std::uint32_t> references{0};
    std::uint32_t next_free = 0;  // index + 1 of the next free state; 0 ends the list

    bool has(std::uint32_t bit) const noexcept { return (flags.load(std::memory_order_relaxed) & bit) != 0; }
    void set(std::uint32_t bit, bool on) noexcept {
        if (on) {
            flags.fetch_or(bit, std::memory_order_relaxed);
        } else {
            flags.fetch_and(~bit, std::memory_order_relaxed);
        }
    }
};

namespace fd_table {

// The state of `fd`, or null if it is not a socket made through the hooks.
socket_state* find(int fd) noexcept;
// A socket was just made as `fd` (socket, accept, accept4).
void track(int fd, bool user_nonblocking, bool stream) noexcept;
// `to` was just made a duplicate of `from` (whatever `to` was before is forgotten).
void share(int from, int to) noexcept;
// `fd` is being closed.
void forget(int fd) noexcept;

}  // namespace fd_table
}  // namespace cogent::hooks
