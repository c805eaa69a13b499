#include "cogent/mutex.hpp"

#include <gtest/gtest.h>

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

// A task that locks `m`, records `name` in `order`, and unlocks.
cogent::task<void> locker(cogent::recursive_mutex& m, std::vector<std::string>& order, std::string name) {
    return cogent::spawn([&m, &order, name] {
        std::lock_guard guard(m);
        order.push_back(name);
    });
}

}  // namespace

TEST(RecursiveMutex, LocksRecursively) {
    cogent::recursive_mutex m;
    m.lock();
    EXPECT_TRUE(m.try_lock());
    EXPECT_TRUE(m.try_lock_for(1s));
    EXPECT_EQ(m.count(), 3u);
    EXPECT_EQ(m.owner_id(), cogent::greenlet::current().id());
    bool other_got_it = true;
    cogent::spawn([&] { other_got_it = m.try_lock(); }).join();
    EXPECT_FALSE(other_got_it);
    m.unlock();
    m.unlock();
    EXPECT_EQ(m.count(), 1u);
    EXPECT_TRUE(m.locked());
    m.unlock();
    EXPECT_EQ(m.count(), 0u);
    EXPECT_FALSE(m.locked());
    EXPECT_EQ(m.owner_id(), 0u);
    EXPECT_THROW(m.unlock(), std::logic_error);
}

TEST(RecursiveMutex, TheLastUnlockHandsItToTheFirstWaiter) {
    cogent::recursive_mutex m;
    std::vector<std::string> order;
    {
        std::unique_lock outer(m);
        std::lock_guard inner(m);
        auto a = locker(m, order, "a");
        auto b = locker(m, order, "b");
        settle();
        EXPECT_TRUE(order.empty());
    }
    // Both unlocks done; the queue drains in order.
    EXPECT_TRUE(m.locked());  // handed to `a`
    settle();
    EXPECT_EQ(order, (std::vector<std::string>{"a", "b"}));
    EXPECT_FALSE(m.locked());
}

TEST(RecursiveMutex, UnlockByAGreenletThatDoesNotHoldItThrows) {
    cogent::recursive_mutex m;
    cogent::spawn([&] { m.lock(); }).join();
    EXPECT_THROW(m.unlock(), std::logic_error);
    EXPECT_EQ(m.count(), 1u);
}

TEST(RecursiveMutex, KillRightAfterTheHandoffPassesTheLockOn) {
    cogent::recursive_mutex m;
    std::vector<std::string> order;
    m.lock();
    m.lock();
    auto a = locker(m, order, "a");
    auto b = locker(m, order, "b");
    settle();
    m.unlock();
    m.unlock();
    a.kill(nullptr, false);
    cogent::yield();
    b.join();
    EXPECT_TRUE(a.killed());
    EXPECT_EQ(order, std::vector<std::string>{"b"});
    EXPECT_FALSE(m.locked());
    EXPECT_EQ(m.count(), 0u);
}

TEST(RecursiveMutex, ExpiredTimeoutScopeLeavesItConsistent) {
    cogent::recursive_mutex m;
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
    EXPECT_EQ(m.count(), 1u);
    m.unlock();
    b.join();
    EXPECT_EQ(order, std::vector<std::string>{"b"});
    EXPECT_FALSE(m.locked());
}
