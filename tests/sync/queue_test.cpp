// cogent::queue<T>: FIFO order, blocking and hand-over, the nowait and try forms, peek, close,
// move-only items, timeouts, and interrupted waiters (kill, timeout scope) leaving it consistent.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cogent/queue.hpp"
#include "cogent/sleep.hpp"
#include "cogent/task.hpp"
#include "cogent/timeout.hpp"

using namespace std::chrono_literals;

namespace {

// Lets every ready greenlet run a few times: enough for spawned tasks to reach their first park.
void settle() {
    for (int i = 0; i < 5; ++i) cogent::yield();
}

}  // namespace

TEST(Queue, FifoOrderAndSizes) {
    cogent::queue<int> q;
    EXPECT_EQ(q.maxsize(), 0u);
    EXPECT_TRUE(q.empty());
    EXPECT_FALSE(q.full());
    for (int i = 0; i < 5; ++i) q.put(i);
    EXPECT_EQ(q.size(), 5u);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(q.get(), i);
    EXPECT_TRUE(q.empty());
}

TEST(Queue, GetBlocksUntilAPut) {
    cogent::queue<std::string> q;
    auto getter = cogent::spawn([&] { return q.get(); });
    settle();
    EXPECT_FALSE(getter.ready());
    EXPECT_EQ(q.getters_waiting(), 1u);
    q.put("hello");
    EXPECT_EQ(getter.get(), "hello");
    EXPECT_EQ(q.getters_waiting(), 0u);
    EXPECT_TRUE(q.empty());
}

TEST(Queue, ParkedGettersAreServedInOrderWithoutBarging) {
    cogent::queue<int> q;
    std::vector<cogent::task<int>> getters;
    for (int i = 0; i < 3; ++i) getters.push_back(cogent::spawn([&] { return q.get(); }));
    settle();
    q.put(10);
    // The item went to the first parked getter: a get from the running greenlet cannot take it.
    EXPECT_THROW(q.get_nowait(), cogent::queue_empty);
    q.put(11);
    q.put(12);
    EXPECT_EQ(q.size(), 0u);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(getters[i].get(), 10 + i);
}

TEST(Queue, BoundedPutBlocksAndGetMovesTheFirstPutterIn) {
    cogent::queue<int> q(2);
    EXPECT_EQ(q.maxsize(), 2u);
    q.put(1);
    q.put(2);
    EXPECT_TRUE(q.full());
    std::vector<cogent::task<void>> putters;
    for (int v : {3, 4, 5}) putters.push_back(cogent::spawn([&q, v] { q.put(v); }));
    settle();
    EXPECT_EQ(q.putters_waiting(), 3u);
    EXPECT_EQ(q.get(), 1);
    // Room was made: the first putter's item is already in, before anyone else could put.
    EXPECT_EQ(q.size(), 2u);
    EXPECT_THROW(q.put_nowait(99), cogent::queue_full);
    std::vector<int> got;
    for (int i = 0; i < 4; ++i) got.push_back(q.get());
    EXPECT_EQ(got, (std::vector<int>{2, 3, 4, 5}));
    for (auto& p : putters) EXPECT_TRUE(p.join(10s));
}

TEST(Queue, NowaitAndTryForms) {
    cogent::queue<int> q(1);
    EXPECT_THROW(q.get_nowait(), cogent::queue_empty);
    EXPECT_FALSE(q.try_get().has_value());
    q.put_nowait(1);
    EXPECT_THROW(q.put_nowait(2), cogent::queue_full);
    int kept = 2;
    EXPECT_FALSE(q.try_put(kept));
    EXPECT_EQ(kept, 2);
    EXPECT_EQ(q.try_get(), std::optional<int>(1));
    EXPECT_TRUE(q.try_put(kept));
    EXPECT_EQ(q.get_nowait(), 2);
}

TEST(Queue, TimeoutsThrowAndLeaveItConsistent) {
    cogent::queue<int> q(1);
    EXPECT_THROW(q.get(10ms), cogent::queue_empty);
    EXPECT_EQ(q.getters_waiting(), 0u);
    q.put(1);
    EXPECT_THROW(q.put(2, 10ms), cogent::queue_full);
    EXPECT_EQ(q.putters_waiting(), 0u);
    EXPECT_EQ(q.size(), 1u);
    EXPECT_EQ(q.get(), 1);
    // A try form with a timeout waits, and gets what comes in time.
    auto late = cogent::spawn([&] {
        cogent::sleep(5ms);
        q.put(3);
    });
    EXPECT_EQ(q.try_get(10s), std::optional<int>(3));
    late.join();
}

