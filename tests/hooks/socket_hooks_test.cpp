// Blocking sockets in greenlets: they park instead of blocking the thread, with libc's results
// and errno, and the user's O_NONBLOCK, FIONBIO, socket timeouts and dups honoured.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "cogent/monkey.hpp"
#include "cogent/sleep.hpp"
#include "cogent/task.hpp"
#include "hooks/hooks_test_support.hpp"

namespace cogent_test {
namespace {

using SocketHooks = Hooks;

TEST_F(SocketHooks, ABlockingRecvParksTheGreenletWhileOthersRun) {
    const auto fds = posix_pair();
    const int client = fds.first;
    const int server = fds.second;
    int ticks = 0;
    cogent::run([&] {
        int errno_after = 0;
        auto reader = cogent::spawn([&] {
            char buffer[16];
            errno = ENOTTY;
            ssize_t n = ::recv(server, buffer, sizeof buffer, 0);
            errno_after = errno;  // a success leaves errno alone, as libc's does
            return std::string(buffer, n > 0 ? static_cast<std::size_t>(n) : 0);
        });
        // The reader is parked in recv: this greenlet runs, and its sleeps let the hub turn.
        for (int i = 0; i < 5; ++i) {
            cogent::sleep(5ms);
            ++ticks;
        }
        ASSERT_EQ(::send(client, "hello", 5, 0), 5);
        EXPECT_EQ(reader.get(), "hello");
        EXPECT_EQ(errno_after, ENOTTY);
    });
    EXPECT_EQ(ticks, 5);
    EXPECT_TRUE(kernel_nonblocking(server));
    // The user still sees a blocking socket.
    EXPECT_EQ(::fcntl(server, F_GETFL) & O_NONBLOCK, 0);
    ::close(client);
    ::close(server);
}

TEST_F(SocketHooks, TheUsersNonBlockingSocketStillSaysEagain) {
    const auto fds = posix_pair();
    const int client = fds.first;
    const int server = fds.second;
    ASSERT_EQ(::fcntl(server, F_SETFL, ::fcntl(server, F_GETFL) | O_NONBLOCK), 0);
    cogent::run([&] {
        char buffer[4];
        errno = 0;
        EXPECT_EQ(::recv(server, buffer, sizeof buffer, 0), -1);
        EXPECT_EQ(errno, EAGAIN);
        EXPECT_EQ(::read(server, buffer, sizeof buffer), -1);
        EXPECT_EQ(errno, EAGAIN);
    });
    EXPECT_NE(::fcntl(server, F_GETFL) & O_NONBLOCK, 0);
    ::close(client);
    ::close(server);
}

TEST_F(SocketHooks, FionbioIsTheUsersChoiceToo) {
    const auto fds = posix_pair();
    const int client = fds.first;
    const int server = fds.second;
    cogent::run([&] {
        int on = 1;
        ASSERT_EQ(::ioctl(server, FIONBIO, &on), 0);
        char buffer[4];
        EXPECT_EQ(::recv(server, buffer, sizeof buffer, 0), -1);
        EXPECT_EQ(errno, EWOULDBLOCK);
        int off = 0;
        ASSERT_EQ(::ioctl(server, FIONBIO, &off), 0);
        auto writer = cogent::spawn([&] {
            cogent::sleep(20ms);
            ::send(client, "x", 1, 0);
        });
        EXPECT_EQ(::recv(server, buffer, sizeof buffer, 0), 1);  // parks again, then reads
        writer.join();
    });
    ::close(client);
    ::close(server);
}

TEST_F(SocketHooks, SoRcvtimeoEndsAParkedReceiveWithEagain) {
    const auto fds = posix_pair();
    const int client = fds.first;
    const int server = fds.second;
    timeval timeout{0, 200'000};
    ASSERT_EQ(::setsockopt(server, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout), 0);
    int ticks = 0;
    cogent::run([&] {
        auto ticker = cogent::spawn([&] {
            for (;;) {
                cogent::sleep(10ms);
                ++ticks;
            }
        });
        stopwatch clock;
        char buffer[4];
        errno = 0;
        EXPECT_EQ(::recv(server, buffer, sizeof buffer, 0), -1);
        EXPECT_EQ(errno, EAGAIN);
        EXPECT_GE(clock.seconds(), 0.19);
        EXPECT_LT(clock.seconds(), 5.0);
        ticker.kill();
    });
    EXPECT_GE(ticks, 5);  // the hub turned while the receive waited
    ::close(client);
    ::close(server);
}

TEST_F(SocketHooks, CloseWakesAGreenletParkedOnTheSocket) {
    const auto fds = posix_pair();
    const int client = fds.first;
    const int server = fds.second;
    cogent::run([&] {
        auto reader = cogent::spawn([&] {
            char buffer[4];
            errno = 0;
            ssize_t n = ::recv(server, buffer, sizeof buffer, 0);
            return std::make_pair(n, errno);
        });
        cogent::sleep(20ms);
        errno = ENOTTY;
        EXPECT_EQ(::close(server), 0);
        EXPECT_EQ(errno, ENOTTY);
        auto [n, error] = reader.get(std::chrono::seconds(5));
        EXPECT_EQ(n, -1);
        EXPECT_EQ(error, EBADF);
    });
    ::close(client);
}

TEST_F(SocketHooks, DupSharesTheBlockingModeAsTheKernelDoes) {
    const auto fds = posix_pair();
    const int client = fds.first;
    const int server = fds.second;
    int copy = ::dup(server);
    ASSERT_GE(copy, 0);
    ASSERT_EQ(::fcntl(server, F_SETFL, O_NONBLOCK), 0);
    EXPECT_NE(::fcntl(copy, F_GETFL) & O_NONBLOCK, 0);
    ASSERT_EQ(::fcntl(copy, F_SETFL, 0), 0);
    EXPECT_EQ(::fcntl(server, F_GETFL) & O_NONBLOCK, 0);
    int third = ::fcntl(server, F_DUPFD_CLOEXEC, 100);
    ASSERT_GE(third, 100);
    cogent::run([&] {
        auto writer = cogent::spawn([&] {
            cogent::sleep(20ms);
            ::send(client, "xy", 2, 0);
        });
        char buffer[2];
        EXPECT_EQ(::recv(third, buffer, sizeof buffer, MSG_WAITALL), 2);
    });
    // Closing one alias leaves the others tracked.
    ::close(server);
    EXPECT_TRUE(kernel_nonblocking(copy));
    EXPECT_EQ(::fcntl(copy, F_GETFL) & O_NONBLOCK, 0);
    ASSERT_EQ(::dup2(copy, 200), 200);
    EXPECT_EQ(::fcntl(200, F_GETFL) & O_NONBLOCK, 0);
    ::close(200);
    ::close(copy);
    ::close(third);
    ::close(client);
}

TEST_F(SocketHooks, ConnectAndAcceptParkAndReportLikeLibc) {
    std::uint16_t port = 0;
    int listener = posix_listener(&port);
    cogent::run([&] {
        auto acceptor = cogent::spawn([&] { return ::accept(listener, nullptr, nullptr); });
        cogent::sleep(10ms);  // the acceptor parks first
        int client = posix_connect(port);
        ASSERT_GE(client, 0);
        int server = acceptor.get(std::chrono::seconds(5));
        ASSERT_GE(server, 0);
        EXPECT_EQ(::write(client, "ping", 4), 4);
        char buffer[8];
        EXPECT_EQ(::read(server, buffer, sizeof buffer), 4);
        ::close(server);
        ::close(client);
    });
    ::close(listener);
    // Nobody listens there any more.
    cogent::run([&] {
        errno = 0;
        EXPECT_EQ(posix_connect(port), -1);
        EXPECT_EQ(errno, ECONNREFUSED);
    });
}

TEST_F(SocketHooks, SoSndtimeoEndsAParkedConnectWithEinprogressAsTheKernelDoes) {
    // A listener that never accepts, with a backlog of 0: once its queue holds a connection, the
    // kernel drops further SYNs, so a new connect neither succeeds nor is refused.
    std::uint16_t port = 0;
    int listener = posix_listener(&port, 0);
    ASSERT_GE(listener, 0);
    std::vector<int> filling;
    for (int i = 0; i < 3; ++i) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        address.sin_port = htons(port);
        ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
        filling.push_back(fd);
    }
    int ticks = 0;
    cogent::run([&] {
        cogent::sleep(100ms);  // the fillers' handshakes are done (or dropped)
        auto ticker = cogent::spawn([&] {
            for (;;) {
                cogent::sleep(10ms);
                ++ticks;
            }
        });
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        timeval timeout{0, 300'000};
        ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout), 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        address.sin_port = htons(port);
        stopwatch clock;
        errno = 0;
        EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), -1);
        EXPECT_EQ(errno, EINPROGRESS);
        EXPECT_GE(clock.seconds(), 0.29);
        EXPECT_LT(clock.seconds(), 5.0);
        ticker.kill();
        ::close(fd);
    });
    EXPECT_GE(ticks, 5);  // the hub turned while the connect waited
    for (int fd : filling) ::close(fd);
    ::close(listener);
}

