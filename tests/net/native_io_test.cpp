// A socket call that unwinds while it is in flight (the kernel performing it for io_uring, or a
// readiness wait elsewhere) lets go of everything first: the kernel's hold on its buffer, the
// fd's slot in the hub, and the socket itself. Runs on every backend; the cases that matter are
// io_uring's native calls, where the kernel writes into the caller's buffer until it says it is
// done.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <string>
#include <thread>

#include "cogent/errors.hpp"
#include "cogent/greenlet.hpp"
#include "cogent/unix.hpp"
#include "net/net_test_support.hpp"

namespace {

using cogent_test::patience;
using namespace std::chrono_literals;

class NativeIo : public cogent_test::hub_test {};

// A read interrupted by greenlet_error (its greenlet was switched to by hand while parked) is
// over before the error leaves it: the socket takes a new reader at once, and data sent
// afterwards goes to that reader, not into the dead frame's buffer.
TEST_F(NativeIo, AReadUnwoundByAnErrorIsOverBeforeTheErrorLeavesIt) {
    auto sockets = cogent::unix_stream::pair();  // not a structured binding: lambdas capture it
    cogent::unix_stream& mine = sockets.first;
    cogent::unix_stream& peer = sockets.second;
    cogent::greenlet main = cogent::greenlet::current();
    bool parked = false;
    bool unwound = false;
    auto reader = cogent::spawn([&] {
        std::array<char, 16> buffer{};
        try {
            parked = true;
            mine.read_some(buffer, patience);
        } catch (const cogent::greenlet_error&) {
            unwound = true;
        }
        main.switch_to();  // back to whoever switched here by hand
    });
    cogent::yield();
    ASSERT_TRUE(parked);
    cogent::greenlet g = reader.thread();
    g.switch_to();
    ASSERT_TRUE(unwound);

    peer.write_all("hello", patience);
    std::array<char, 16> buffer{};
    const std::size_t n = mine.read_some(buffer, patience);
    EXPECT_EQ(std::string(buffer.data(), n), "hello");

    // Let it finish: it ends into main, which switched to it by hand.
    g.set_parent(main);
    g.switch_to();
    EXPECT_TRUE(reader.ready());
}

// A thread that ends while a task of its hub has a read in flight kills the task; the read is
// cancelled and waited out before the task's frame goes (the kernel may write into its buffer
// until then), and the task's socket is closed, so the peer sees the end.
TEST_F(NativeIo, AThreadThatEndsWithAReadInFlightClosesItsSocket) {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    const std::size_t fds_before = cogent_test::open_fd_count();
    bool parked = false;
    std::thread thread([&parked, fd = fds[0]] {
        auto reader = cogent::spawn([&parked, fd] {
            cogent::unix_stream socket(fd);
            std::array<char, 64> buffer{};
            parked = true;
            socket.read_some(buffer, patience);
        });
        cogent::yield();  // the reader parks with its read in flight; then the thread ends
    });
    thread.join();
    EXPECT_TRUE(parked);
    // Data sent now would have nowhere to go but the dead frame, had the read not been cancelled.
    // The socket is closed, so the peer's write fails (or, racing the close, reaches no one) and
    // its read says end of stream.
    (void)::send(fds[1], "late", 4, MSG_NOSIGNAL);
    timeval limit{10, 0};  // a socket left open must fail the test, not hang it
    ASSERT_EQ(::setsockopt(fds[1], SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit), 0);
    char c;
    EXPECT_EQ(::recv(fds[1], &c, 1, 0), 0);
    ::close(fds[1]);
    EXPECT_EQ(cogent_test::open_fd_count(), fds_before - 2);
}

}  // namespace
