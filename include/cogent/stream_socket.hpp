// A connected byte stream (TCP or Unix-domain): the reads and writes a gevent socket offers, each
// with a timeout, in a throwing form and a std::error_code& form.
//
// Error-code forms report a timeout as std::errc::timed_out, a close by another greenlet as
// net_errc::socket_closed, and the peer's end of stream (for the "exact"/"all" operations) as
// net_errc::end_of_stream; the throwing forms throw cogent::timeout_error for a timeout and
// std::system_error otherwise. A timeout on a partial read_exact or write_all loses nothing: the
// error-code form returns how many bytes were transferred.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <span>
#include <string_view>
#include <system_error>

#include "cogent/socket.hpp"

namespace cogent {

enum class shutdown_type { read = 0, write = 1, both = 2 };  // SHUT_RD, SHUT_WR, SHUT_RDWR

class stream_socket : public socket {
public:
    stream_socket() noexcept = default;
    // Adopts a connected stream socket's fd (made non-blocking).
    explicit stream_socket(int fd) : socket(fd) {}

    // Reads what is there (at least one byte), waiting if nothing is. 0 means the peer ended the
    // stream (or `buffer` is empty).
    std::size_t read_some(std::span<char> buffer, duration timeout = forever);
    std::size_t read_some(std::span<char> buffer, duration timeout, std::error_code& ec);
    // Writes as much as the kernel takes now (at least one byte), waiting if it takes nothing.
    std::size_t write_some(std::string_view data, duration timeout = forever);
    std::size_t write_some(std::string_view data, duration timeout, std::error_code& ec);

    // Fills `buffer` completely; end_of_stream if the peer ends first. The timeout is for the whole.
    void read_exact(std::span<char> buffer, duration timeout = forever);
    std::size_t read_exact(std::span<char> buffer, duration timeout, std::error_code& ec);
    // Writes all of `data` (gevent's sendall). The timeout is for the whole.
    void write_all(std::string_view data, duration timeout = forever);
    std::size_t write_all(std::string_view data, duration timeout, std::error_code& ec);

    // Scatter and gather: like read_some and write_some over several buffers.
    std::size_t readv(std::span<const iovec> buffers, duration timeout = forever);
    std::size_t readv(std::span<const iovec> buffers, duration timeout, std::error_code& ec);
    std::size_t writev(std::span<const iovec> buffers, duration timeout = forever);
    std::size_t writev(std::span<const iovec> buffers, duration timeout, std::error_code& ec);

    // Sends `count` bytes of the file `file_fd` from `offset` (sendfile(2), no copy through user
    // space). Stops early at the file's end; returns how many bytes were sent.
    std::size_t sendfile(int file_fd, off_t offset, std::size_t count, duration timeout = forever);
    std::size_t sendfile(int file_fd, off_t offset, std::size_t count, duration timeout, std::error_code& ec);

    // Ends reading, writing or both (a write shutdown sends the peer an end of stream).
    void shutdown(shutdown_type how = shutdown_type::both);
    void shutdown(shutdown_type how, std::error_code& ec) noexcept;

    // The peer's address (getpeername). Throws std::system_error.
    endpoint peer_endpoint() const;

protected:
    explicit stream_socket(nonblocking_fd adopt) noexcept : socket(adopt) {}

private:
    // One recv or send, through the backend's own calls (io_uring) or readiness and a retry.
    ssize_t receive(char* data, std::size_t size, clock::time_point deadline, std::error_code& ec);
    ssize_t send(const char* data, std::size_t size, clock::time_point deadline, std::error_code& ec);
};

}  // namespace cogent
