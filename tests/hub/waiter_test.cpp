// The park/wake primitive: waiter and wait_list.
#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "cogent/greenlet.hpp"
#include "cogent/hub.hpp"
#include "cogent/io_wait.hpp"
#include "cogent/sleep.hpp"
#include "cogent/task.hpp"
#include "cogent/timeout.hpp"
#include "cogent/waiter.hpp"
#include "hub/core_test_support.hpp"

using namespace std::chrono_literals;

namespace {

using Waiter = cogent_test::hub_test;

TEST_F(Waiter, WokenReady) {
    cogent::waiter w("test");
    EXPECT_FALSE(w.waiting());
    EXPECT_FALSE(w.woken());
    EXPECT_STREQ(w.what(), "test");
    auto waker = cogent::spawn([&] {
        EXPECT_TRUE(w.waiting());
        EXPECT_EQ(w.greenlet(), cogent::greenlet::current().parent().parent().impl());  // main
        EXPECT_TRUE(w.wake());
    });
    EXPECT_EQ(w.wait(), cogent::wake_reason::ready);
    EXPECT_EQ(w.reason(), cogent::wake_reason::ready);
    EXPECT_TRUE(w.woken());
    EXPECT_FALSE(w.waiting());
    waker.join();
}

TEST_F(Waiter, WokenWithAReason) {
    for (auto reason : {cogent::wake_reason::ready, cogent::wake_reason::closed, cogent::wake_reason::cancelled}) {
        cogent::waiter w;
        auto waker = cogent::spawn([&] { w.wake(reason); });
        EXPECT_EQ(w.wait(), reason) << cogent::to_string(reason);
        waker.join();
    }
}

TEST_F(Waiter, TimedOut) {
    cogent::waiter w;
    auto start = cogent::clock::now();
    EXPECT_EQ(w.wait(5ms), cogent::wake_reason::timed_out);
    EXPECT_GE(cogent::clock::now() - start, 5ms);
    EXPECT_EQ(w.wait_until(cogent::clock::now() + 1ms), cogent::wake_reason::timed_out);
    EXPECT_EQ(w.wait(0ms), cogent::wake_reason::timed_out);
}

TEST_F(Waiter, WakeBeforeTheDeadlineWins) {
    cogent::waiter w;
    auto waker = cogent::spawn([&] { w.wake(); });
    EXPECT_EQ(w.wait(1h), cogent::wake_reason::ready);
    waker.join();
}

TEST_F(Waiter, FirstWakeWins) {
    cogent::waiter w;
    auto waker = cogent::spawn([&] {
        EXPECT_TRUE(w.wake(cogent::wake_reason::closed));
        EXPECT_FALSE(w.wake(cogent::wake_reason::ready));
        EXPECT_FALSE(w.wake(cogent::wake_reason::cancelled));
    });
    EXPECT_EQ(w.wait(1h), cogent::wake_reason::closed);
    waker.join();
}

TEST_F(Waiter, WakeOfAWaiterNobodyWaitsOnDoesNothing) {
    cogent::waiter w;
    EXPECT_FALSE(w.wake());
    EXPECT_FALSE(w.woken());
    // A waiter that has finished waiting cannot be woken again until its next wait.
    EXPECT_EQ(w.wait(1ms), cogent::wake_reason::timed_out);
    EXPECT_FALSE(w.wake());
    EXPECT_EQ(w.reason(), cogent::wake_reason::timed_out);
}

TEST_F(Waiter, CanBeWaitedOnAgain) {
    cogent::waiter w;
    int wakes = 0;
    auto waker = cogent::spawn([&] {
        for (int i = 0; i < 3; ++i) {
            while (!w.waiting()) cogent::yield();
            w.wake();
            ++wakes;
            cogent::yield();
        }
    });
    for (int i = 0; i < 3; ++i) EXPECT_EQ(w.wait(1h), cogent::wake_reason::ready);
    waker.join();
    EXPECT_EQ(wakes, 3);
}

TEST_F(Waiter, CancelledWhenKilled) {
    cogent::wake_reason seen = cogent::wake_reason::none;
    auto t = cogent::spawn([&] {
        cogent::waiter w;
        try {
            w.wait();
        } catch (const cogent::greenlet_exit&) {
            seen = w.reason();
            throw;
        }
    });
    cogent::yield();
    t.kill();
    EXPECT_EQ(seen, cogent::wake_reason::cancelled);
}

TEST_F(Waiter, WaitListDestructorWakesWithClosed) {
    auto list = std::make_unique<cogent::wait_list>();
    std::vector<cogent::wake_reason> reasons;
    std::vector<cogent::basic_task> tasks;
    for (int i = 0; i < 3; ++i) {
        tasks.push_back(cogent::spawn([&] {
            cogent::waiter w;
            list->push_back(w);
            reasons.push_back(w.wait());
            EXPECT_EQ(w.list(), nullptr);
        }));
    }
    cogent::yield();
    EXPECT_EQ(list->size(), 3u);
    list.reset();
    cogent::joinall(tasks);
    EXPECT_EQ(reasons, (std::vector<cogent::wake_reason>(3, cogent::wake_reason::closed)));
}

TEST_F(Waiter, DestroyedWaiterLeavesItsList) {
    cogent::wait_list list;
    {
        cogent::waiter a, b, c;
        list.push_back(a);
        list.push_back(b);
        list.push_back(c);
        EXPECT_EQ(list.size(), 3u);
        EXPECT_EQ(b.list(), &list);
        {
            cogent::waiter d;
            list.push_front(d);
            EXPECT_EQ(list.front(), &d);
            EXPECT_EQ(list.size(), 4u);
        }
        EXPECT_EQ(list.size(), 3u);
        EXPECT_EQ(list.front(), &a);
    }
    EXPECT_TRUE(list.empty());
    EXPECT_EQ(list.size(), 0u);
    EXPECT_EQ(list.front(), nullptr);
}

TEST_F(Waiter, TimedOutWaiterLeavesTheListWhenItGoes) {
    // A waiter that timed out (but is still on the list) is skipped by wake_one.
    cogent::wait_list list;
    std::vector<std::string> log;
    cogent::waiter release("release");
    auto impatient = cogent::spawn([&] {
        cogent::waiter w;
        list.push_back(w);
        EXPECT_EQ(w.wait(1ms), cogent::wake_reason::timed_out);
        log.push_back("impatient timed out");
        release.wait();  // still holding `w`, which is still on the list
    });
    auto patient = cogent::spawn([&] {
        cogent::waiter w;
        list.push_back(w);
        EXPECT_EQ(w.wait(), cogent::wake_reason::ready);
        log.push_back("patient woken");
    });
    while (log.empty()) cogent::sleep(1ms);
    EXPECT_EQ(list.size(), 2u);
    EXPECT_TRUE(list.wake_one());
    patient.join();
    release.wake();
    impatient.join();
    EXPECT_TRUE(list.empty());
    EXPECT_EQ(log, (std::vector<std::string>{"impatient timed out", "patient woken"}));
}

TEST_F(Waiter, WaitListOperations) {
    cogent::wait_list list;
    EXPECT_FALSE(list.wake_one());
    EXPECT_EQ(list.wake_all(), 0u);
    cogent::waiter a, b;
    list.push_back(a);
    list.push_back(b);
    list.push_back(a);  // moves to the back
    EXPECT_EQ(list.size(), 2u);
    EXPECT_EQ(list.front(), &b);
    std::vector<cogent::waiter*> order;
    list.for_each([&](cogent::waiter& w) { order.push_back(&w); });
    EXPECT_EQ(order, (std::vector<cogent::waiter*>{&b, &a}));
    list.remove(b);
    EXPECT_EQ(list.size(), 1u);
    list.remove(b);  // not on it: nothing
    EXPECT_EQ(list.pop_front(), &a);
    EXPECT_EQ(a.list(), nullptr);
    EXPECT_TRUE(list.empty());
    // Waiters that nobody waits on are taken off but not counted as woken.
    list.push_back(a);
    EXPECT_EQ(list.wake_all(), 0u);
    EXPECT_TRUE(list.empty());
}

TEST_F(Waiter, MovingBetweenLists) {
    cogent::wait_list one, two;
    cogent::waiter w;
    one.push_back(w);
    two.push_back(w);
    EXPECT_TRUE(one.empty());
    EXPECT_EQ(two.size(), 1u);
    EXPECT_EQ(w.list(), &two);
}

TEST_F(Waiter, WakeOneWakesInOrder) {
    cogent::wait_list list;
    std::vector<int> log;
    std::vector<cogent::basic_task> tasks;
    for (int i = 0; i < 3; ++i) {
        tasks.push_back(cogent::spawn([&list, &log, i] {
            cogent::waiter w;
            list.push_back(w);
            w.wait();
            log.push_back(i);
        }));
    }
    cogent::yield();
    for (int i = 0; i < 3; ++i) {
        EXPECT_TRUE(list.wake_one());
        cogent::yield();
        EXPECT_EQ(log.size(), static_cast<std::size_t>(i + 1));
    }
    EXPECT_EQ(log, (std::vector<int>{0, 1, 2}));
    cogent::joinall(tasks);
}

TEST_F(Waiter, WakeFromAnotherTaskAfterItBlocked) {
    cogent::waiter w("from a task");
    auto waker = cogent::spawn([&] {
        cogent::sleep(2ms);
        w.wake();
    });
    EXPECT_EQ(w.wait(), cogent::wake_reason::ready);
    waker.join();
}

TEST_F(Waiter, WakeFromAPostedJob) {
    // The job is already queued when main waits: the wait is not hopeless, so no loop_exit.
    cogent::waiter w("from a job");
    cogent::this_hub().post([&] { w.wake(); });
    EXPECT_EQ(w.wait(), cogent::wake_reason::ready);
}

TEST_F(Waiter, PendingErrorIsRaisedInsteadOfParking) {
    // The scope expires while main is switched out by hand (neither parked nor ready), so its
    // error stays pending; main's next wait raises it at once instead of parking.
    cogent::timeout limit(5ms);
    cogent::greenlet away([] { cogent::sleep(30ms); });
    away.switch_to();
    ASSERT_TRUE(limit.expired());
    cogent::waiter w("never parks");
    try {
        w.wait(1h);
        ADD_FAILURE() << "wait returned";
    } catch (const cogent::timeout_error& e) {
        EXPECT_TRUE(limit.raised(e));
    }
    EXPECT_FALSE(w.woken());
    EXPECT_FALSE(w.waiting());
}

TEST_F(Waiter, HubCannotWait) {
    cogent_test::recorded_errors errors;
    bool logic_error = false;
    cogent::this_hub().post([&] {
        cogent::waiter w("in the hub");
        try {
            w.wait(1ms);
        } catch (const std::logic_error&) {
            logic_error = true;
        }
    });
    cogent::sleep(5ms);
    EXPECT_TRUE(logic_error);
}

TEST_F(Waiter, KilledFdWaiterLeavesTheFd) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    auto reader = cogent::spawn([&] { cogent::wait_readable(fds[0]); });
    cogent::yield();
    reader.kill();
    EXPECT_TRUE(reader.killed());
    // Nobody waits on it any more: another greenlet may, and its own wait times out normally.
    std::error_code ec;
    EXPECT_FALSE(cogent::wait_readable(fds[0], 1ms, ec));
    EXPECT_EQ(ec, std::errc::timed_out);
    cogent::notify_close(fds[0]);
    close(fds[0]);
    close(fds[1]);
}

