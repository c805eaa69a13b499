// A non-blocking connect: start it, wait until the socket is writable, read the outcome.
#include "net/connect_fd.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "cogent/io_wait.hpp"
#include "cogent/sleep.hpp"
#include "cogent/socket.hpp"
#include "hub/hub_impl.hpp"

namespace cogent::detail {
namespace {

// Closes the fd on every way out but success.
struct fd_guard {
    int fd;
    ~fd_guard() {
        if (fd >= 0) {
            notify_close(fd);
            ::close(fd);
        }
    }
    int release() noexcept {
        int result = fd;
        fd = -1;
        return result;
    }
};

}  // namespace

int connect_fd(const endpoint& to, clock::time_point deadline, std::error_code& ec) {
    ec.clear();
    if (to.family() == AF_UNSPEC) {
        ec = std::make_error_code(std::errc::address_family_not_supported);
        return -1;
    }
    ignore_sigpipe_once();
    fd_guard guard{::socket(to.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
    if (guard.fd < 0) {
        set_errno_code(ec, errno);
        return -1;
    }
    // A Unix-domain connect to a full backlog says EAGAIN instead of waiting, and no readiness
    // event announces room; it is tried again after a short, growing pause (as long as the
    // deadline allows).
    duration pause = std::chrono::microseconds(100);
    for (;;) {
        if (::connect(guard.fd, to.data(), to.size()) == 0) return guard.release();
        const int error = errno;
        if (error == EINTR || error == EINPROGRESS) break;
        if (error == EAGAIN && to.family() == AF_UNIX) {
            if (clock::now() + pause >= deadline) {
                ec = std::make_error_code(std::errc::timed_out);
                return -1;
            }
            sleep(pause);
            pause = std::min<duration>(pause * 2, std::chrono::milliseconds(50));
            continue;
        }
        set_errno_code(ec, error);
        return -1;
    }
    switch (hub_impl::current().wait_fd(guard.fd, io_writable, deadline, "connect")) {
        case wake_reason::timed_out: ec = std::make_error_code(std::errc::timed_out); return -1;
        case wake_reason::closed: ec = make_error_code(net_errc::socket_closed); return -1;
        default: break;
    }
    int error = 0;
    socklen_t size = sizeof error;
    if (::getsockopt(guard.fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
    if (error != 0) {
        set_errno_code(ec, error);
        return -1;
    }
    return guard.release();
}

}  // namespace cogent::detail
