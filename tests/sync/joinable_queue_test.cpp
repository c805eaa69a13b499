// cogent::joinable_queue<T>: counting unfinished work, task_done misuse, join with and without a
// deadline, and interrupted waiters (getters, putters, joiners) keeping the count right.
#include <gtest/gtest.h>

#include <stdexcept>
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

TEST(JoinableQueue, CountsUnfinishedWork) {
    cogent::joinable_queue<int> q;
    EXPECT_TRUE(q.join(0s));
    q.put(1);
    q.put(2);
    EXPECT_EQ(q.unfinished(), 2u);
    q.get();
    EXPECT_EQ(q.unfinished(), 2u);  // taken is not done
    q.task_done();
    EXPECT_EQ(q.unfinished(), 1u);
    EXPECT_FALSE(q.join(0s));
    EXPECT_FALSE(q.join(5ms));
    q.get();
    q.task_done();
    EXPECT_TRUE(q.join(0s));
}

TEST(JoinableQueue, TaskDoneMoreThanPutIsALogicError) {
    cogent::joinable_queue<int> q;
    EXPECT_THROW(q.task_done(), std::logic_error);
    q.put(1);
    q.task_done();
    EXPECT_THROW(q.task_done(), std::logic_error);
    EXPECT_EQ(q.unfinished(), 0u);
}

TEST(JoinableQueue, JoinWaitsForWorkers) {
    cogent::joinable_queue<int> q(2);
    std::vector<int> handled;
    std::vector<cogent::basic_task> workers;
    for (int w = 0; w < 2; ++w) {
        workers.push_back(cogent::spawn([&] {
            for (;;) {
                int item = q.get();
                cogent::sleep(1ms);
                handled.push_back(item);
                q.task_done();
            }
        }));
    }
    for (int i = 0; i < 10; ++i) q.put(i);
    EXPECT_TRUE(q.join(10s));
    EXPECT_EQ(handled.size(), 10u);
    EXPECT_EQ(q.unfinished(), 0u);
    cogent::killall(workers);
}

TEST(JoinableQueue, ItemsHandedToParkedGettersCount) {
    cogent::joinable_queue<int> q;
    auto getter = cogent::spawn([&] { return q.get(); });
    settle();
    q.put(1);
    EXPECT_EQ(q.unfinished(), 1u);
    EXPECT_EQ(getter.get(), 1);
    q.task_done();
    EXPECT_TRUE(q.join(0s));
}

TEST(JoinableQueue, GetterKilledAfterAHandOverDoesNotCountTheItemTwice) {
    cogent::joinable_queue<int> q;
    auto getter = cogent::spawn([&] { return q.get(); });
    settle();
    q.put(1);
    getter.kill(nullptr, false);
    getter.join();
    EXPECT_EQ(q.size(), 1u);
    EXPECT_EQ(q.unfinished(), 1u);
    EXPECT_EQ(q.get(), 1);
    q.task_done();
    EXPECT_TRUE(q.join(0s));
}

TEST(JoinableQueue, PutterInterruptedWhileParkedAddsNoWork) {
    cogent::joinable_queue<int> q(1);
    q.put(1);
    auto killed = cogent::spawn([&] { q.put(2); });
    settle();
    killed.kill();
    bool timed_out = false;
    try {
        cogent::timeout limit(5ms);
        q.put(3);
    } catch (const cogent::timeout_error&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_EQ(q.unfinished(), 1u);
    q.get();
    q.task_done();
    EXPECT_TRUE(q.join(0s));
}

TEST(JoinableQueue, InterruptedJoinersLeaveItUsable) {
    cogent::joinable_queue<int> q;
    q.put(1);
    auto joiner = cogent::spawn([&] { return q.join(); });
    auto patient = cogent::spawn([&] { return q.join(); });
    settle();
    joiner.kill();
    bool timed_out = false;
    try {
        cogent::timeout limit(5ms);
        q.join();
    } catch (const cogent::timeout_error&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    q.get();
    q.task_done();
    EXPECT_TRUE(patient.get());
}
