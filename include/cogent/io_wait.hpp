// Waiting for a file descriptor to become readable or writable (gevent's wait_read and
// wait_write), through the hub's backend. The fd should be non-blocking; under the epoll_et
// backend, wait only after a read (or write) has returned EAGAIN.
#pragma once

#include <cstddef>
#include <system_error>

#include <poll.h>

#include "cogent/time.hpp"

namespace cogent {

// Park until `fd` is readable (or has an error or hang-up to report). Throws timeout_error when
// `timeout` passes first, std::system_error(EBADF) if notify_close(fd) is called meanwhile,
// concurrent_wait_error if another greenlet already waits to read it, and backend_error if the
// backend cannot watch it (select: fd >= FD_SETSIZE).
void wait_readable(int fd, duration timeout = forever);
void wait_writable(int fd, duration timeout = forever);

// The same, reporting through `ec` instead of throwing for a timeout (std::errc::timed_out) or a
// close (std::errc::bad_file_descriptor); true when the fd is ready. Misuse still throws.
bool wait_readable(int fd, duration timeout, std::error_code& ec);
bool wait_writable(int fd, duration timeout, std::error_code& ec);

// A cooperative poll(2): parks the current greenlet until one of `fds` is ready or `timeout` has
// passed, and returns how many entries have revents set (0 on timeout), exactly as ::poll reports
// them: the kernel is asked with a zero timeout before parking and after each wake, so the answer
// never depends on the backend (edge-triggered ones included). Negative fds are ignored, as in
// poll(2). An entry whose fd was closed with notify_close meanwhile gets POLLNVAL. Throws
// std::system_error if ::poll fails (EINVAL, ENOMEM), and concurrent_wait_error or backend_error
// as wait_readable does.
int poll(pollfd* fds, std::size_t count, duration timeout = forever);

// Call before closing an fd others may be waiting on: they are woken with EBADF, and the backend
// forgets the fd (gevent's cancel_wait). Does nothing outside a hub's thread.
void notify_close(int fd) noexcept;

}  // namespace cogent
