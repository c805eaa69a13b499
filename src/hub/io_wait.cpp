// Waiting on file descriptors: the hub's per-fd table of waiting readers and writers.
#include "cogent/io_wait.hpp"

#include <cerrno>
#include <string>

#include "cogent/errors.hpp"
#include "greenlet/thread_state.hpp"
#include "hub/hub_impl.hpp"

namespace cogent {
namespace detail {

void hub_impl::watch_fd(int fd, unsigned event, fd_interest& interest) {
    // The backend checks the fd in set_interest, or in submit_* for a native interest; only a
    // negative one must be refused here, before it sizes the table.
    if (fd < 0) backend_->check_fd(fd);
    if (static_cast<std::size_t>(fd) >= fds_.size()) fds_.resize(static_cast<std::size_t>(fd) + 1);
    fd_interest*& slot = event == io_readable ? fds_[fd].reader : fds_[fd].writer;
    if (slot != nullptr) {
        throw concurrent_wait_error("cogent: greenlet '" + display_name(slot->target->greenlet()) +
                                    "' is already waiting for fd " + std::to_string(fd) + " to become " +
                                    (event == io_readable ? "readable" : "writable") +
                                    "; two greenlets cannot wait on one fd for the same event");
    }
    slot = &interest;
    ++fd_waits_;
    // A native operation asks the backend for no readiness: the set of events wanted is unchanged.
    if (interest.native) return;
    try {
        update_interest(fd);
    } catch (...) {
        slot = nullptr;
        --fd_waits_;
        throw;
    }
}

void hub_impl::unwatch_fd(int fd, unsigned event, fd_interest& interest) noexcept {
    if (fd < 0 || static_cast<std::size_t>(fd) >= fds_.size()) return;
    fd_interest*& slot = event == io_readable ? fds_[fd].reader : fds_[fd].writer;
    if (slot != &interest) return;  // close_fd took it off already
    slot = nullptr;
    --fd_waits_;
    if (interest.native) return;
    try {
        update_interest(fd);
    } catch (...) {
        report_error("hub", std::current_exception());
    }
}

fd_interest* hub_impl::interest_in(int fd, unsigned event) const noexcept {
    if (fd < 0 || static_cast<std::size_t>(fd) >= fds_.size()) return nullptr;
    return event == io_readable ? fds_[fd].reader : fds_[fd].writer;
}

wake_reason hub_impl::wait_fd(int fd, unsigned event, clock::time_point deadline, const char* what) {
    waiter w(what);
    fd_interest interest{&w};
    watch_fd(fd, event, interest);
    struct unwatch {
        hub_impl* h;
        int fd;
        unsigned event;
        fd_interest* interest;
        ~unwatch() { h->unwatch_fd(fd, event, *interest); }
    } guard{this, fd, event, &interest};
    return park(w, deadline);
}

void hub_impl::update_interest(int fd) {
    const fd_watch& f = fds_[fd];
    const bool reading = f.reader != nullptr && !f.reader->native;
    const bool writing = f.writer != nullptr && !f.writer->native;
    backend_->set_interest(fd, (reading ? io_readable : 0u) | (writing ? io_writable : 0u));
}

void hub_impl::close_fd(int fd) noexcept {
    // The woken waiters leave the table now, so that the fd's number, once reused, is free to
    // wait on before they have run.
    if (fd >= 0 && static_cast<std::size_t>(fd) < fds_.size()) {
        for (fd_interest** slot : {&fds_[fd].reader, &fds_[fd].writer}) {
            if (*slot == nullptr) continue;
            (*slot)->seen |= fd_closed;
            (*slot)->target->wake(wake_reason::closed);
            *slot = nullptr;
            --fd_waits_;
        }
    }
    backend_->forget(fd);
}

}  // namespace detail

namespace {

bool wait_for(int fd, unsigned event, duration timeout, std::error_code& ec) {
    const char* what = event == detail::io_readable ? "fd readable" : "fd writable";
    wake_reason reason =
        detail::hub_impl::current().wait_fd(fd, event, deadline_after(timeout), what);
    switch (reason) {
        case wake_reason::ready: ec.clear(); return true;
        case wake_reason::timed_out: ec = std::make_error_code(std::errc::timed_out); return false;
        default: ec = std::make_error_code(std::errc::bad_file_descriptor); return false;
    }
}

void wait_or_throw(int fd, unsigned event, duration timeout) {
    std::error_code ec;
    if (wait_for(fd, event, timeout, ec)) return;
    if (ec == std::errc::timed_out) {
        throw timeout_error(nullptr, "cogent: timed out waiting for fd " + std::to_string(fd));
    }
    throw std::system_error(ec, "cogent: fd " + std::to_string(fd) + " was closed while waited on");
}

}  // namespace

void wait_readable(int fd, duration timeout) { wait_or_throw(fd, detail::io_readable, timeout); }
void wait_writable(int fd, duration timeout) { wait_or_throw(fd, detail::io_writable, timeout); }
bool wait_readable(int fd, duration timeout, std::error_code& ec) {
    return wait_for(fd, detail::io_readable, timeout, ec);
}
bool wait_writable(int fd, duration timeout, std::error_code& ec) {
    return wait_for(fd, detail::io_writable, timeout, ec);
}

void notify_close(int fd) noexcept {
    if (detail::hub_impl* h = detail::hub_impl::existing()) h->close_fd(fd);
}

}  // namespace cogent
