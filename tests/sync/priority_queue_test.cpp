// cogent::priority_queue<T, Compare>: the greatest first under Compare (std::less: the largest,
// as std::priority_queue; std::greater: the smallest, as gevent's PriorityQueue), custom
// comparators with move-only items, bounded waits, and an interrupted getter's item regaining
// its place by priority.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
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

template <class Q>
std::vector<int> drain(Q& q) {
    std::vector<int> got;
    while (!q.empty()) got.push_back(q.get_nowait());
    return got;
}

}  // namespace

TEST(PriorityQueue, LargestFirstByDefault) {
    cogent::priority_queue<int> q;
    for (int v : {3, 9, 1, 7, 5}) q.put(v);
    EXPECT_EQ(q.peek(), 9);
    EXPECT_EQ(drain(q), (std::vector<int>{9, 7, 5, 3, 1}));
}

TEST(PriorityQueue, GreaterGivesTheSmallestFirstAsGevent) {
    cogent::priority_queue<int, std::greater<int>> q;
    for (int v : {3, 9, 1, 7, 5}) q.put(v);
    EXPECT_EQ(drain(q), (std::vector<int>{1, 3, 5, 7, 9}));
}

TEST(PriorityQueue, PairsAsPriorityAndPayload) {
    cogent::priority_queue<std::pair<int, std::string>, std::greater<>> q;
    q.put({2, "later"});
    q.put({1, "first"});
    q.put({3, "last"});
    EXPECT_EQ(q.get().second, "first");
    EXPECT_EQ(q.get().second, "later");
    EXPECT_EQ(q.get().second, "last");
}

TEST(PriorityQueue, CustomComparatorAndMoveOnlyItems) {
    auto by_value = [](const std::unique_ptr<int>& a, const std::unique_ptr<int>& b) { return *a < *b; };
    cogent::priority_queue<std::unique_ptr<int>, decltype(by_value)> q(0, by_value);
    for (int v : {4, 8, 2}) q.put(std::make_unique<int>(v));
    EXPECT_EQ(*q.get(), 8);
    EXPECT_EQ(*q.get(), 4);
    EXPECT_EQ(*q.get(), 2);
}

TEST(PriorityQueue, BoundedPutWaitsAndGetterWaitsForAnItem) {
    cogent::priority_queue<int> q(2);
    q.put(1);
    q.put(2);
    EXPECT_TRUE(q.full());
    EXPECT_THROW(q.put_nowait(3), cogent::queue_full);
    auto putter = cogent::spawn([&] { q.put(10); });
    settle();
    EXPECT_EQ(q.get(), 2);  // room made: 10 goes in
    putter.join();
    EXPECT_EQ(q.get(), 10);
    EXPECT_EQ(q.get(), 1);
    auto getter = cogent::spawn([&] { return q.get(); });
    settle();
    q.put(4);
    EXPECT_EQ(getter.get(), 4);
}

TEST(PriorityQueue, GetterKilledJustAfterAHandOverGivesTheItemBackInItsPlace) {
    cogent::priority_queue<int> q;
    auto getter = cogent::spawn([&] { return q.get(); });
    settle();
    q.put(5);  // handed to the parked getter
    getter.kill(nullptr, false);
    q.put(9);
    q.put(1);
    getter.join();
    EXPECT_TRUE(getter.killed());
    EXPECT_EQ(drain(q), (std::vector<int>{9, 5, 1}));
}

TEST(PriorityQueue, InterruptedWaitersLeaveItConsistent) {
    cogent::priority_queue<int> q(1);
    bool timed_out = false;
    try {
        cogent::timeout limit(5ms);
        q.get();
    } catch (const cogent::timeout_error&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    q.put(3);
    auto putter = cogent::spawn([&] { q.put(4); });
    settle();
    putter.kill();
    EXPECT_EQ(q.putters_waiting(), 0u);
    EXPECT_EQ(drain(q), (std::vector<int>{3}));
}
