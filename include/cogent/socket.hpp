// The base of every cogent socket: owns a non-blocking fd, closes it safely, and sets options.
//
// Sockets are made non-blocking and close-on-exec. The first socket cogent makes sets SIGPIPE to
// "ignore" if it is still at its default (as Python does), so a write to a closed peer is an
// EPIPE error and never kills the process; a handler the program installed itself is left alone.
// Sends use MSG_NOSIGNAL as well.
//
// A socket belongs to the thread whose greenlets use it. Closing it while another greenlet waits
// on it wakes that greenlet with net_errc::socket_closed: no hang, and no operation touches the
// fd (or whatever reused its number) afterwards.
#pragma once

#include <chrono>
#include <optional>
#include <system_error>

#include "cogent/endpoint.hpp"
#include "cogent/net_errors.hpp"
#include "cogent/time.hpp"

namespace cogent {

class socket {
public:
    // Not open.
    socket() noexcept = default;
    // Adopts `fd` (a socket the caller made, or got from elsewhere) and makes it non-blocking.
    // Throws std::system_error (and leaves `fd` open and the caller's) if that fails.
    explicit socket(int fd);
    ~socket();
    socket(socket&& other) noexcept;
    socket& operator=(socket&& other) noexcept;
    socket(const socket&) = delete;
    socket& operator=(const socket&) = delete;

    bool is_open() const noexcept { return fd_ >= 0; }
    int native_handle() const noexcept { return fd_; }
    // Gives the fd to the caller; this object is no longer open. Nobody may be waiting on it (the
    // hub forgets the fd, as on close).
    int release() noexcept;
    // Wakes any greenlet waiting on this socket (net_errc::socket_closed), then closes it. Closing
    // a socket that is not open does nothing. close(2)'s own errors are reported through `ec` (the
    // fd is gone either way); the first form ignores them, as a destructor must.
    void close() noexcept;
    void close(std::error_code& ec) noexcept;

    // The address it is bound to (getsockname). Throws std::system_error.
    endpoint local_endpoint() const;

    // Options. Each throws std::system_error naming the option if the kernel refuses it.
    void set_reuse_address(bool on);
    void set_reuse_port(bool on);
    void set_keepalive(bool on);
    void set_receive_buffer_size(int bytes);
    void set_send_buffer_size(int bytes);
    // With a value, close() waits up to that long for unsent data (SO_LINGER); zero makes close()
    // reset the connection. Without one, the default (close returns at once, data still sent).
    void set_linger(std::optional<std::chrono::seconds> linger);
    // Any other integer option.
    void set_option(int level, int name, int value);
    int get_option(int level, int name) const;
    // The pending error (SO_ERROR), which reading clears.
    std::error_code take_error();

protected:
    // Takes an fd cogent made non-blocking itself (no fcntl needed).
    struct nonblocking_fd {
        int fd;
    };
    explicit socket(nonblocking_fd adopt) noexcept;
    // Makes a new non-blocking, close-on-exec socket. Throws std::system_error.
    static int open_fd(int family, int type, int protocol = 0);
    // Throws std::system_error if the socket is not open: "<what>: the socket is not open".
    void require_open(const char* what) const;

    int fd_ = -1;
    // Whether the next read should wait for readiness before trying (see net/io_retry.hpp).
    bool read_waits_first_ = false;
};

namespace detail {
// Sets SIGPIPE to SIG_IGN if nobody changed it from SIG_DFL (once per process).
void ignore_sigpipe_once() noexcept;
}  // namespace detail

}  // namespace cogent