TEST(Queue, PeekShowsTheNextItemWithoutTakingIt) {
    cogent::queue<int> q;
    EXPECT_THROW(q.peek_nowait(), cogent::queue_empty);
    EXPECT_THROW(q.peek(5ms), cogent::queue_empty);
    auto peeker = cogent::spawn([&] { return q.peek(); });
    settle();
    EXPECT_FALSE(peeker.ready());
    q.put(4);
    q.put(5);
    EXPECT_EQ(peeker.get(), 4);
    EXPECT_EQ(q.peek_nowait(), 4);
    EXPECT_EQ(q.size(), 2u);
    EXPECT_EQ(q.get(), 4);
    EXPECT_EQ(q.peek(), 5);
}

TEST(Queue, CloseWakesEveryoneAndGetDrainsWhatIsLeft) {
    cogent::queue<int> q(1);
    q.put(1);
    int putter_outcome = 0;
    auto putter = cogent::spawn([&] {
        try {
            q.put(2);
            putter_outcome = 1;
        } catch (const cogent::queue_closed&) {
            putter_outcome = 2;
        }
    });
    settle();
    q.close();
    q.close();  // twice is harmless
    putter.join();
    EXPECT_EQ(putter_outcome, 2);  // woken, and its item was not delivered
    EXPECT_THROW(q.put(3), cogent::queue_closed);
    EXPECT_THROW(q.put_nowait(3), cogent::queue_closed);
    EXPECT_EQ(q.peek(), 1);
    EXPECT_EQ(q.get(), 1);
    EXPECT_THROW(q.get(), cogent::queue_closed);
    EXPECT_THROW(q.try_get(), cogent::queue_closed);
    EXPECT_THROW(q.peek(), cogent::queue_closed);
}

TEST(Queue, CloseWakesParkedGettersAndPeekers) {
    cogent::queue<int> q;
    int closed_seen = 0;
    auto getter = cogent::spawn([&] {
        try {
            q.get();
        } catch (const cogent::queue_closed&) {
            ++closed_seen;
        }
    });
    auto peeker = cogent::spawn([&] {
        try {
            q.peek();
        } catch (const cogent::queue_closed&) {
            ++closed_seen;
        }
    });
    settle();
    q.close();
    getter.join();
    peeker.join();
    EXPECT_EQ(closed_seen, 2);
}

TEST(Queue, MoveOnlyItems) {
    cogent::queue<std::unique_ptr<int>> q(1);
    q.put(std::make_unique<int>(1));
    auto putter = cogent::spawn([&] { q.put(std::make_unique<int>(2)); });
    settle();
    auto refused = std::make_unique<int>(3);
    EXPECT_FALSE(q.try_put(refused));
    ASSERT_NE(refused, nullptr);  // not moved from
    EXPECT_EQ(*q.peek(), 1);
    EXPECT_EQ(*q.get(), 1);
    EXPECT_EQ(*q.get(), 2);
    putter.join();
    auto getter = cogent::spawn([&] { return *q.get(); });
    settle();
    EXPECT_TRUE(q.try_put(refused));
    EXPECT_EQ(refused, nullptr);
    EXPECT_EQ(getter.get(), 3);
}

TEST(Queue, KilledParkedGetterLeavesNoTrace) {
    cogent::queue<int> q;
    auto getter = cogent::spawn([&] { return q.get(); });
    settle();
    getter.kill();
    EXPECT_TRUE(getter.killed());
    EXPECT_EQ(q.getters_waiting(), 0u);
    q.put(1);
    EXPECT_EQ(q.size(), 1u);
    EXPECT_EQ(q.get(), 1);
}

TEST(Queue, GetterKilledJustAfterAHandOverGivesTheItemBack) {
    cogent::queue<int> q;
    q.put(1);
    q.get();
    auto getter = cogent::spawn([&] { return q.get(); });
    settle();
    // In one go: the item is handed to the parked getter, then the kill lands before it runs.
    q.put(7);
    getter.kill(nullptr, false);
    cogent::yield();
    getter.join();
    EXPECT_TRUE(getter.killed());
    EXPECT_EQ(q.size(), 1u);
    q.put(8);
    EXPECT_EQ(q.get(), 7);  // back at the front, not behind 8
    EXPECT_EQ(q.get(), 8);
}

