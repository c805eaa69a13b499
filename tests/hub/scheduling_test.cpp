// Scheduling: yield, sleep, idle, the order greenlets run in, and the handoff budget (a ring of
// greenlets yielding to each other must not starve timers, I/O or other threads' posts).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "cogent/hub.hpp"
#include "cogent/io_wait.hpp"
#include "cogent/sleep.hpp"
#include "cogent/task.hpp"
#include "cogent/timeout.hpp"
#include "cogent/waiter.hpp"
#include "hub/core_test_support.hpp"

using namespace std::chrono_literals;

namespace {

using Scheduling = cogent_test::hub_test;

std::vector<cogent::basic_task> spawn_yielders(std::vector<std::string>& log, const std::vector<std::string>& names,
                                              int rounds, void (*give_up)()) {
    std::vector<cogent::basic_task> tasks;
    for (const std::string& name : names) {
        tasks.push_back(cogent::spawn([&log, name, rounds, give_up] {
            for (int i = 0; i < rounds; ++i) {
                log.push_back(name + std::to_string(i));
                give_up();
            }
        }));
    }
    return tasks;
}

TEST_F(Scheduling, YieldIsRoundRobin) {
    std::vector<std::string> log;
    auto tasks = spawn_yielders(log, {"a", "b", "c"}, 3, [] { cogent::yield(); });
    cogent::joinall(tasks);
    EXPECT_EQ(log, (std::vector<std::string>{"a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"}));
}

TEST_F(Scheduling, SleepZeroIsYield) {
    std::vector<std::string> log;
    auto tasks = spawn_yielders(log, {"a", "b", "c"}, 3, [] { cogent::sleep(0ms); });
    cogent::joinall(tasks);
    EXPECT_EQ(log, (std::vector<std::string>{"a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"}));
}

TEST_F(Scheduling, NegativeSleepIsYield) {
    std::vector<std::string> log;
    auto tasks = spawn_yielders(log, {"a", "b"}, 2, [] { cogent::sleep(-5ms); });
    cogent::joinall(tasks);
    EXPECT_EQ(log, (std::vector<std::string>{"a0", "b0", "a1", "b1"}));
}

TEST_F(Scheduling, YieldFromMainLetsEveryReadyTaskRunOnce) {
    std::vector<std::string> log;
    auto tasks = spawn_yielders(log, {"a", "b"}, 3, [] { cogent::yield(); });
    cogent::yield();
    EXPECT_EQ(log, (std::vector<std::string>{"a0", "b0"}));
    cogent::yield();
    EXPECT_EQ(log, (std::vector<std::string>{"a0", "b0", "a1", "b1"}));
    cogent::joinall(tasks);
}

TEST_F(Scheduling, YieldFromMainWithNothingElseReturns) {
    for (int i = 0; i < 1000; ++i) cogent::yield();
    cogent::sleep(0ms);
    SUCCEED();
}

TEST_F(Scheduling, YieldInAFreshThreadReturns) {
    cogent_test::in_thread([] {
        EXPECT_FALSE(cogent::hub_started());
        cogent::yield();
        EXPECT_TRUE(cogent::hub_started());
        cogent::yield();
    });
}

TEST_F(Scheduling, ManyYieldersInterleaveFairly) {
    // Longer than the handoff budget, so the hub comes back in between: the order must not change.
    constexpr int tasks_count = 100;
    constexpr int rounds = 20;
    std::vector<int> log;
    std::vector<cogent::basic_task> tasks;
    for (int t = 0; t < tasks_count; ++t) {
        tasks.push_back(cogent::spawn([&log, t] {
            for (int r = 0; r < rounds; ++r) {
                log.push_back(t);
                cogent::yield();
            }
        }));
    }
    cogent::joinall(tasks);
    ASSERT_EQ(log.size(), static_cast<std::size_t>(tasks_count * rounds));
    for (std::size_t i = 0; i < log.size(); ++i) ASSERT_EQ(log[i], static_cast<int>(i % tasks_count)) << "at " << i;
}

TEST_F(Scheduling, WokenGreenletsRunInWakeOrder) {
    cogent::wait_list list;
    std::vector<int> log;
    std::vector<cogent::basic_task> tasks;
    for (int i = 0; i < 5; ++i) {
        tasks.push_back(cogent::spawn([&list, &log, i] {
            cogent::waiter w("list");
            list.push_back(w);
            w.wait();
            log.push_back(i);
        }));
    }
    cogent::yield();
    ASSERT_EQ(list.size(), 5u);
    EXPECT_EQ(list.wake_all(), 5u);
    cogent::joinall(tasks);
    EXPECT_EQ(log, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST_F(Scheduling, SleepersWakeInDeadlineOrder) {
    std::vector<int> log;
    std::vector<cogent::basic_task> tasks;
    for (int ms : {300, 100, 200, 100}) {  // far apart: the tasks start a little after each other
        tasks.push_back(cogent::spawn([&log, ms] {
            cogent::sleep(std::chrono::milliseconds(ms));
            log.push_back(ms);
        }));
    }
    cogent::joinall(tasks);
    EXPECT_EQ(log, (std::vector<int>{100, 100, 200, 300}));
}

TEST_F(Scheduling, SleepLastsAtLeastItsDuration) {
    for (auto d : {1ms, 5ms, 20ms}) {
        auto start = cogent::clock::now();
        cogent::sleep(d);
        EXPECT_GE(cogent::clock::now() - start, d);
    }
}

TEST_F(Scheduling, SleepingMainLetsTasksRun) {
    int count = 0;
    auto t = cogent::spawn([&] {
        for (int i = 0; i < 10; ++i) {
            ++count;
            cogent::yield();
        }
    });
    cogent::sleep(10ms);
    EXPECT_GT(count, 0);
    t.join();
    EXPECT_EQ(count, 10);
}

TEST_F(Scheduling, IdleRunsAfterEverythingElse) {
    std::vector<std::string> log;
    auto idler = cogent::spawn([&] {
        cogent::idle();
        log.push_back("idle");
    });
    auto busy = spawn_yielders(log, {"a", "b"}, 5, [] { cogent::yield(); });
    auto woken = cogent::spawn([&] {
        cogent::waiter w("woken");
        auto waker = cogent::spawn([&] {
            cogent::yield();
            w.wake();
        });
        w.wait();
        log.push_back("woken");
        waker.join();
    });
    idler.join();
    cogent::joinall(busy);
    woken.join();
    ASSERT_FALSE(log.empty());
    EXPECT_EQ(log.back(), "idle");
    EXPECT_EQ(log.size(), 12u);
}

TEST_F(Scheduling, IdleDoesNotWaitForFutureTimers) {
    auto sleeper = cogent::spawn([] { cogent::sleep(1h); });
    cogent::yield();
    cogent::idle();  // returns although a timer is pending
    EXPECT_FALSE(sleeper.ready());
    sleeper.kill();
}

TEST_F(Scheduling, IdleInMainWithNothingElse) {
    cogent::idle();
    cogent::idle();
    SUCCEED();
}

TEST_F(Scheduling, IdleUnderATimeout) {
    bool stop = false;
    auto spinner = cogent::spawn([&] {
        while (!stop) cogent::yield();
    });
    // Never idle while the spinner spins: the scope ends the wait, leaving no idle waiter behind.
    EXPECT_FALSE(cogent::timeout::run_silently(5ms, [] { cogent::idle(); }));
    stop = true;
    spinner.join();
}

// A greenlet that yielded (so it is on the run queue) and is then switched to by hand must leave
// the run queue: its yield is over, and the queue must not keep a node from its finished frame.
TEST_F(Scheduling, YieldingGreenletSwitchedToByHand) {
    cogent::greenlet main = cogent::greenlet::current();
    int rounds = 0;
    auto t = cogent::spawn([&] {
        for (int i = 0; i < 3; ++i) {
            cogent::yield();
            ++rounds;
        }
    });
    cogent::yield();  // it starts and yields: it is on the run queue
    EXPECT_EQ(rounds, 0);
    cogent::greenlet g = t.thread();
    g.set_parent(main);  // so that its end comes back here
    g.switch_to();
    EXPECT_EQ(rounds, 3);
    EXPECT_TRUE(t.ready());
    EXPECT_TRUE(t.successful());
    for (int i = 0; i < 10; ++i) cogent::yield();  // the run queue is sound
}

TEST_F(Scheduling, YieldAndSleepZeroInTheHubReturn) {
    int done = 0;
    cogent::this_hub().post([&] {
        cogent::yield();
        cogent::sleep(0ms);
        ++done;
    });
    cogent::sleep(5ms);
    EXPECT_EQ(done, 1);
}

TEST_F(Scheduling, SeveralIdlersAllWake) {
    int woken = 0;
    std::vector<cogent::basic_task> tasks;
    for (int i = 0; i < 3; ++i) tasks.push_back(cogent::spawn([&] {
        cogent::idle();
        ++woken;
    }));
    cogent::joinall(tasks);
    EXPECT_EQ(woken, 3);
}

TEST_F(Scheduling, TenThousandTasksSpawnAndFinish) {
    constexpr int n = 10000;
    long sum = 0;
    std::vector<cogent::basic_task> tasks;
    tasks.reserve(n);
    for (int i = 0; i < n; ++i) {
        tasks.push_back(cogent::spawn([&sum, i] {
            cogent::yield();
            sum += i;
        }));
    }
    auto done = cogent::joinall(tasks);
    EXPECT_EQ(done.size(), static_cast<std::size_t>(n));
    EXPECT_EQ(sum, static_cast<long>(n) * (n - 1) / 2);
    for (const auto& t : tasks) ASSERT_TRUE(t.successful());
}

TEST_F(Scheduling, TenThousandSleepersAtOnce) {
    constexpr int n = 10000;
    int woke = 0;
    std::vector<cogent::basic_task> tasks;
    tasks.reserve(n);
    for (int i = 0; i < n; ++i) {
        tasks.push_back(cogent::spawn([&woke, i] {
            cogent::sleep(std::chrono::microseconds(i % 100));
            ++woke;
        }));
    }
    cogent::joinall(tasks);
    EXPECT_EQ(woke, n);
}

// Two greenlets that yield to each other forever must leave room for a third waiting on a timer.
TEST_F(Scheduling, SpinningYieldersDoNotStarveATimer) {
    bool stop = false;
    long spins = 0;
    auto spinner = [&] {
        while (!stop) {
            ++spins;
            cogent::yield();
        }
    };
    auto a = cogent::spawn(spinner);
    auto b = cogent::spawn(spinner);
    auto sleeper = cogent::spawn([&] {
        cogent::sleep(10ms);
        stop = true;
    });
    auto done = cogent::joinall({a, b, sleeper}, 60s);
    EXPECT_EQ(done.size(), 3u);
    EXPECT_TRUE(stop);
    EXPECT_GT(spins, 0);
    if (done.size() != 3u) {
        stop = true;
        cogent::joinall({a, b, sleeper});
    }
}

// The same with a greenlet waiting for a pipe: the hub must still poll.
TEST_F(Scheduling, SpinningYieldersDoNotStarveAPipe) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    bool stop = false;
    auto spinner = [&] {
        while (!stop) cogent::yield();
    };
    auto a = cogent::spawn(spinner);
    auto b = cogent::spawn(spinner);
    auto reader = cogent::spawn([&] {
        cogent::wait_readable(fds[0], 60s);
        char c;
        EXPECT_EQ(read(fds[0], &c, 1), 1);
        stop = true;
    });
    std::thread writer([&] {
        std::this_thread::sleep_for(10ms);
        EXPECT_EQ(write(fds[1], "x", 1), 1);
    });
    auto done = cogent::joinall({a, b, reader}, 60s);
    writer.join();
    EXPECT_EQ(done.size(), 3u);
    if (done.size() != 3u) {
        stop = true;
        reader.kill();
        cogent::joinall({a, b, reader});
    }
    cogent::notify_close(fds[0]);
    close(fds[0]);
    close(fds[1]);
}

// ... and for a job posted from another thread.
TEST_F(Scheduling, SpinningYieldersDoNotStarveAPost) {
    bool stop = false;
    auto spinner = [&] {
        while (!stop) cogent::yield();
    };
    auto a = cogent::spawn(spinner);
    auto b = cogent::spawn(spinner);
    cogent::hub_handle hub = cogent::this_hub();
    std::thread poster([&] {
        std::this_thread::sleep_for(10ms);
        EXPECT_TRUE(hub.post([&] { stop = true; }));
    });
    auto done = cogent::joinall({a, b}, 60s);
    poster.join();
    EXPECT_EQ(done.size(), 2u);
    if (done.size() != 2u) {
        stop = true;
        cogent::joinall({a, b});
    }
}

// Two greenlets handing a baton to each other through waiters, alongside a spinner: none starves.
TEST_F(Scheduling, PingPongThroughWaitersAlongsideASpinner) {
    bool stop = false;
    int pings = 0;
    cogent::wait_list to_ping, to_pong;
    auto ping = cogent::spawn([&] {
        for (int i = 0; i < 1000; ++i) {
            cogent::waiter w("ping");
            to_ping.push_back(w);
            to_pong.wake_one();
            w.wait();
            ++pings;
        }
        stop = true;
        to_pong.wake_all();
    });
    auto pong = cogent::spawn([&] {
        while (!stop) {
            cogent::waiter w("pong");
            to_pong.push_back(w);
            to_ping.wake_one();
            w.wait();
        }
    });
    auto spinner = cogent::spawn([&] {
        while (!stop) cogent::yield();
    });
    auto done = cogent::joinall({ping, pong, spinner}, 60s);
    EXPECT_EQ(done.size(), 3u);
    EXPECT_EQ(pings, 1000);
    if (done.size() != 3u) {
        stop = true;
        cogent::killall({ping, pong, spinner});
    }
}

}  // namespace
