// The socket base: ownership of the fd, a safe close, and options.
#include "cogent/socket.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <string>
#include <utility>

#include "cogent/io_wait.hpp"
#include "hub/hub_impl.hpp"

namespace cogent {
namespace {

[[noreturn]] void throw_errno(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), "cogent: " + what);
}

}  // namespace

namespace detail {
void ignore_sigpipe_once() noexcept {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction current{};
        if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL &&
            !(current.sa_flags & SA_SIGINFO)) {
            struct sigaction ignore{};
            ignore.sa_handler = SIG_IGN;
            sigemptyset(&ignore.sa_mask);
            ::sigaction(SIGPIPE, &ignore, nullptr);
        }
    });
}
}  // namespace detail

socket::socket(int fd) {
    if (fd < 0) throw std::invalid_argument("cogent: socket(fd) needs an open fd, not " + std::to_string(fd));
    int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || (!(flags & O_NONBLOCK) && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)) {
        throw_errno("cannot make fd " + std::to_string(fd) + " non-blocking");
    }
    detail::ignore_sigpipe_once();
    fd_ = fd;
    if (auto* hub = detail::hub_impl::existing()) hub->adopt_fd(fd);
}

socket::socket(nonblocking_fd adopt) noexcept : fd_(adopt.fd) {
    // Every socket is closed through close(), which tells the hub first: the backend may trust
    // what it keeps registered for this fd (backend::adopt). Without a hub yet there is nothing
    // registered to trust.
    if (auto* hub = detail::hub_impl::existing()) hub->adopt_fd(fd_);
}

socket::~socket() {
    close();
}

socket::socket(socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

socket& socket::operator=(socket&& other) noexcept {
    if (this != &other) {
        close();
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

int socket::release() noexcept {
    const int fd = std::exchange(fd_, -1);
    // The new owner may close it without telling the hub: nothing may stay registered or adopted.
    if (fd >= 0) notify_close(fd);
    return fd;
}

void socket::close() noexcept {
    std::error_code ignored;
    close(ignored);
}

void socket::close(std::error_code& ec) noexcept {
    ec.clear();
    if (fd_ < 0) return;
    // Forget the fd before waking anyone: a woken greenlet that looks at this socket again sees
    // it closed, never a number that may already be someone else's.
    const int fd = std::exchange(fd_, -1);
    notify_close(fd);
    // Linux closes the fd even when close(2) fails (EINTR included), so it is never retried.
    if (::close(fd) != 0) detail::set_errno_code(ec, errno);
}

int socket::open_fd(int family, int type, int protocol) {
    detail::ignore_sigpipe_once();
    int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0) throw_errno("socket()");
    return fd;
}

void socket::require_open(const char* what) const {
    if (fd_ < 0) {
        throw std::system_error(std::make_error_code(std::errc::bad_file_descriptor),
                                std::string("cogent: ") + what + ": the socket is not open");
    }
}

endpoint socket::local_endpoint() const {
    require_open("local_endpoint");
    endpoint e;
    socklen_t size = endpoint::capacity();
    if (::getsockname(fd_, e.data(), &size) != 0) throw_errno("getsockname");
    e.resize(size);
    return e;
}

void socket::set_option(int level, int name, int value) {
    require_open("set_option");
    if (::setsockopt(fd_, level, name, &value, sizeof value) != 0) {
        throw_errno("setsockopt(level " + std::to_string(level) + ", option " + std::to_string(name) + ")");
    }
}

int socket::get_option(int level, int name) const {
    require_open("get_option");
    int value = 0;
    socklen_t size = sizeof value;
    if (::getsockopt(fd_, level, name, &value, &size) != 0) {
        throw_errno("getsockopt(level " + std::to_string(level) + ", option " + std::to_string(name) + ")");
    }
    return value;
}

void socket::set_reuse_address(bool on) { set_option(SOL_SOCKET, SO_REUSEADDR, on); }
void socket::set_reuse_port(bool on) { set_option(SOL_SOCKET, SO_REUSEPORT, on); }
void socket::set_keepalive(bool on) { set_option(SOL_SOCKET, SO_KEEPALIVE, on); }
void socket::set_receive_buffer_size(int bytes) { set_option(SOL_SOCKET, SO_RCVBUF, bytes); }
void socket::set_send_buffer_size(int bytes) { set_option(SOL_SOCKET, SO_SNDBUF, bytes); }

void socket::set_linger(std::optional<std::chrono::seconds> linger) {
    require_open("set_linger");
    ::linger value{};
    value.l_onoff = linger.has_value();
    value.l_linger = linger ? static_cast<int>(linger->count()) : 0;
    if (::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &value, sizeof value) != 0) throw_errno("setsockopt(SO_LINGER)");
}

std::error_code socket::take_error() {
    int error = get_option(SOL_SOCKET, SO_ERROR);
    return error == 0 ? std::error_code() : std::error_code(error, std::generic_category());
}

}  // namespace cogent
