// wait_signal: a signalfd that the hub watches like any other fd.
#include "cogent/signal.hpp"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>

#include "cogent/io_wait.hpp"

namespace cogent {

int wait_signal(std::initializer_list<int> signals, duration timeout) {
    if (signals.size() == 0) throw std::invalid_argument("cogent: wait_signal needs at least one signal");
    sigset_t wanted;
    sigemptyset(&wanted);
    for (int s : signals) {
        if (sigaddset(&wanted, s) != 0) throw std::invalid_argument("cogent: " + std::to_string(s) + " is not a signal");
    }
    // Blocked first, so that a signal arriving from now on waits in the signalfd, never running
    // its default action.
    sigset_t previous;
    if (int error = ::pthread_sigmask(SIG_BLOCK, &wanted, &previous); error != 0) {
        throw std::system_error(error, std::generic_category(), "cogent: pthread_sigmask");
    }
    struct restore {
        sigset_t mask;
        int fd = -1;
        ~restore() {
            if (fd >= 0) {
                notify_close(fd);
                ::close(fd);
            }
            ::pthread_sigmask(SIG_SETMASK, &mask, nullptr);
        }
    } guard{previous};
    guard.fd = ::signalfd(-1, &wanted, SFD_NONBLOCK | SFD_CLOEXEC);
    if (guard.fd < 0) throw std::system_error(errno, std::generic_category(), "cogent: signalfd");
    const clock::time_point deadline = deadline_after(timeout);
    for (;;) {
        signalfd_siginfo info{};
        ssize_t n = ::read(guard.fd, &info, sizeof info);
        if (n == static_cast<ssize_t>(sizeof info)) return static_cast<int>(info.ssi_signo);
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            throw std::system_error(errno, std::generic_category(), "cogent: reading the signalfd");
        }
        duration left = deadline == clock::time_point::max() ? forever : deadline - clock::now();
        if (left <= duration::zero()) return 0;
        std::error_code ec;
        if (!wait_readable(guard.fd, left, ec) && ec == std::errc::timed_out) return 0;
    }
}

}  // namespace cogent
