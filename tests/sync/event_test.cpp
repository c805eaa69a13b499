#include "cogent/event.hpp"

#include <gtest/gtest.h>

#include <memory>
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

// A task that waits on `e` (up to 10 s) and stores what wait() returned in `result`.
cogent::task<void> waiting_for(cogent::event& e, int& result) {
    result = -1;
    return cogent::spawn([&e, &result] { result = e.wait(10s) ? 1 : 0; });
}

}  // namespace

TEST(Event, WaitOnASetEventReturnsAtOnce) {
    cogent::event e;
    EXPECT_FALSE(e.is_set());
    e.set();
    EXPECT_TRUE(e.is_set());
    bool other_ran = false;
    auto other = cogent::spawn([&] { other_ran = true; });
    EXPECT_TRUE(e.wait());
    EXPECT_TRUE(e.wait(0ms));
    EXPECT_FALSE(other_ran);  // it did not even yield
    other.join();
    e.clear();
    EXPECT_FALSE(e.is_set());
}

TEST(Event, SetWakesEveryWaiter) {
    cogent::event e;
    int results[3];
    std::vector<cogent::basic_task> tasks;
    for (int& r : results) tasks.push_back(waiting_for(e, r));
    settle();
    for (int r : results) EXPECT_EQ(r, -1);
    e.set();
    cogent::joinall(tasks);
    for (int r : results) EXPECT_EQ(r, 1);
}

TEST(Event, WaitTimesOut) {
    cogent::event e;
    EXPECT_FALSE(e.wait(20ms));
    EXPECT_FALSE(e.wait(0ms));
    EXPECT_FALSE(e.wait(-1ms));
    EXPECT_FALSE(e.is_set());
}

TEST(Event, WaitersWokenBySetReturnTrueEvenIfClearedBeforeTheyRun) {
    cogent::event e;
    int result;
    auto t = waiting_for(e, result);
    settle();
    e.set();
    e.clear();
    t.join();
    EXPECT_EQ(result, 1);
    EXPECT_FALSE(e.is_set());
}

TEST(Event, KilledWaiterLeavesItConsistent) {
    cogent::event e;
    int a_result;
    int b_result;
    auto a = waiting_for(e, a_result);
    auto b = waiting_for(e, b_result);
    settle();
    a.kill();
    EXPECT_TRUE(a.killed());
    e.set();
    b.join();
    EXPECT_EQ(b_result, 1);
    EXPECT_TRUE(e.is_set());
}

TEST(Event, KillRightAfterSetLeavesItConsistent) {
    cogent::event e;
    int a_result;
    int b_result;
    auto a = waiting_for(e, a_result);
    auto b = waiting_for(e, b_result);
    settle();
    e.set();
    a.kill(nullptr, false);
    cogent::yield();
    b.join();
    a.join();
    EXPECT_TRUE(a.killed());
    EXPECT_EQ(a_result, -1);
    EXPECT_EQ(b_result, 1);
    EXPECT_TRUE(e.is_set());
}

TEST(Event, ExpiredTimeoutScopeLeavesItConsistent) {
    cogent::event e;
    bool a_timed_out = false;
    int b_result;
    auto a = cogent::spawn([&] { a_timed_out = !cogent::timeout::run_silently(10ms, [&] { e.wait(); }); });
    auto b = waiting_for(e, b_result);
    a.join();
    EXPECT_TRUE(a_timed_out);
    EXPECT_FALSE(e.is_set());
    e.set();
    b.join();
    EXPECT_EQ(b_result, 1);
}

TEST(Event, DestroyedWhileWaitedOnMakesWaitReturnFalse) {
    auto e = std::make_unique<cogent::event>();
    int result;
    auto t = waiting_for(*e, result);
    settle();
    e.reset();
    t.join();
    EXPECT_EQ(result, 0);
}

TEST(Event, SetFromAnotherTaskLater) {
    cogent::event e;
    auto setter = cogent::spawn([&] {
        cogent::sleep(5ms);
        e.set();
    });
    EXPECT_TRUE(e.wait(10s));
    setter.join();
}
