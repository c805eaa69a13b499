// The one retry loop behind every hooked call on a socket that the user left in blocking mode.
//
// Inside a greenlet that may park, the socket is made non-blocking in the kernel (once; the
// user's own view is kept in the fd table), the call is tried, and on EAGAIN the greenlet parks
// until the fd is ready or the socket's timeout (SO_RCVTIMEO / SO_SNDTIMEO) passes, which ends
// the call with EAGAIN as the kernel would. Anywhere else (another thread, the main greenlet,
// a blocking_scope, patching off) the call is libc's; only if the hooks have already made the
// socket non-blocking in the kernel does an EAGAIN there mean "wait": with the real poll(), so
// the thread blocks as the user expects.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

#include "hooks/core_link.hpp"
#include "hooks/fd_table.hpp"

namespace cogent::hooks {

enum class direction : short { in = POLLIN, out = POLLOUT };

// Sets O_NONBLOCK in the kernel for a socket the user sees as blocking, once.
void make_kernel_nonblocking(int fd, socket_state& state) noexcept;

// Waits for `fd` to be ready in `dir` until `deadline` (detail::monkey's steady nanoseconds):
// parking through `api` if given, else in the real poll(). 0, ETIMEDOUT, EBADF, or EINTR (a
// signal interrupted the real poll).
int wait_ready(const core_api* api, int fd, direction dir, std::int64_t deadline);

// The deadline for a wait beginning now under a socket timeout of `timeout` ns (0: none).
std::int64_t deadline_for(std::int64_t timeout) noexcept;

// How a blocking call on a tracked socket should go: whether to park (api) and whether to wait
// at all after EAGAIN. Null when the call is simply libc's.
struct blocking_mode {
    const core_api* api = nullptr;  // park through this; null: wait in the real poll()
    socket_state* state = nullptr;  // null: not a socket the hooks emulate blocking for
};
inline blocking_mode blocking_mode_for(int fd, int msg_flags = 0) noexcept {
    socket_state* state = fd_table::find(fd);
    if (state == nullptr || state->has(socket_state::user_nonblocking) || (msg_flags & MSG_DONTWAIT)) return {};
    const core_api* api = cooperative_core();
    if (api != nullptr) {
        make_kernel_nonblocking(fd, *state);
        return {api, state};
    }
    // Not parking: libc's call, unless the kernel no longer blocks for the user.
    if (!state->has(socket_state::kernel_nonblocking)) return {};
    return {nullptr, state};
}

// Calls `attempt` until it does not fail with EAGAIN, waiting for `dir` in between, with the
// socket's timeout for that direction. Returns what the last attempt returned, or -1 with errno
// EAGAIN when the timeout passed, EBADF when the fd was closed meanwhile.
// A call that succeeds leaves errno as it found it, as libc's does, even if attempts before it
// failed with EAGAIN.
template <class Attempt>
auto retry(const blocking_mode& mode, int fd, direction dir, Attempt&& attempt) -> decltype(attempt()) {
    const int errno_before = errno;
    std::int64_t deadline = -1;
    for (;;) {
        auto result = attempt();
        if (result >= 0) {
            errno = errno_before;
            return result;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) return result;
        if (deadline < 0) {
            deadline = deadline_for((dir == direction::in ? mode.state->receive_timeout : mode.state->send_timeout)
                                        .load(std::memory_order_relaxed));
        }
        int error = wait_ready(mode.api, fd, dir, deadline);
        if (error != 0) {
            errno = error == ETIMEDOUT ? EAGAIN : error;
            return -1;
        }
    }
}

// The hooked call for a blocking-mode socket in one direction: libc's call when nothing is to
// be emulated, else the retry loop.
template <class Attempt>
auto blocking_call(int fd, direction dir, int msg_flags, Attempt&& attempt) -> decltype(attempt()) {
    blocking_mode mode = blocking_mode_for(fd, msg_flags);
    if (mode.state == nullptr) return attempt();
    return retry(mode, fd, dir, attempt);
}

// For output on a stream socket the user sees as blocking: the kernel would send everything
// (unless a timeout or an error came first, which leave a partial count), so keep sending from
// where the last call ended. `attempt(done)` sends from offset `done` of `total` bytes.
template <class Attempt>
ssize_t send_all(int fd, std::size_t total, int msg_flags, Attempt&& attempt) {
    blocking_mode mode = blocking_mode_for(fd, msg_flags);
    if (mode.state == nullptr) return attempt(std::size_t{0});
    if (!mode.state->has(socket_state::stream)) return retry(mode, fd, direction::out, [&] { return attempt(std::size_t{0}); });
    std::size_t done = 0;
    do {
        ssize_t n = retry(mode, fd, direction::out, [&] { return attempt(done); });
        if (n < 0) return done > 0 ? static_cast<ssize_t>(done) : n;
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    } while (done < total);
    return static_cast<ssize_t>(done);
}

}  // namespace cogent::hooks