TEST_F(Waiter, TimeoutScopeAroundAnFdWait) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    {
        cogent::timeout limit(2ms);
        EXPECT_THROW(cogent::wait_readable(fds[0]), cogent::timeout_error);
    }
    ASSERT_EQ(write(fds[1], "x", 1), 1);
    cogent::wait_readable(fds[0], 10s);  // the fd is usable afterwards
    cogent::notify_close(fds[0]);
    close(fds[0]);
    close(fds[1]);
}

// A parked greenlet runs again only through its waiter: one switched to by hand gets
// greenlet_error at its wait, and is no longer parked.
TEST_F(Waiter, ParkedGreenletSwitchedToByHandGetsGreenletError) {
    cogent::greenlet main = cogent::greenlet::current();
    std::string message;
    bool still_waiting = true;
    cogent::waiter* parked = nullptr;
    auto t = cogent::spawn([&] {
        cogent::waiter w("by hand");
        parked = &w;
        try {
            w.wait();
        } catch (const cogent::greenlet_error& e) {
            message = e.what();
            still_waiting = w.waiting();
        }
        parked = nullptr;
        main.switch_to();  // back to whoever switched here by hand
    });
    cogent::yield();
    ASSERT_NE(parked, nullptr);
    cogent::greenlet g = t.thread();
    g.switch_to();
    EXPECT_NE(message.find("by hand"), std::string::npos) << message;
    EXPECT_FALSE(still_waiting);
    EXPECT_FALSE(t.ready());
    // Let it finish: it ends into main, not the hub, since main has switched to it by hand.
    g.set_parent(main);
    g.switch_to();
    EXPECT_TRUE(t.ready());
    EXPECT_TRUE(t.successful());
}

}  // namespace
