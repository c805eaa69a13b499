// Hooks that make, connect, accept, duplicate and close sockets, and those that read or change
// a socket's blocking mode and timeouts. None of them parks except connect and accept.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdint>

#include "hooks/blocking_io.hpp"
#include "hooks/libc.hpp"

using namespace cogent::hooks;

namespace {

void track_accepted(int fd, int listener, int flags) noexcept {
    if (fd < 0) return;
    socket_state* from = fd_table::find(listener);
    bool stream = from == nullptr || from->has(socket_state::stream);
    fd_table::track(fd, (flags & SOCK_NONBLOCK) != 0, stream);
}

// Wakes greenlets of this thread's hub waiting on `fd`, which is about to be closed (or replaced
// by dup2). The hub may tell its backend to forget the fd, whose system call must not leave its
// errno behind: close's errno is the kernel's alone.
void notify_closing(int fd) noexcept {
    const core_api* api = patched_core();
    if (api == nullptr) return;
    int saved = errno;
    api->notify_close(fd);
    errno = saved;
}

// A socket timeout as the kernel keeps it, in nanoseconds.
std::int64_t to_nanoseconds(const timeval& t) noexcept {
    return std::int64_t{t.tv_sec} * 1'000'000'000 + std::int64_t{t.tv_usec} * 1'000;
}

// fcntl for both names. The optional third argument (an int, a pointer, or nothing, depending on
// `command`) arrives as one pointer-sized word (see libc.hpp) and is passed on as it came.
int fcntl_hook(int fd, int command, unsigned long argument) {
    switch (command) {
    case F_GETFL: {
        int flags = libc::fcntl(fd, command, argument);
        socket_state* state = fd_table::find(fd);
        if (flags < 0 || state == nullptr) return flags;
        // The user's view of O_NONBLOCK, whatever the hooks did to the kernel's.
        flags &= ~O_NONBLOCK;
        return state->has(socket_state::user_nonblocking) ? flags | O_NONBLOCK : flags;
    }
    case F_SETFL: {
        socket_state* state = fd_table::find(fd);
        if (state == nullptr) return libc::fcntl(fd, command, argument);
        auto flags = static_cast<int>(argument);
        bool user_nonblocking = (flags & O_NONBLOCK) != 0;
        // Once the hooks have made the socket non-blocking, it stays so in the kernel.
        if (state->has(socket_state::kernel_nonblocking)) flags |= O_NONBLOCK;
        int result = libc::fcntl(fd, command, static_cast<unsigned long>(static_cast<unsigned>(flags)));
        if (result == 0) state->set(socket_state::user_nonblocking, user_nonblocking);
        return result;
    }
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
        int copy = libc::fcntl(fd, command, argument);
        if (copy >= 0) fd_table::share(fd, copy);
        return copy;
    }
    default:
        return libc::fcntl(fd, command, argument);
    }
}

int connect_hook(int fd, const sockaddr* address, socklen_t length) {
    blocking_mode mode = blocking_mode_for(fd);
    if (mode.state == nullptr) return libc::connect(fd, address, length);
    const int errno_before = errno;  // restored on success, as libc leaves it
    for (;;) {
        if (libc::connect(fd, address, length) == 0) {
            errno = errno_before;
            return 0;
        }
        int error = errno;
        if (error != EINPROGRESS && error != EAGAIN) return -1;
        // EINPROGRESS: a TCP handshake under way; EAGAIN: a full backlog on a Unix socket,
        // where a blocking connect would wait for room and try again.
        int waited = wait_ready(mode.api, fd, direction::out,
                                deadline_for(mode.state->send_timeout.load(std::memory_order_relaxed)));
        if (waited == ETIMEDOUT) {
            // What the kernel reports when SO_SNDTIMEO ends a blocking connect.
            errno = EINPROGRESS;
            return -1;
        }
        if (waited != 0) {
            errno = waited;
            return -1;
        }
        if (error == EAGAIN) continue;
        int outcome = 0;
        socklen_t size = sizeof outcome;
        if (libc::getsockopt(fd, SOL_SOCKET, SO_ERROR, &outcome, &size) != 0) return -1;
        if (outcome == 0) {
            errno = errno_before;
            return 0;
        }
        errno = outcome;
        return -1;
    }
}

}  // namespace

