// cogent::lifo_queue<T>: last in, first out, through the shared queue core: order, peek at the
// top, bounded waits, and an interrupted getter's item going back on top.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "cogent/queue.hpp"
#include "cogent/sleep.hpp"
#include "cogent/task.hpp"
#include "cogent/timeout.hpp"

using namespace std::chrono_literals;

namespace {

void settle() {
    for (int i = 0; i < 5; ++i) cogent::yield();
}

}  // namespace

TEST(LifoQueue, LastInFirstOut) {
    cogent::lifo_queue<int> q;
    for (int i = 0; i < 4; ++i) q.put(i);
    EXPECT_EQ(q.peek_nowait(), 3);
    std::vector<int> got;
    while (!q.empty()) got.push_back(q.get_nowait());
    EXPECT_EQ(got, (std::vector<int>{3, 2, 1, 0}));
    EXPECT_THROW(q.get_nowait(), cogent::queue_empty);
}

TEST(LifoQueue, ParkedGettersServedInOrder) {
    cogent::lifo_queue<int> q;
    auto first = cogent::spawn([&] { return q.get(); });
    auto second = cogent::spawn([&] { return q.get(); });
    settle();
    q.put(1);
    q.put(2);
    EXPECT_EQ(first.get(), 1);
    EXPECT_EQ(second.get(), 2);
}

TEST(LifoQueue, BoundedPutWaitsAndTheWaitingItemGoesOnTop) {
    cogent::lifo_queue<int> q(2);
    q.put(1);
    q.put(2);
    EXPECT_THROW(q.put(9, 5ms), cogent::queue_full);
    auto putter = cogent::spawn([&] { q.put(3); });
    settle();
    EXPECT_EQ(q.get(), 2);  // makes room: 3 goes in, on top of 1
    putter.join();
    EXPECT_EQ(q.get(), 3);
    EXPECT_EQ(q.get(), 1);
}

TEST(LifoQueue, MoveOnlyItems) {
    cogent::lifo_queue<std::unique_ptr<int>> q;
    q.put(std::make_unique<int>(1));
    q.put(std::make_unique<int>(2));
    EXPECT_EQ(*q.get(), 2);
    EXPECT_EQ(*q.get(), 1);
}

TEST(LifoQueue, GetterKilledJustAfterAHandOverPutsTheItemBackOnTop) {
    cogent::lifo_queue<int> q;
    auto getter = cogent::spawn([&] { return q.get(); });
    settle();
    q.put(7);  // handed to the parked getter
    getter.kill(nullptr, false);
    cogent::yield();
    getter.join();
    EXPECT_TRUE(getter.killed());
    ASSERT_EQ(q.size(), 1u);
    q.put(8);
    EXPECT_EQ(q.get(), 8);
    EXPECT_EQ(q.get(), 7);
}

TEST(LifoQueue, InterruptedWaitersLeaveItConsistent) {
    cogent::lifo_queue<int> q(1);
    auto getter = cogent::spawn([&] { return q.get(); });
    settle();
    getter.kill();
    bool timed_out = false;
    q.put(1);
    try {
        cogent::timeout limit(5ms);
        q.put(2);
    } catch (const cogent::timeout_error&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_EQ(q.getters_waiting() + q.putters_waiting(), 0u);
    EXPECT_EQ(q.size(), 1u);
    EXPECT_EQ(q.get(), 1);
}

TEST(LifoQueue, CloseDrainsThenRefuses) {
    cogent::lifo_queue<int> q;
    q.put(1);
    q.put(2);
    q.close();
    EXPECT_THROW(q.put(3), cogent::queue_closed);
    EXPECT_EQ(q.get(), 2);
    EXPECT_EQ(q.get(), 1);
    EXPECT_THROW(q.get(), cogent::queue_closed);
}
