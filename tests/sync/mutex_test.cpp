#include "cogent/mutex.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "cogent/greenlet.hpp"
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

// A task that locks `m`, records `name` in `order`, and unlocks.
cogent::task<void> locker(cogent::mutex& m, std::vector<std::string>& order, std::string name) {
    return cogent::spawn([&m, &order, name] {
        std::lock_guard guard(m);
        order.push_back(name);
    });
}

}  // namespace

TEST(Mutex, LocksAndUnlocks) {
    cogent::mutex m;
    EXPECT_FALSE(m.locked());
    EXPECT_EQ(m.owner_id(), 0u);
    m.lock();
    EXPECT_TRUE(m.locked());
    EXPECT_TRUE(m.held_by_current());
    EXPECT_EQ(m.owner_id(), cogent::greenlet::current().id());
    bool other_got_it = true;
    bool other_holds = true;
    cogent::spawn([&] {
        other_got_it = m.try_lock();
        other_holds = m.held_by_current();
    }).join();
    EXPECT_FALSE(other_got_it);
    EXPECT_FALSE(other_holds);
    m.unlock();
    EXPECT_FALSE(m.locked());
    EXPECT_FALSE(m.held_by_current());
    EXPECT_TRUE(m.try_lock());
    m.unlock();
}

TEST(Mutex, WorksWithTheStandardLockWrappers) {
    cogent::mutex a;
    cogent::mutex b;
    {
        std::lock_guard guard(a);
        EXPECT_TRUE(a.held_by_current());
    }
    EXPECT_FALSE(a.locked());
    {
        std::scoped_lock both(a, b);
        EXPECT_TRUE(a.held_by_current());
        EXPECT_TRUE(b.held_by_current());
    }
    EXPECT_FALSE(a.locked());
    EXPECT_FALSE(b.locked());
    {
        std::unique_lock lock(a, std::try_to_lock);
        EXPECT_TRUE(lock.owns_lock());
        lock.unlock();
        EXPECT_TRUE(lock.try_lock_for(10ms));
    }
    // Held by another greenlet: the timed forms give up.
    cogent::spawn([&] { a.lock(); }).join();
    {
        std::unique_lock lock(a, 20ms);
        EXPECT_FALSE(lock.owns_lock());
        EXPECT_FALSE(lock.try_lock_until(std::chrono::steady_clock::now() + 10ms));
        EXPECT_FALSE(lock.try_lock_until(std::chrono::system_clock::now() + 10ms));
        EXPECT_FALSE(lock.try_lock());
    }
}

TEST(Mutex, WaitersTakeTheLockInArrivalOrder) {
    cogent::mutex m;
    std::vector<std::string> order;
    m.lock();
    std::vector<cogent::basic_task> tasks;
    for (const char* name : {"a", "b", "c", "d"}) tasks.push_back(locker(m, order, name));
    settle();
    EXPECT_TRUE(order.empty());
    m.unlock();
    cogent::joinall(tasks);
    EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c", "d"}));
    EXPECT_FALSE(m.locked());
}

TEST(Mutex, UnlockHandsTheLockToTheFirstWaiterWithoutBarging) {
    cogent::mutex m;
    std::vector<std::string> order;
    m.lock();
    auto a = locker(m, order, "a");
    settle();
    m.unlock();
    // The lock now belongs to `a`, which has not run yet.
    EXPECT_TRUE(m.locked());
    EXPECT_FALSE(m.try_lock());
    m.lock();  // queues behind `a`
    order.push_back("main");
    m.unlock();
    EXPECT_EQ(order, (std::vector<std::string>{"a", "main"}));
    a.join();
}

TEST(Mutex, LockingTwiceFromTheHolderThrowsInsteadOfHanging) {
    cogent::mutex m;
    m.lock();
    EXPECT_THROW(m.lock(), std::logic_error);
    EXPECT_THROW(m.try_lock_for(1s), std::logic_error);
    EXPECT_FALSE(m.try_lock());
    EXPECT_TRUE(m.held_by_current());
    m.unlock();
    EXPECT_FALSE(m.locked());
}

