// cogent::poll: one greenlet waiting on many fds, answering as poll(2) would. Runs once per
// backend; on edge-triggered ones the "already ready" cases matter most.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <vector>

#include "cogent/errors.hpp"
#include "cogent/io_wait.hpp"
#include "cogent/sleep.hpp"
#include "cogent/task.hpp"
#include "cogent/timeout.hpp"
#include "hub/core_test_support.hpp"

using namespace std::chrono_literals;

namespace {

constexpr auto patience = 10s;
// What revents holds before a call: a value poll never reports, so that an expected 0 shows poll
// cleared it.
constexpr short unset = 0x4000;

struct pipe_pair {
    int read_end = -1, write_end = -1;
    pipe_pair() {
        int fd[2];
        if (::pipe2(fd, O_NONBLOCK | O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
        read_end = fd[0];
        write_end = fd[1];
    }
    ~pipe_pair() {
        for (int f : {read_end, write_end}) {
            if (f >= 0) {
                cogent::notify_close(f);
                ::close(f);
            }
        }
    }
    pipe_pair(const pipe_pair&) = delete;
    pipe_pair& operator=(const pipe_pair&) = delete;
};

class Poll : public cogent_test::hub_test {};

TEST_F(Poll, ReturnsAtOnceWhenSomethingIsAlreadyReady) {
    pipe_pair a, b;
    ASSERT_EQ(::write(b.write_end, "x", 1), 1);
    pollfd fds[] = {{a.read_end, POLLIN, unset}, {b.read_end, POLLIN, unset}};
    EXPECT_EQ(cogent::poll(fds, 2, patience), 1);
    EXPECT_EQ(fds[0].revents, 0);
    EXPECT_EQ(fds[1].revents, POLLIN);
}

TEST_F(Poll, ParksUntilOneOfManyBecomesReadyWhileOthersRun) {
    std::vector<pipe_pair> pipes(8);
    int others_ran = 0;
    auto writer = cogent::spawn([&] {
        for (int i = 0; i < 3; ++i) {
            ++others_ran;
            cogent::yield();
        }
        ASSERT_EQ(::write(pipes[5].write_end, "y", 1), 1);
    });
    std::vector<pollfd> fds;
    for (auto& p : pipes) fds.push_back({p.read_end, POLLIN, unset});
    EXPECT_EQ(cogent::poll(fds.data(), fds.size(), patience), 1);
    EXPECT_EQ(others_ran, 3);
    for (std::size_t i = 0; i < fds.size(); ++i) EXPECT_EQ(fds[i].revents, i == 5 ? POLLIN : 0) << i;
    writer.get(patience);
}

TEST_F(Poll, ReportsReadAndWriteOfOneFdAndTheSameFdTwice) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    pollfd fds[] = {{sv[0], POLLIN, unset}, {sv[0], POLLIN | POLLOUT, unset}};
    EXPECT_EQ(cogent::poll(fds, 2, patience), 1);  // writable at once
    EXPECT_EQ(fds[1].revents, POLLOUT);
    // Now only readability is asked for, twice: one interest, one wake, both entries report it.
    fds[1].events = POLLIN;
    auto writer = cogent::spawn([&] { ASSERT_EQ(::write(sv[1], "z", 1), 1); });
    EXPECT_EQ(cogent::poll(fds, 2, patience), 2);
    EXPECT_EQ(fds[0].revents, POLLIN);
    EXPECT_EQ(fds[1].revents, POLLIN);
    writer.get(patience);
    for (int f : sv) {
        cogent::notify_close(f);
        ::close(f);
    }
}

TEST_F(Poll, TimesOutWithZeroAndLeavesNothingWatched) {
    pipe_pair a;
    pollfd fds[] = {{a.read_end, POLLIN, unset}};
    EXPECT_EQ(cogent::poll(fds, 1, 20ms), 0);
    EXPECT_EQ(fds[0].revents, 0);
    EXPECT_EQ(cogent::detail::hub_impl::current().fd_waits(), 0u);
    EXPECT_EQ(cogent::poll(fds, 1, 0ms), 0);  // zero: only looks
}

TEST_F(Poll, ReportsHangUpWhenThePeerCloses) {
    pipe_pair a;
    auto closer = cogent::spawn([&] {
        ::close(a.write_end);
        a.write_end = -1;
    });
    pollfd fds[] = {{a.read_end, POLLIN, unset}};
    EXPECT_EQ(cogent::poll(fds, 1, patience), 1);
    EXPECT_TRUE(fds[0].revents & POLLHUP);
    closer.get(patience);
}

TEST_F(Poll, IgnoresNegativeFds) {
    pipe_pair a;
    ASSERT_EQ(::write(a.write_end, "x", 1), 1);
    pollfd fds[] = {{-1, POLLIN, unset}, {a.read_end, POLLIN, unset}};
    EXPECT_EQ(cogent::poll(fds, 2, patience), 1);
    EXPECT_EQ(fds[0].revents, 0);
}

TEST_F(Poll, NotifyCloseReportsInvalidForThatFd) {
    pipe_pair a, b;
    auto closer = cogent::spawn([&] {
        cogent::notify_close(b.read_end);
        ::close(b.read_end);
        b.read_end = -1;
    });
    pollfd fds[] = {{a.read_end, POLLIN, unset}, {b.read_end, POLLIN, unset}};
    EXPECT_EQ(cogent::poll(fds, 2, patience), 1);
    EXPECT_EQ(fds[0].revents, 0);
    EXPECT_EQ(fds[1].revents, POLLNVAL);
    closer.get(patience);
}

TEST_F(Poll, ASecondGreenletOnTheSameFdAndEventIsRefusedAndTheFirstIsUndisturbed) {
    pipe_pair a;
    auto first = cogent::spawn([&] {
        pollfd fds[] = {{a.read_end, POLLIN, unset}};
        return cogent::poll(fds, 1, patience);
    });
    cogent::yield();
    pollfd fds[] = {{a.read_end, POLLIN, unset}};
    EXPECT_THROW(cogent::poll(fds, 1, patience), cogent::concurrent_wait_error);
    ASSERT_EQ(::write(a.write_end, "x", 1), 1);
    EXPECT_EQ(first.get(patience), 1);
}

TEST_F(Poll, AKillWhileParkedUnwatchesEveryFd) {
    pipe_pair a, b;
    auto poller = cogent::spawn([&] {
        pollfd fds[] = {{a.read_end, POLLIN, unset}, {b.read_end, POLLIN, unset}};
        cogent::poll(fds, 2, patience);
    });
    cogent::yield();
    EXPECT_EQ(cogent::detail::hub_impl::current().fd_waits(), 2u);
    poller.kill();
    EXPECT_TRUE(poller.join(patience));
    EXPECT_EQ(cogent::detail::hub_impl::current().fd_waits(), 0u);
}

TEST_F(Poll, AnEnclosingTimeoutScopeRaisesItsError) {
    pipe_pair a;
    pollfd fds[] = {{a.read_end, POLLIN, unset}};
    cogent::timeout scope(20ms);
    try {
        cogent::poll(fds, 1);
        FAIL() << "poll returned";
    } catch (const cogent::timeout_error& e) {
        EXPECT_TRUE(scope.raised(e));
    }
}

}  // namespace