TEST_F(SocketHooks, ABlockingSendOfMoreThanTheBuffersHoldSendsAll) {
    const auto fds = posix_pair();
    const int client = fds.first;
    const int server = fds.second;
    constexpr std::size_t size = 8 << 20;
    std::string data(size, 'z');
    cogent::run([&] {
        auto reader = cogent::spawn([&] {
            std::string got(size, '\0');
            return ::recv(server, got.data(), got.size(), MSG_WAITALL);
        });
        EXPECT_EQ(::send(client, data.data(), data.size(), 0), static_cast<ssize_t>(size));
        EXPECT_EQ(reader.get(), static_cast<ssize_t>(size));
    });
    ::close(client);
    ::close(server);
}

TEST_F(SocketHooks, TwoGreenletsMayWaitOnOneSocketAsTwoThreadsMay) {
    // The hub takes one waiter per fd and direction; the second falls back to asking the kernel
    // every millisecond, and both are served.
    const auto fds = posix_pair();
    const int client = fds.first;
    const int server = fds.second;
    cogent::run([&] {
        auto read_one = [&] {
            char c = 0;
            return ::recv(server, &c, 1, 0);
        };
        auto first = cogent::spawn(read_one);
        auto second = cogent::spawn(read_one);
        cogent::sleep(20ms);
        ASSERT_EQ(::send(client, "a", 1, 0), 1);
        cogent::sleep(20ms);
        ASSERT_EQ(::send(client, "b", 1, 0), 1);
        EXPECT_EQ(first.get(std::chrono::seconds(5)), 1);
        EXPECT_EQ(second.get(std::chrono::seconds(5)), 1);
    });
    ::close(client);
    ::close(server);
}

}  // namespace
}  // namespace cogent_test