TEST(Queue, GetterKilledAfterAHandOverPassesTheItemToTheNextGetter) {
    cogent::queue<int> q;
    auto first = cogent::spawn([&] { return q.get(); });
    auto second = cogent::spawn([&] { return q.get(); });
    settle();
    q.put(7);
    first.kill(nullptr, false);
    EXPECT_EQ(second.get(), 7);
    EXPECT_TRUE(first.killed());
    EXPECT_TRUE(q.empty());
}

TEST(Queue, KilledParkedPutterDeliversNothingAndTheNextPutterIsServed) {
    cogent::queue<int> q(1);
    q.put(1);
    auto doomed = cogent::spawn([&] { q.put(2); });
    auto next = cogent::spawn([&] { q.put(3); });
    settle();
    doomed.kill();
    EXPECT_EQ(q.putters_waiting(), 1u);
    EXPECT_EQ(q.get(), 1);
    EXPECT_EQ(q.get(), 3);
    EXPECT_TRUE(q.empty());
    next.join();
}

TEST(Queue, PutterKilledJustAfterItsItemWentInDeliveredItOnce) {
    cogent::queue<int> q(1);
    q.put(1);
    auto putter = cogent::spawn([&] { q.put(2); });
    settle();
    EXPECT_EQ(q.get(), 1);  // moves 2 in and wakes the putter
    putter.kill(nullptr, false);
    putter.join();
    EXPECT_TRUE(putter.killed());
    EXPECT_EQ(q.size(), 1u);
    EXPECT_EQ(q.get(), 2);
    EXPECT_TRUE(q.empty());
}

TEST(Queue, ExpiringTimeoutScopeOnParkedCallsLeavesItConsistent) {
    cogent::queue<int> q(1);
    int timed_out = 0;
    auto getter = cogent::spawn([&] {
        try {
            cogent::timeout limit(5ms);
            q.get();
        } catch (const cogent::timeout_error&) {
            ++timed_out;
        }
    });
    getter.join();
    q.put(1);
    auto putter = cogent::spawn([&] {
        try {
            cogent::timeout limit(5ms);
            q.put(2);
        } catch (const cogent::timeout_error&) {
            ++timed_out;
        }
    });
    putter.join();
    EXPECT_EQ(timed_out, 2);
    EXPECT_EQ(q.getters_waiting() + q.putters_waiting(), 0u);
    EXPECT_EQ(q.size(), 1u);
    EXPECT_EQ(q.get(), 1);
    EXPECT_TRUE(q.empty());
}

TEST(Queue, TimeoutScopeExpiringJustAfterAHandOverGivesTheItemBack) {
    cogent::queue<int> q;
    bool timed_out = false;
    auto getter = cogent::spawn([&] {
        try {
            cogent::timeout limit(50ms);
            q.get();
        } catch (const cogent::timeout_error&) {
            timed_out = true;
        }
    });
    settle();
    ASSERT_EQ(q.getters_waiting(), 1u);
    // Let the scope's deadline pass without letting the hub run: its timer is due, not fired.
    auto due = cogent::clock::now() + 100ms;
    while (cogent::clock::now() < due) {
    }
    // The hub fires due timers between batches of at most a few dozen resumptions, so with many
    // ready tasks queued ahead of the getter the scope fires after the hand-over below and
    // before the getter runs.
    std::vector<cogent::task<void>> ahead;
    for (int i = 0; i < 1000; ++i) ahead.push_back(cogent::spawn([] {}));
    q.put(7);
    ASSERT_EQ(q.size(), 0u);  // handed over
    getter.join();
    EXPECT_TRUE(timed_out);
    EXPECT_EQ(q.size(), 1u);
    EXPECT_EQ(q.get(), 7);
}

TEST(Queue, ManyProducersAndConsumersLoseAndDuplicateNothing) {
    cogent::queue<int> q(3);
    constexpr int producers = 4, consumers = 3, each = 200;
    std::vector<int> seen(producers * each, 0);
    std::vector<cogent::basic_task> tasks;
    for (int p = 0; p < producers; ++p) {
        tasks.push_back(cogent::spawn([&q, p] {
            for (int i = 0; i < each; ++i) {
                q.put(p * each + i);
                if (i % 7 == 0) cogent::yield();
            }
        }));
    }
    for (int c = 0; c < consumers; ++c) {
        tasks.push_back(cogent::spawn([&] {
            try {
                for (;;) ++seen[q.get()];
            } catch (const cogent::queue_closed&) {
            }
        }));
    }
    for (int p = 0; p < producers; ++p) tasks[p].join();
    while (!q.empty()) cogent::yield();
    q.close();
    cogent::joinall(tasks);
    for (int count : seen) EXPECT_EQ(count, 1);
}
