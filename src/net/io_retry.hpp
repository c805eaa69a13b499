// The one retry loop every socket operation goes through: try the syscall; on EAGAIN park the
// greenlet until the backend says the fd is ready (or the deadline passes); try again. Syscalls
// and waiting stay apart: an operation only says which syscall to try and which event to wait for.
#pragma once

#include <sys/types.h>

#include <cerrno>
#include <system_error>

#include "backend/backend.hpp"
#include "cogent/net_errors.hpp"
#include "cogent/time.hpp"
#include "hub/hub_impl.hpp"

namespace cogent::detail {

// Parks until `fd` has `event`; false with `ec` set if it timed out or was closed instead.
inline bool await_fd(hub_impl& hub, int fd, unsigned event, clock::time_point deadline, std::error_code& ec,
                     const char* what) {
    switch (hub.wait_fd(fd, event, deadline, what)) {
        case wake_reason::timed_out: ec = std::make_error_code(std::errc::timed_out); return false;
        case wake_reason::closed: ec = make_error_code(net_errc::socket_closed); return false;
        default: return true;
    }
}
inline bool await_fd(int fd, unsigned event, clock::time_point deadline, std::error_code& ec, const char* what) {
    return await_fd(hub_impl::current(), fd, event, deadline, ec, what);
}

// Runs `attempt(fd)` (a syscall: a result >= 0, or -1 with errno) until it succeeds, fails with
// an error other than EAGAIN or EINTR, or `deadline` passes. `fd` is read again before each try,
// so that a socket closed meanwhile (its fd set to -1 by close) is never touched again: the
// operation ends with net_errc::socket_closed. Returns the result, or -1 with `ec` set
// (std::errc::timed_out when the deadline passed).
//
// `wait_first`, when given, is the socket's guess that the call would find nothing to do: set
// when the last call had to wait, cleared when the first try did the work. When it is set, the
// call waits before its first try, which saves the system call that would have said EAGAIN: in
// request-response traffic the next read after a reply is nearly always early. Only for
// level-triggered backends: under epoll_et a wait may begin only after an EAGAIN.
template <class Attempt>
ssize_t retry_io(const int& fd, unsigned event, clock::time_point deadline, std::error_code& ec, const char* what,
                 Attempt&& attempt, bool* wait_first = nullptr) {
    if (fd < 0) {
        ec = std::make_error_code(std::errc::bad_file_descriptor);
        return -1;
    }
    // Looked up once per operation, and only if it has to wait: a call that succeeds at once
    // leaves a thread without a hub without one.
    hub_impl* hub_found = nullptr;
    auto hub = [&hub_found]() -> hub_impl& {
        if (hub_found == nullptr) hub_found = &hub_impl::current();
        return *hub_found;
    };
    bool waited = false;
    if (wait_first != nullptr && *wait_first) {
        if (hub().edge_triggered()) {
            *wait_first = false;
        } else {
            if (!await_fd(hub(), fd, event, deadline, ec, what)) return -1;
            waited = true;
        }
    }
    for (;;) {
        const int current = fd;
        if (current < 0) {
            ec = make_error_code(net_errc::socket_closed);
            return -1;
        }
        const ssize_t result = attempt(current);
        if (result >= 0) {
            if (wait_first != nullptr) *wait_first = waited;
            ec.clear();
            return result;
        }
        const int error = errno;
        if (error == EINTR) continue;
        if (error != EAGAIN && error != EWOULDBLOCK) {
            set_errno_code(ec, error);
            return -1;
        }
        if (!await_fd(hub(), current, event, deadline, ec, what)) return -1;
        waited = true;
    }
}

}  // namespace cogent::detail
