// Hooks that read from and write to sockets. Untracked fds (pipes, files, sockets made before
// the hooks were loaded) and sockets the user made non-blocking go straight to libc.
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstddef>
#include <vector>

#include "hooks/blocking_io.hpp"
#include "hooks/libc.hpp"

using namespace cogent::hooks;

namespace {

std::size_t total_size(const iovec* iov, int count) noexcept {
    std::size_t total = 0;
    for (int i = 0; i < count; ++i) total += iov[i].iov_len;
    return total;
}

// The part of `iov` after its first `done` bytes, in `rest` (only made when a write was partial).
void skip(const iovec* iov, int count, std::size_t done, std::vector<iovec>& rest) {
    rest.clear();
    for (int i = 0; i < count; ++i) {
        if (done >= iov[i].iov_len) {
            done -= iov[i].iov_len;
            continue;
        }
        rest.push_back({static_cast<char*>(iov[i].iov_base) + done, iov[i].iov_len - done});
        done = 0;
    }
}

// A receive on a stream socket with MSG_WAITALL waits, in the kernel, until the whole buffer is
// full (or the stream ends, or a timeout or error comes first); the emulation does the same.
template <class Attempt>
ssize_t receive(int fd, std::size_t length, int flags, Attempt&& attempt) {
    blocking_mode mode = blocking_mode_for(fd, flags);
    if (mode.state == nullptr) return attempt(std::size_t{0});
    if (!(flags & MSG_WAITALL) || !mode.state->has(socket_state::stream)) {
        return retry(mode, fd, direction::in, [&] { return attempt(std::size_t{0}); });
    }
    std::size_t done = 0;
    do {
        ssize_t n = retry(mode, fd, direction::in, [&] { return attempt(done); });
        if (n < 0) return done > 0 ? static_cast<ssize_t>(done) : n;
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    } while (done < length);
    return static_cast<ssize_t>(done);
}

}  // namespace

extern "C" {

ssize_t read(int fd, void* buffer, size_t length) {
    return blocking_call(fd, direction::in, 0, [&] { return libc::read(fd, buffer, length); });
}

ssize_t write(int fd, const void* buffer, size_t length) {
    return send_all(fd, length, 0, [&](std::size_t done) {
        return libc::write(fd, static_cast<const char*>(buffer) + done, length - done);
    });
}

ssize_t readv(int fd, const iovec* iov, int count) {
    return blocking_call(fd, direction::in, 0, [&] { return libc::readv(fd, iov, count); });
}

ssize_t writev(int fd, const iovec* iov, int count) {
    std::vector<iovec> rest;
    return send_all(fd, total_size(iov, count), 0, [&](std::size_t done) {
        if (done == 0) return libc::writev(fd, iov, count);
        skip(iov, count, done, rest);
        return libc::writev(fd, rest.data(), static_cast<int>(rest.size()));
    });
}

ssize_t recv(int fd, void* buffer, size_t length, int flags) {
    return receive(fd, length, flags, [&](std::size_t done) {
        return libc::recv(fd, static_cast<char*>(buffer) + done, length - done, flags);
    });
}

ssize_t send(int fd, const void* buffer, size_t length, int flags) {
    return send_all(fd, length, flags, [&](std::size_t done) {
        return libc::send(fd, static_cast<const char*>(buffer) + done, length - done, flags);
    });
}

ssize_t recvfrom(int fd, void* buffer, size_t length, int flags, sockaddr* address, socklen_t* address_length) {
    return receive(fd, length, flags, [&](std::size_t done) {
        return libc::recvfrom(fd, static_cast<char*>(buffer) + done, length - done, flags, address, address_length);
    });
}

ssize_t sendto(int fd, const void* buffer, size_t length, int flags, const sockaddr* address,
               socklen_t address_length) {
    return send_all(fd, length, flags, [&](std::size_t done) {
        return libc::sendto(fd, static_cast<const char*>(buffer) + done, length - done, flags, address,
                            address_length);
    });
}

// MSG_WAITALL is not emulated for recvmsg (it returns what one receive gives); see docs/hooks.md.
ssize_t recvmsg(int fd, msghdr* message, int flags) {
    return blocking_call(fd, direction::in, flags, [&] { return libc::recvmsg(fd, message, flags); });
}

ssize_t sendmsg(int fd, const msghdr* message, int flags) {
    std::vector<iovec> rest;
    msghdr remainder{};
    return send_all(fd, total_size(message->msg_iov, static_cast<int>(message->msg_iovlen)), flags,
                    [&](std::size_t done) {
                        if (done == 0) return libc::sendmsg(fd, message, flags);
                        // The ancillary data went with the first part.
                        skip(message->msg_iov, static_cast<int>(message->msg_iovlen), done, rest);
                        remainder = *message;
                        remainder.msg_iov = rest.data();
                        remainder.msg_iovlen = rest.size();
                        remainder.msg_control = nullptr;
                        remainder.msg_controllen = 0;
                        return libc::sendmsg(fd, &remainder, flags);
                    });
}

}  // extern "C"