extern "C" {

int socket(int domain, int type, int protocol) noexcept {
    int fd = libc::socket(domain, type, protocol);
    if (fd >= 0) {
        int saved = errno;
        fd_table::track(fd, (type & SOCK_NONBLOCK) != 0, (type & 0xf) == SOCK_STREAM);
        errno = saved;
    }
    return fd;
}

int connect(int fd, const sockaddr* address, socklen_t length) { return connect_hook(fd, address, length); }

int accept(int fd, sockaddr* address, socklen_t* length) {
    int accepted = blocking_call(fd, direction::in, 0, [&] { return libc::accept(fd, address, length); });
    track_accepted(accepted, fd, 0);
    return accepted;
}

int accept4(int fd, sockaddr* address, socklen_t* length, int flags) {
    int accepted = blocking_call(fd, direction::in, 0, [&] { return libc::accept4(fd, address, length, flags); });
    track_accepted(accepted, fd, flags);
    return accepted;
}

int close(int fd) {
    // Forgotten before the kernel closes it: once it has, another thread may get the same number
    // for a new socket, whose state must not be erased by this close.
    fd_table::forget(fd);
    notify_closing(fd);
    return libc::close(fd);
}

int dup(int fd) noexcept {
    int copy = libc::dup(fd);
    if (copy >= 0) fd_table::share(fd, copy);
    return copy;
}

int dup2(int fd, int target) noexcept {
    if (fd != target && fd_table::find(target) != nullptr) notify_closing(target);
    int copy = libc::dup2(fd, target);
    if (copy >= 0 && fd != target) fd_table::share(fd, copy);
    return copy;
}

int dup3(int fd, int target, int flags) noexcept {
    if (fd != target && fd_table::find(target) != nullptr) notify_closing(target);
    int copy = libc::dup3(fd, target, flags);
    if (copy >= 0) fd_table::share(fd, copy);
    return copy;
}

int fcntl(int fd, int command, ...) {
    va_list arguments;
    va_start(arguments, command);
    unsigned long argument = va_arg(arguments, unsigned long);
    va_end(arguments);
    return fcntl_hook(fd, command, argument);
}

// What programs built with _FILE_OFFSET_BITS=64 call instead of fcntl; on 64-bit targets the
// same function.
int fcntl64(int fd, int command, ...) {
    va_list arguments;
    va_start(arguments, command);
    unsigned long argument = va_arg(arguments, unsigned long);
    va_end(arguments);
    return fcntl_hook(fd, command, argument);
}

int ioctl(int fd, unsigned long request, ...) noexcept {
    va_list arguments;
    va_start(arguments, request);
    unsigned long argument = va_arg(arguments, unsigned long);
    va_end(arguments);
    socket_state* state = request == FIONBIO ? fd_table::find(fd) : nullptr;
    if (state == nullptr) return libc::ioctl(fd, request, argument);
    const int* on = reinterpret_cast<const int*>(argument);
    if (on == nullptr || !state->has(socket_state::kernel_nonblocking)) {
        int result = libc::ioctl(fd, request, argument);
        if (result == 0 && on != nullptr) state->set(socket_state::user_nonblocking, *on != 0);
        return result;
    }
    // The hooks keep the kernel's O_NONBLOCK: record the user's choice, tell the kernel "on".
    int keep = 1;
    int result = libc::ioctl(fd, request, reinterpret_cast<unsigned long>(&keep));
    if (result == 0) state->set(socket_state::user_nonblocking, *on != 0);
    return result;
}

int setsockopt(int fd, int level, int name, const void* value, socklen_t length) noexcept {
    int result = libc::setsockopt(fd, level, name, value, length);
    if (result == 0 && level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO) &&
        length >= static_cast<socklen_t>(sizeof(timeval))) {
        if (socket_state* state = fd_table::find(fd)) {
            // The kernel took it, so it is valid; record it for the sockets the hooks emulate.
            std::int64_t timeout = to_nanoseconds(*static_cast<const timeval*>(value));
            (name == SO_RCVTIMEO ? state->receive_timeout : state->send_timeout)
                .store(timeout, std::memory_order_relaxed);
        }
    }
    return result;
}

// The kernel keeps the timeouts too (setsockopt passes them on), so reading them is libc's.
int getsockopt(int fd, int level, int name, void* value, socklen_t* length) noexcept {
    return libc::getsockopt(fd, level, name, value, length);
}

}  // extern "C"