TEST(Mutex, UnlockByAGreenletThatDoesNotHoldItThrows) {
    cogent::mutex m;
    EXPECT_THROW(m.unlock(), std::logic_error);
    cogent::spawn([&] { m.lock(); }).join();
    try {
        m.unlock();
        ADD_FAILURE() << "no exception";
    } catch (const std::logic_error& e) {
        EXPECT_NE(std::string(e.what()).find("does not hold it"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(m.locked());
    EXPECT_NE(m.owner_id(), cogent::greenlet::current().id());
}

TEST(Mutex, TryLockForTimesOut) {
    cogent::mutex m;
    cogent::spawn([&] { m.lock(); }).join();
    EXPECT_FALSE(m.try_lock_for(20ms));
    EXPECT_FALSE(m.try_lock_for(0ms));
    EXPECT_TRUE(m.locked());
}

TEST(Mutex, KilledWaiterLeavesItConsistent) {
    cogent::mutex m;
    std::vector<std::string> order;
    m.lock();
    auto a = locker(m, order, "a");
    auto b = locker(m, order, "b");
    settle();
    a.kill();
    EXPECT_TRUE(a.killed());
    m.unlock();
    b.join();
    EXPECT_EQ(order, std::vector<std::string>{"b"});
    EXPECT_FALSE(m.locked());
}

TEST(Mutex, KillRightAfterTheHandoffPassesTheLockOn) {
    cogent::mutex m;
    std::vector<std::string> order;
    m.lock();
    auto a = locker(m, order, "a");
    auto b = locker(m, order, "b");
    settle();
    // In one go: ownership goes to `a`, and `a` is killed before it can run.
    m.unlock();
    a.kill(nullptr, false);
    cogent::yield();
    b.join();
    EXPECT_TRUE(a.killed());
    EXPECT_EQ(order, std::vector<std::string>{"b"});
    EXPECT_FALSE(m.locked());
    EXPECT_TRUE(m.try_lock());
    m.unlock();
}

TEST(Mutex, ExpiredTimeoutScopeLeavesItConsistent) {
    cogent::mutex m;
    std::vector<std::string> order;
    bool a_timed_out = false;
    m.lock();
    auto a = cogent::spawn([&] {
        a_timed_out = !cogent::timeout::run_silently(10ms, [&] {
            std::lock_guard guard(m);
            order.push_back("a");
        });
    });
    auto b = locker(m, order, "b");
    a.join();
    EXPECT_TRUE(a_timed_out);
    m.unlock();
    b.join();
    EXPECT_EQ(order, std::vector<std::string>{"b"});
    EXPECT_FALSE(m.locked());
}

TEST(Mutex, ScopeExpiringRightAfterTheHandoffPassesTheLockOn) {
    cogent::mutex m;
    std::vector<std::string> order;
    cogent::clock::time_point a_deadline{};
    bool a_timed_out = false;
    m.lock();
    auto a = cogent::spawn([&] {
        a_deadline = cogent::clock::now() + 50ms;
        a_timed_out = !cogent::timeout::run_silently(50ms, [&] {
            std::lock_guard guard(m);
            order.push_back("a");
        });
    });
    auto b = locker(m, order, "b");
    settle();
    spin_until(a_deadline + 10ms);  // past `a`'s deadline, its timer not yet fired
    queue_crowd();
    m.unlock();  // hands the lock to `a`, whose scope then expires before it runs
    a.join();
    b.join();
    EXPECT_TRUE(a_timed_out);
    EXPECT_EQ(order, std::vector<std::string>{"b"});
    EXPECT_FALSE(m.locked());
}

TEST(Mutex, DestroyedWhileWaitedOnThrowsInTheWaiters) {
    auto m = std::make_unique<cogent::mutex>();
    std::string message;
    m->lock();
    auto a = cogent::spawn([&] {
        try {
            m->lock();
        } catch (const std::logic_error& e) {
            message = e.what();
        }
    });
    settle();
    m.reset();
    a.join();
    EXPECT_NE(message.find("mutex was destroyed"), std::string::npos) << message;
}
