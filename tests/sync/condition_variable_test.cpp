#include "cogent/condition_variable.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "cogent/errors.hpp"
#include "cogent/mutex.hpp"
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

// What a waiter saw: whether it was notified in time, and whether it held the lock while it
// unwound from a kill.
struct outcome {
    bool notified = false;
    bool held_in_handler = false;
};

// A task that waits once (up to 10 s) on `cv`, recording `name` in `order` when woken in time,
// and what it saw in `result`.
cogent::task<void> waiter_task(cogent::condition_variable& cv, cogent::mutex& m, std::vector<std::string>& order,
                               std::string name, outcome& result) {
    return cogent::spawn([&cv, &m, &order, name, &result] {
        std::unique_lock lock(m);
        try {
            result.notified = cv.wait_for(lock, 10s) == std::cv_status::no_timeout;
            if (result.notified) order.push_back(name);
        } catch (const cogent::greenlet_exit&) {
            result.held_in_handler = lock.owns_lock() && m.held_by_current();
            throw;
        }
    });
}

}  // namespace

TEST(ConditionVariable, NotifyOneWakesWaitersInOrder) {
    cogent::condition_variable cv;
    cogent::mutex m;
    std::vector<std::string> order;
    outcome results[3];
    std::vector<cogent::basic_task> tasks;
    for (int i = 0; i < 3; ++i) tasks.push_back(waiter_task(cv, m, order, std::to_string(i), results[i]));
    settle();
    EXPECT_FALSE(m.locked());  // every waiter released it
    cv.notify_one();
    settle();
    EXPECT_EQ(order, std::vector<std::string>{"0"});
    cv.notify_one();
    cv.notify_one();
    cogent::joinall(tasks);
    EXPECT_EQ(order, (std::vector<std::string>{"0", "1", "2"}));
    for (const outcome& r : results) EXPECT_TRUE(r.notified);
}

TEST(ConditionVariable, NotifyAllWakesEveryWaiter) {
    cogent::condition_variable cv;
    cogent::mutex m;
    std::vector<std::string> order;
    outcome results[4];
    std::vector<cogent::basic_task> tasks;
    for (int i = 0; i < 4; ++i) tasks.push_back(waiter_task(cv, m, order, std::to_string(i), results[i]));
    settle();
    cv.notify_all();
    cogent::joinall(tasks);
    EXPECT_EQ(order, (std::vector<std::string>{"0", "1", "2", "3"}));
    cv.notify_all();  // nobody waits: nothing happens
}

TEST(ConditionVariable, PredicateWaitConsumesWhatProducersMake) {
    cogent::condition_variable cv;
    cogent::mutex m;
    std::deque<int> jobs;
    std::vector<int> consumed;
    auto consumer = cogent::spawn([&] {
        for (int n = 0; n < 5; ++n) {
            std::unique_lock lock(m);
            cv.wait(lock, [&] { return !jobs.empty(); });
            EXPECT_TRUE(m.held_by_current());
            consumed.push_back(jobs.front());
            jobs.pop_front();
        }
    });
    for (int i = 0; i < 5; ++i) {
        {
            std::lock_guard guard(m);
            jobs.push_back(i);
        }
        cv.notify_one();
        cogent::sleep(1ms);
    }
    consumer.join();
    EXPECT_EQ(consumed, (std::vector<int>{0, 1, 2, 3, 4}));
    // The timed form sees the change too.
    auto producer = cogent::spawn([&] {
        std::lock_guard guard(m);
        jobs.push_back(5);
        cv.notify_all();
    });
    std::unique_lock lock(m);
    EXPECT_TRUE(cv.wait_for(lock, 10s, [&] { return !jobs.empty(); }));
    EXPECT_TRUE(m.held_by_current());
    lock.unlock();
    producer.join();
}

TEST(ConditionVariable, WaitForTimesOutHoldingTheLock) {
    cogent::condition_variable cv;
    cogent::mutex m;
    std::unique_lock lock(m);
    EXPECT_EQ(cv.wait_for(lock, 20ms), std::cv_status::timeout);
    EXPECT_TRUE(lock.owns_lock() && m.held_by_current());
    EXPECT_FALSE(cv.wait_for(lock, 20ms, [] { return false; }));
    EXPECT_TRUE(cv.wait_for(lock, 20ms, [] { return true; }));
    EXPECT_EQ(cv.wait_until(lock, cogent::clock::now() + 10ms), std::cv_status::timeout);
    EXPECT_TRUE(lock.owns_lock() && m.held_by_current());
    // A zero timeout returns at once, without even yielding, and keeps the lock.
    bool other_ran = false;
    auto other = cogent::spawn([&] { other_ran = true; });
    EXPECT_EQ(cv.wait_for(lock, 0ms), std::cv_status::timeout);
    EXPECT_FALSE(other_ran);
    EXPECT_TRUE(lock.owns_lock() && m.held_by_current());
    lock.unlock();
    other.join();
}

TEST(ConditionVariable, WaitNeedsTheLockHeld) {
    cogent::condition_variable cv;
    cogent::mutex m;
    std::unique_lock lock(m, std::defer_lock);
    EXPECT_THROW(cv.wait(lock), std::logic_error);
    EXPECT_FALSE(m.locked());
}

TEST(ConditionVariable, KilledWaiterTakesTheLockBackBeforeItUnwinds) {
    cogent::condition_variable cv;
    cogent::mutex m;
    std::vector<std::string> order;
    outcome a_result;
    auto a = waiter_task(cv, m, order, "a", a_result);
    settle();
    m.lock();
    a.kill(nullptr, false);
    settle();
    EXPECT_FALSE(a.ready());  // it waits for the mutex main holds
    m.unlock();
    a.join();
    EXPECT_TRUE(a.killed());
    EXPECT_TRUE(a_result.held_in_handler);
    EXPECT_FALSE(m.locked());  // its unique_lock let go while unwinding
}

