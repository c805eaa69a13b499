#include "cogent/semaphore.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cogent/sleep.hpp"
#include "cogent/task.hpp"
#include "cogent/timeout.hpp"

using namespace std::chrono_literals;

namespace {

// Lets every task spawned so far run until it parks (each test's tasks park at once).
void settle() {
    for (int i = 0; i < 3; ++i) cogent::yield();
}

// Spins, without letting the hub run, until `when`: a timer due by then has not fired yet.
void spin_until(cogent::clock::time_point when) {
    while (cogent::clock::now() < when) {
    }
}

// Queues many tasks that do nothing. The hub fires due timers at least every 64 resumptions
// (hub.cpp), so a greenlet woken behind this crowd has its expired timeout scope raised in it
// before it runs: it is woken `ready` and then interrupted, the case primitives must undo.
void queue_crowd() {
    for (int i = 0; i < 256; ++i) cogent::spawn([] {});
}

}  // namespace

TEST(Semaphore, CountsPermits) {
    cogent::semaphore sem(2);
    EXPECT_EQ(sem.value(), 2u);
    EXPECT_FALSE(sem.locked());
    EXPECT_TRUE(sem.acquire());
    EXPECT_TRUE(sem.try_acquire());
    EXPECT_EQ(sem.value(), 0u);
    EXPECT_TRUE(sem.locked());
    EXPECT_FALSE(sem.try_acquire());
    EXPECT_FALSE(sem.acquire(0ms));
    EXPECT_FALSE(sem.acquire(-5ms));
    sem.release(2);
    EXPECT_EQ(sem.value(), 2u);
    sem.release();  // an unbounded semaphore may grow past its initial count
    EXPECT_EQ(sem.value(), 3u);
}

TEST(Semaphore, AcquireTimesOutAndLeavesNothingBehind) {
    cogent::semaphore sem(0);
    EXPECT_FALSE(sem.acquire(20ms));
    EXPECT_EQ(sem.value(), 0u);
    sem.release();
    EXPECT_EQ(sem.value(), 1u);  // no trace of the timed-out waiter took the permit
}

TEST(Semaphore, ReleaseWakesWaitersInArrivalOrder) {
    cogent::semaphore sem(0);
    std::vector<int> order;
    std::vector<cogent::basic_task> tasks;
    for (int i = 0; i < 5; ++i) {
        tasks.push_back(cogent::spawn([&, i] {
            EXPECT_TRUE(sem.acquire(10s));
            order.push_back(i);
        }));
    }
    settle();
    EXPECT_TRUE(order.empty());
    sem.release();
    settle();
    EXPECT_EQ(order, std::vector<int>{0});
    sem.release(4);
    cogent::joinall(tasks);
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
    EXPECT_EQ(sem.value(), 0u);
}

TEST(Semaphore, ReleaseOfSeveralPermitsServesWaitersFirstThenTheCount) {
    cogent::semaphore sem(0);
    int acquired = 0;
    std::vector<cogent::basic_task> tasks;
    for (int i = 0; i < 2; ++i) tasks.push_back(cogent::spawn([&] { acquired += sem.acquire(10s) ? 1 : 0; }));
    settle();
    sem.release(5);
    EXPECT_EQ(sem.value(), 3u);  // two permits went to the waiters
    cogent::joinall(tasks);
    EXPECT_EQ(acquired, 2);
    EXPECT_EQ(sem.value(), 3u);
}

TEST(Semaphore, ReleaseHandsThePermitToTheFirstWaiterWithoutBarging) {
    cogent::semaphore sem(0);
    std::vector<std::string> order;
    auto a = cogent::spawn([&] {
        EXPECT_TRUE(sem.acquire(10s));
        order.push_back("a");
        sem.release();
    });
    settle();
    sem.release();
    // The permit now belongs to `a`, which has not run yet: nobody else can take it.
    EXPECT_EQ(sem.value(), 0u);
    EXPECT_FALSE(sem.try_acquire());
    EXPECT_TRUE(sem.acquire(10s));  // queues behind `a`, gets the permit `a` gives back
    order.push_back("main");
    EXPECT_EQ(order, (std::vector<std::string>{"a", "main"}));
    a.join();
    EXPECT_EQ(sem.value(), 0u);
    sem.release();
    EXPECT_EQ(sem.value(), 1u);
}

TEST(Semaphore, KilledWaiterLeavesItConsistent) {
    cogent::semaphore sem(0);
    std::vector<std::string> order;
    auto a = cogent::spawn([&] {
        sem.acquire();
        order.push_back("a");
    });
    auto b = cogent::spawn([&] {
        EXPECT_TRUE(sem.acquire(10s));
        order.push_back("b");
        sem.release();
    });
    settle();
    a.kill();
    EXPECT_TRUE(a.killed());
    sem.release();
    b.join();
    EXPECT_EQ(order, std::vector<std::string>{"b"});
    EXPECT_EQ(sem.value(), 1u);
}

