// Helpers for the hooks suite: plain POSIX sockets made through the hooked calls (so that the
// hooks track them), a fixture that turns patching on, and a stopwatch.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <cstdint>
#include <utility>

#include "cogent/monkey.hpp"

namespace cogent_test {

using namespace std::chrono_literals;

// Turns patching on for each test, off after it.
class Hooks : public ::testing::Test {
protected:
    void SetUp() override { cogent::monkey::patch_all(); }
    void TearDown() override { cogent::monkey::unpatch_all(); }
};

class stopwatch {
public:
    std::chrono::duration<double> elapsed() const { return std::chrono::steady_clock::now() - start_; }
    double seconds() const { return elapsed().count(); }

private:
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// A blocking TCP listener on 127.0.0.1 with a free port, made with socket/bind/listen.
inline int posix_listener(std::uint16_t* port, int backlog = 128) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd, backlog) != 0) {
        ADD_FAILURE() << "listener: " << std::strerror(errno);
        return -1;
    }
    socklen_t size = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
    *port = ntohs(address.sin_port);
    return fd;
}

// A blocking client socket connected to 127.0.0.1:port, made with socket/connect.
inline int posix_connect(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        int error = errno;
        ::close(fd);
        errno = error;
        return -1;
    }
    return fd;
}

// A connected pair of blocking TCP sockets, {client, server side}, both made through the hooks.
// Made outside any greenlet (a blocking connect to a listener with room in its backlog returns
// at once).
inline std::pair<int, int> posix_pair() {
    std::uint16_t port = 0;
    int listener = posix_listener(&port);
    int client = posix_connect(port);
    int server = ::accept(listener, nullptr, nullptr);
    ::close(listener);
    return {client, server};
}

// Whether the kernel itself has O_NONBLOCK on `fd`: the hooked F_GETFL shows the user's view of
// a tracked socket (patched or not), so this asks /proc.
inline bool kernel_nonblocking(int fd) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    FILE* info = std::fopen(path, "r");
    if (info == nullptr) return false;
    char line[256];
    unsigned long value = 0;
    while (std::fgets(line, sizeof line, info) != nullptr) {
        if (std::sscanf(line, "flags: %lo", &value) == 1) break;
    }
    std::fclose(info);
    return (value & O_NONBLOCK) != 0;
}

}  // namespace cogent_test
