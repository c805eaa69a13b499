// poll, ppoll, select, pselect, epoll_wait and the sleep family inside greenlets: they park (so
// waits in several greenlets overlap) and answer exactly as libc does.
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <vector>

#include "cogent/sleep.hpp"
#include "cogent/task.hpp"
#include "hooks/hooks_test_support.hpp"

namespace cogent_test {
namespace {

using WaitHooks = Hooks;

// Runs `wait` in `count` greenlets at once and returns how long they took together.
template <class F>
double overlapped(int count, F wait) {
    stopwatch clock;
    cogent::run([&] {
        std::vector<cogent::basic_task> tasks;
        for (int i = 0; i < count; ++i) tasks.push_back(cogent::spawn(wait));
        cogent::joinall(tasks);
    });
    return clock.seconds();
}

struct pipe_pair {
    int fds[2];
    pipe_pair() { EXPECT_EQ(::pipe(fds), 0); }
    ~pipe_pair() {
        ::close(fds[0]);
        ::close(fds[1]);
    }
};

TEST_F(WaitHooks, PollTimeoutsOverlap) {
    pipe_pair p;
    // Ten polls of 200 ms each on a pipe nobody writes: about 0.2 s together, not 2 s.
    double took = overlapped(10, [&] {
        pollfd entry{p.fds[0], POLLIN, 0};
        EXPECT_EQ(::poll(&entry, 1, 200), 0);
    });
    EXPECT_GE(took, 0.19);
    EXPECT_LT(took, 1.5);
}

TEST_F(WaitHooks, PollReportsWhatBecameReady) {
    pipe_pair p;
    cogent::run([&] {
        auto writer = cogent::spawn([&] {
            cogent::sleep(20ms);
            EXPECT_EQ(::write(p.fds[1], "x", 1), 1);
        });
        pollfd entries[2] = {{p.fds[0], POLLIN, 0}, {-1, POLLIN, 0}};
        EXPECT_EQ(::poll(entries, 2, 5000), 1);
        EXPECT_EQ(entries[0].revents, POLLIN);
        EXPECT_EQ(entries[1].revents, 0);
        timespec timeout{5, 0};
        EXPECT_EQ(::ppoll(entries, 1, &timeout, nullptr), 1);
        timespec bad{0, -1};
        EXPECT_EQ(::ppoll(entries, 1, &bad, nullptr), -1);
        EXPECT_EQ(errno, EINVAL);
    });
}

TEST_F(WaitHooks, SelectParksAndFillsTheSetsAsLinuxDoes) {
    pipe_pair p;
    cogent::run([&] {
        auto writer = cogent::spawn([&] {
            cogent::sleep(20ms);
            EXPECT_EQ(::write(p.fds[1], "x", 1), 1);
        });
        fd_set readable;
        FD_ZERO(&readable);
        FD_SET(p.fds[0], &readable);
        fd_set writable;
        FD_ZERO(&writable);
        timeval timeout{5, 0};
        EXPECT_EQ(::select(p.fds[0] + 1, &readable, &writable, nullptr, &timeout), 1);
        EXPECT_TRUE(FD_ISSET(p.fds[0], &readable));
        EXPECT_LT(timeout.tv_sec, 5);  // Linux leaves the time not slept
        EXPECT_GE(timeout.tv_sec, 3);

        char c;
        ASSERT_EQ(::read(p.fds[0], &c, 1), 1);
        FD_ZERO(&readable);
        FD_SET(p.fds[0], &readable);
        timespec short_wait{0, 50'000'000};
        stopwatch clock;
        EXPECT_EQ(::pselect(p.fds[0] + 1, &readable, nullptr, nullptr, &short_wait, nullptr), 0);
        EXPECT_GE(clock.seconds(), 0.045);
        EXPECT_FALSE(FD_ISSET(p.fds[0], &readable));

        FD_ZERO(&readable);
        FD_SET(1000, &readable);  // not open
        timeval t{1, 0};
        EXPECT_EQ(::select(1001, &readable, nullptr, nullptr, &t), -1);
        EXPECT_EQ(errno, EBADF);
    });
}

TEST_F(WaitHooks, SelectTimeoutsOverlap) {
    pipe_pair p;
    double took = overlapped(10, [&] {
        fd_set readable;
        FD_ZERO(&readable);
        FD_SET(p.fds[0], &readable);
        timeval timeout{0, 200'000};
        EXPECT_EQ(::select(p.fds[0] + 1, &readable, nullptr, nullptr, &timeout), 0);
    });
    EXPECT_LT(took, 1.5);
}

TEST_F(WaitHooks, EpollWaitParksOnTheEpollFd) {
    pipe_pair p;
    int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event interest{};
    interest.events = EPOLLIN;
    interest.data.fd = p.fds[0];
    ASSERT_EQ(::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, p.fds[0], &interest), 0);
    double took = overlapped(5, [&] {
        epoll_event events[4];
        EXPECT_EQ(::epoll_wait(epoll_fd, events, 4, 200), 0);
    });
    EXPECT_LT(took, 0.9);  // 5 x 200 ms one after another would be 1 s
    cogent::run([&] {
        auto writer = cogent::spawn([&] {
            cogent::sleep(20ms);
            EXPECT_EQ(::write(p.fds[1], "x", 1), 1);
        });
        epoll_event events[4];
        EXPECT_EQ(::epoll_wait(epoll_fd, events, 4, -1), 1);
        EXPECT_EQ(events[0].data.fd, p.fds[0]);
        EXPECT_EQ(::epoll_wait(epoll_fd, events, 0, 10), -1);
        EXPECT_EQ(errno, EINVAL);
    });
    ::close(epoll_fd);
}

TEST_F(WaitHooks, TheSleepFamilyParks) {
    double took = overlapped(20, [] { EXPECT_EQ(::usleep(100'000), 0); });
    EXPECT_LT(took, 1.0);  // 2 s in a row
    took = overlapped(20, [] {
        timespec t{0, 100'000'000};
        EXPECT_EQ(::nanosleep(&t, nullptr), 0);
    });
    EXPECT_LT(took, 1.0);
    took = overlapped(20, [] {
        timespec t{0, 100'000'000};
        EXPECT_EQ(::clock_nanosleep(CLOCK_MONOTONIC, 0, &t, nullptr), 0);
    });
    EXPECT_LT(took, 1.0);
    took = overlapped(20, [] {
        timespec until{};
        ::clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 100'000'000;
        if (until.tv_nsec >= 1'000'000'000) {
            until.tv_nsec -= 1'000'000'000;
            ++until.tv_sec;
        }
        EXPECT_EQ(::clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &until, nullptr), 0);
        timespec now{};
        ::clock_gettime(CLOCK_REALTIME, &now);
        EXPECT_TRUE(now.tv_sec > until.tv_sec || (now.tv_sec == until.tv_sec && now.tv_nsec >= until.tv_nsec));
    });
    EXPECT_GE(took, 0.09);
    EXPECT_LT(took, 1.0);
}

TEST_F(WaitHooks, TheSleepFamilyReportsBadArgumentsAsLibcDoes) {
    cogent::run([] {
        timespec bad{0, 1'000'000'000};
        errno = 0;
        EXPECT_EQ(::nanosleep(&bad, nullptr), -1);
        EXPECT_EQ(errno, EINVAL);
        EXPECT_EQ(::clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, nullptr), EINVAL);
        timespec fine{0, 1000};
        EXPECT_EQ(::clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &fine, nullptr), EINVAL);
        EXPECT_EQ(::clock_nanosleep(static_cast<clockid_t>(12345), 0, &fine, nullptr), EINVAL);
        timespec negative{-1, 0};
        EXPECT_EQ(::clock_nanosleep(CLOCK_MONOTONIC, 0, &negative, nullptr), 0);
        EXPECT_EQ(::sleep(0), 0u);
    });
}

TEST_F(WaitHooks, TheMainGreenletAndUnpatchedCallsBlockAsLibc) {
    // If the main greenlet's usleep parked, the hub would run the ticker meanwhile.
    int ticks = 0;
    auto ticker = cogent::spawn([&] {
        for (;;) {
            cogent::sleep(1ms);
            ++ticks;
        }
    });
    stopwatch clock;
    EXPECT_EQ(::usleep(50'000), 0);
    EXPECT_GE(clock.seconds(), 0.045);
    EXPECT_EQ(ticks, 0);

    cogent::monkey::unpatch_all();
    int during = -1;
    cogent::run([&] {
        cogent::sleep(5ms);
        int before = ticks;
        ::usleep(50'000);  // patching off: libc's, inside a greenlet too
        during = ticks - before;
    });
    EXPECT_EQ(during, 0);
    cogent::monkey::patch_all();
    ticker.kill();
}

}  // namespace
}  // namespace cogent_test