TEST(Semaphore, KillRightAfterTheHandoffPassesThePermitOn) {
    cogent::semaphore sem(0);
    std::vector<std::string> order;
    auto a = cogent::spawn([&] {
        sem.acquire();
        order.push_back("a");
    });
    auto b = cogent::spawn([&] {
        EXPECT_TRUE(sem.acquire(10s));
        order.push_back("b");
        sem.release();
    });
    settle();
    // In one go: the permit goes to `a`, and `a` is killed before it can run.
    sem.release();
    a.kill(nullptr, false);
    cogent::yield();
    b.join();
    EXPECT_TRUE(a.killed());
    EXPECT_EQ(order, std::vector<std::string>{"b"});
    EXPECT_EQ(sem.value(), 1u);
}

TEST(Semaphore, KillRightAfterTheHandoffWithNobodyElseWaitingReturnsThePermit) {
    cogent::semaphore sem(0);
    auto a = cogent::spawn([&] { sem.acquire(); });
    settle();
    sem.release();
    a.kill();
    EXPECT_TRUE(a.killed());
    EXPECT_EQ(sem.value(), 1u);
}

TEST(Semaphore, ExpiredTimeoutScopeLeavesItConsistent) {
    cogent::semaphore sem(0);
    bool a_timed_out = false;
    bool b_acquired = false;
    auto a = cogent::spawn([&] {
        a_timed_out = !cogent::timeout::run_silently(10ms, [&] { sem.acquire(); });
    });
    auto b = cogent::spawn([&] { b_acquired = sem.acquire(10s); });
    a.join();
    EXPECT_TRUE(a_timed_out);
    EXPECT_EQ(sem.value(), 0u);
    sem.release();
    b.join();
    EXPECT_TRUE(b_acquired);
    EXPECT_EQ(sem.value(), 0u);
}

TEST(Semaphore, ScopeExpiringRightAfterTheHandoffPassesThePermitOn) {
    cogent::semaphore sem(0);
    cogent::clock::time_point a_deadline{};
    bool a_acquired = false;
    bool a_timed_out = false;
    bool b_acquired = false;
    auto a = cogent::spawn([&] {
        a_deadline = cogent::clock::now() + 50ms;
        a_timed_out = !cogent::timeout::run_silently(50ms, [&] { a_acquired = sem.acquire(); });
    });
    auto b = cogent::spawn([&] { b_acquired = sem.acquire(10s); });
    settle();
    // `a`'s scope is past its deadline but its timer has not fired: the hub has not run.
    spin_until(a_deadline + 10ms);
    queue_crowd();
    sem.release();  // hands the permit to `a`, whose scope then expires before it runs
    a.join();
    b.join();
    EXPECT_TRUE(a_timed_out);
    EXPECT_FALSE(a_acquired);
    EXPECT_TRUE(b_acquired);
    EXPECT_EQ(sem.value(), 0u);
}

TEST(Semaphore, DestroyedWhileWaitedOnThrowsInTheWaiters) {
    auto sem = std::make_unique<cogent::semaphore>(0);
    std::string message;
    auto a = cogent::spawn([&] {
        try {
            sem->acquire();
        } catch (const std::logic_error& e) {
            message = e.what();
        }
    });
    settle();
    sem.reset();
    a.join();
    EXPECT_NE(message.find("semaphore was destroyed"), std::string::npos) << message;
}

TEST(Semaphore, DestroyedAfterTheHandoffThrowsInTheWaiter) {
    auto sem = std::make_unique<cogent::semaphore>(0);
    std::string message;
    auto a = cogent::spawn([&] {
        try {
            sem->acquire();
        } catch (const std::logic_error& e) {
            message = e.what();
        }
    });
    settle();
    sem->release();
    sem.reset();  // before `a` has run to take its permit
    a.join();
    EXPECT_NE(message.find("semaphore was destroyed"), std::string::npos) << message;
}

TEST(BoundedSemaphore, RefusesToReleaseMoreThanWasTaken) {
    cogent::bounded_semaphore sem(2);
    EXPECT_EQ(sem.initial(), 2u);
    EXPECT_THROW(sem.release(), std::logic_error);
    EXPECT_EQ(sem.value(), 2u);
    EXPECT_TRUE(sem.acquire());
    EXPECT_TRUE(sem.acquire());
    EXPECT_THROW(sem.release(3), std::logic_error);
    EXPECT_EQ(sem.value(), 0u);
    sem.release(2);
    EXPECT_EQ(sem.value(), 2u);
    try {
        sem.release();
        ADD_FAILURE() << "no exception";
    } catch (const std::logic_error& e) {
        EXPECT_NE(std::string(e.what()).find("released too many times"), std::string::npos) << e.what();
    }
}

TEST(BoundedSemaphore, HandsPermitsToWaitersInOrder) {
    cogent::bounded_semaphore sem(1);
    std::vector<int> order;
    EXPECT_TRUE(sem.acquire());
    std::vector<cogent::basic_task> tasks;
    for (int i = 0; i < 3; ++i) {
        tasks.push_back(cogent::spawn([&, i] {
            EXPECT_TRUE(sem.acquire(10s));
            order.push_back(i);
            cogent::yield();
            sem.release();
        }));
    }
    settle();
    sem.release();
    cogent::joinall(tasks);
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(sem.value(), 1u);
}
