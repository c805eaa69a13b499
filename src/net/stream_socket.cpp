// Reads and writes on a connected stream, all through the one retry loop.
#include "cogent/stream_socket.hpp"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <climits>

#include "net/io_retry.hpp"
#include "net/native_io.hpp"
#include "net/or_throw.hpp"

namespace cogent {

using detail::io_readable;
using detail::io_writable;
using detail::retry_io;
using detail::or_throw;

namespace {

int iov_count(std::span<const iovec> buffers) {
    return static_cast<int>(std::min<std::size_t>(buffers.size(), IOV_MAX));
}

}  // namespace

std::size_t stream_socket::read_some(std::span<char> buffer, duration timeout, std::error_code& ec) {
    if (buffer.empty()) {
        ec.clear();
        return 0;
    }
    ssize_t n = receive(buffer.data(), buffer.size(), deadline_after(timeout), ec);
    return n < 0 ? 0 : static_cast<std::size_t>(n);
}

ssize_t stream_socket::receive(char* data, std::size_t size, clock::time_point deadline, std::error_code& ec) {
    if (detail::native_io_available()) {
        return detail::native_io(fd_, {detail::native_call::recv, data, size}, deadline, ec, "socket recv");
    }
    return retry_io(
        fd_, io_readable, deadline, ec, "socket readable", [&](int fd) { return ::recv(fd, data, size, 0); },
        &read_waits_first_);
}

ssize_t stream_socket::send(const char* data, std::size_t size, clock::time_point deadline, std::error_code& ec) {
    if (detail::native_io_available()) {
        return detail::native_io(fd_, {detail::native_call::send, const_cast<char*>(data), size}, deadline, ec,
                                 "socket send");
    }
    return retry_io(fd_, io_writable, deadline, ec, "socket writable",
                    [&](int fd) { return ::send(fd, data, size, MSG_NOSIGNAL); });
}

std::size_t stream_socket::write_some(std::string_view data, duration timeout, std::error_code& ec) {
    if (data.empty()) {
        ec.clear();
        return 0;
    }
    ssize_t n = send(data.data(), data.size(), deadline_after(timeout), ec);
    return n < 0 ? 0 : static_cast<std::size_t>(n);
}

std::size_t stream_socket::read_exact(std::span<char> buffer, duration timeout, std::error_code& ec) {
    const clock::time_point deadline = deadline_after(timeout);
    std::size_t done = 0;
    ec.clear();
    while (done < buffer.size()) {
        ssize_t n = receive(buffer.data() + done, buffer.size() - done, deadline, ec);
        if (n < 0) return done;
        if (n == 0) {
            ec = make_error_code(net_errc::end_of_stream);
            return done;
        }
        done += static_cast<std::size_t>(n);
    }
    return done;
}

std::size_t stream_socket::write_all(std::string_view data, duration timeout, std::error_code& ec) {
    const clock::time_point deadline = deadline_after(timeout);
    std::size_t done = 0;
    ec.clear();
    while (done < data.size()) {
        ssize_t n = send(data.data() + done, data.size() - done, deadline, ec);
        if (n < 0) return done;
        done += static_cast<std::size_t>(n);
    }
    return done;
}

std::size_t stream_socket::readv(std::span<const iovec> buffers, duration timeout, std::error_code& ec) {
    ssize_t n = retry_io(fd_, io_readable, deadline_after(timeout), ec, "socket readable",
                         [&](int fd) { return ::readv(fd, buffers.data(), iov_count(buffers)); });
    return n < 0 ? 0 : static_cast<std::size_t>(n);
}

std::size_t stream_socket::writev(std::span<const iovec> buffers, duration timeout, std::error_code& ec) {
    ssize_t n = retry_io(fd_, io_writable, deadline_after(timeout), ec, "socket writable", [&](int fd) {
        // sendmsg rather than writev(2): only a send can say MSG_NOSIGNAL.
        msghdr message{};
        message.msg_iov = const_cast<iovec*>(buffers.data());
        message.msg_iovlen = static_cast<std::size_t>(iov_count(buffers));
        return ::sendmsg(fd, &message, MSG_NOSIGNAL);
    });
    return n < 0 ? 0 : static_cast<std::size_t>(n);
}

std::size_t stream_socket::sendfile(int file_fd, off_t offset, std::size_t count, duration timeout,
                                    std::error_code& ec) {
    const clock::time_point deadline = deadline_after(timeout);
    std::size_t done = 0;
    ec.clear();
    while (done < count) {
        ssize_t n = retry_io(fd_, io_writable, deadline, ec, "socket writable",
                             [&](int fd) { return ::sendfile(fd, file_fd, &offset, count - done); });
        if (n <= 0) return done;  // an error, or the end of the file
        done += static_cast<std::size_t>(n);
    }
    return done;
}

void stream_socket::shutdown(shutdown_type how, std::error_code& ec) noexcept {
    ec.clear();
    if (fd_ < 0) {
        ec = std::make_error_code(std::errc::bad_file_descriptor);
    } else if (::shutdown(fd_, static_cast<int>(how)) != 0) {
        detail::set_errno_code(ec, errno);
    }
}

endpoint stream_socket::peer_endpoint() const {
    require_open("peer_endpoint");
    endpoint e;
    socklen_t size = endpoint::capacity();
    if (::getpeername(fd_, e.data(), &size) != 0) {
        throw std::system_error(errno, std::generic_category(), "cogent: getpeername");
    }
    e.resize(size);
    return e;
}

// The throwing forms.
std::size_t stream_socket::read_some(std::span<char> buffer, duration timeout) {
    return or_throw("read_some", [&](std::error_code& ec) { return read_some(buffer, timeout, ec); });
}
std::size_t stream_socket::write_some(std::string_view data, duration timeout) {
    return or_throw("write_some", [&](std::error_code& ec) { return write_some(data, timeout, ec); });
}
void stream_socket::read_exact(std::span<char> buffer, duration timeout) {
    or_throw("read_exact", [&](std::error_code& ec) { return read_exact(buffer, timeout, ec); });
}
void stream_socket::write_all(std::string_view data, duration timeout) {
    or_throw("write_all", [&](std::error_code& ec) { return write_all(data, timeout, ec); });
}
std::size_t stream_socket::readv(std::span<const iovec> buffers, duration timeout) {
    return or_throw("readv", [&](std::error_code& ec) { return readv(buffers, timeout, ec); });
}
std::size_t stream_socket::writev(std::span<const iovec> buffers, duration timeout) {
    return or_throw("writev", [&](std::error_code& ec) { return writev(buffers, timeout, ec); });
}
std::size_t stream_socket::sendfile(int file_fd, off_t offset, std::size_t count, duration timeout) {
    return or_throw("sendfile", [&](std::error_code& ec) { return sendfile(file_fd, offset, count, timeout, ec); });
}
void stream_socket::shutdown(shutdown_type how) {
    std::error_code ec;
    shutdown(how, ec);
    if (ec) throw std::system_error(ec, "cogent: shutdown");
}

}  // namespace cogent