TEST(ConditionVariable, ExpiredTimeoutScopeTakesTheLockBack) {
    cogent::condition_variable cv;
    cogent::mutex m;
    bool held_in_handler = false;
    auto a = cogent::spawn([&] {
        std::unique_lock lock(m);
        try {
            cogent::timeout limit(10ms);
            cv.wait(lock);
        } catch (const cogent::timeout_error&) {
            held_in_handler = lock.owns_lock() && m.held_by_current();
        }
    });
    a.join();
    EXPECT_TRUE(held_in_handler);
    EXPECT_FALSE(m.locked());
}

TEST(ConditionVariable, NotificationPassesOnWhenItsWaiterIsKilled) {
    cogent::condition_variable cv;
    cogent::mutex m;
    std::vector<std::string> order;
    outcome a_result;
    outcome b_result;
    auto a = waiter_task(cv, m, order, "a", a_result);
    auto b = waiter_task(cv, m, order, "b", b_result);
    settle();
    // In one go: the notification goes to `a`, and `a` is killed before it can run.
    cv.notify_one();
    a.kill(nullptr, false);
    cogent::yield();
    b.join();
    EXPECT_TRUE(a.killed());
    EXPECT_TRUE(a_result.held_in_handler);
    EXPECT_TRUE(b_result.notified);
    EXPECT_EQ(order, std::vector<std::string>{"b"});
    EXPECT_FALSE(m.locked());
}

TEST(ConditionVariable, NotificationPassesOnWhenItsWaitersScopeExpires) {
    cogent::condition_variable cv;
    cogent::mutex m;
    std::vector<std::string> order;
    outcome b_result;
    cogent::clock::time_point a_deadline{};
    bool a_timed_out = false;
    bool a_held_in_handler = false;
    auto a = cogent::spawn([&] {
        std::unique_lock lock(m);
        a_deadline = cogent::clock::now() + 50ms;
        try {
            cogent::timeout limit(50ms);
            cv.wait(lock);
            order.push_back("a");
        } catch (const cogent::timeout_error&) {
            a_timed_out = true;
            a_held_in_handler = lock.owns_lock() && m.held_by_current();
        }
    });
    auto b = waiter_task(cv, m, order, "b", b_result);
    settle();
    spin_until(a_deadline + 10ms);  // past `a`'s deadline, its timer not yet fired
    queue_crowd();
    cv.notify_one();  // goes to `a`, whose scope then expires before it runs
    a.join();
    b.join();
    EXPECT_TRUE(a_timed_out);
    EXPECT_TRUE(a_held_in_handler);
    EXPECT_TRUE(b_result.notified);
    EXPECT_EQ(order, std::vector<std::string>{"b"});
}

TEST(ConditionVariable, SecondExceptionWhileTakingTheLockBackIsRaisedLater) {
    cogent::condition_variable cv;
    cogent::mutex m;
    bool a_timed_out = false;
    bool a_held_in_handler = true;
    auto a = cogent::spawn([&] {
        std::unique_lock lock(m);
        try {
            cogent::timeout limit(10ms);
            cv.wait(lock);
        } catch (const cogent::timeout_error&) {
            a_timed_out = true;
            a_held_in_handler = lock.owns_lock();
        }
        cogent::yield();  // the kill that arrived while it waited for the mutex lands here
        ADD_FAILURE() << "the kill was lost";
    });
    settle();
    m.lock();      // `a` releases it in wait(); main takes it, so `a` cannot get it back
    cogent::sleep(50ms);  // `a`'s scope expires; it now waits for the mutex
    EXPECT_FALSE(a.ready());
    a.kill();      // a second exception while it waits for the mutex
    EXPECT_TRUE(a.killed());
    EXPECT_TRUE(a_timed_out);
    EXPECT_FALSE(a_held_in_handler);  // it gave up the mutex wait, and its unique_lock says so
    EXPECT_TRUE(m.held_by_current());
    m.unlock();
    EXPECT_FALSE(m.locked());
}

TEST(ConditionVariable, DestroyedWhileWaitedOnThrowsAfterTakingTheLockBack) {
    auto cv = std::make_unique<cogent::condition_variable>();
    cogent::mutex m;
    std::string message;
    bool held_in_handler = false;
    auto a = cogent::spawn([&] {
        std::unique_lock lock(m);
        try {
            cv->wait(lock);
        } catch (const std::logic_error& e) {
            message = e.what();
            held_in_handler = lock.owns_lock() && m.held_by_current();
        }
    });
    settle();
    cv.reset();
    a.join();
    EXPECT_NE(message.find("condition_variable was destroyed"), std::string::npos) << message;
    EXPECT_TRUE(held_in_handler);
    EXPECT_FALSE(m.locked());
}

TEST(ConditionVariable, DestroyedAfterNotifyAllLetsWaitersReturnNormally) {
    auto cv = std::make_unique<cogent::condition_variable>();
    cogent::mutex m;
    std::vector<std::string> order;
    outcome results[2];
    auto a = waiter_task(*cv, m, order, "a", results[0]);
    auto b = waiter_task(*cv, m, order, "b", results[1]);
    settle();
    cv->notify_all();
    cv.reset();  // allowed once every waiter has been notified, as with std::condition_variable
    a.join();
    b.join();
    EXPECT_EQ(order, (std::vector<std::string>{"a", "b"}));
    EXPECT_FALSE(m.locked());
}
