// cogent::channel<T>: the rendezvous (put waits for a getter, get for a putter), order on both
// sides, balance, the try forms, timeouts, close, move-only items, and interrupted waiters.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cogent/channel.hpp"
#include "cogent/sleep.hpp"
#include "cogent/task.hpp"
#include "cogent/timeout.hpp"

using namespace std::chrono_literals;

namespace {

void settle() {
    for (int i = 0; i < 5; ++i) cogent::yield();
}

}  // namespace

TEST(Channel, PutWaitsUntilAGetterTakesTheItem) {
    cogent::channel<std::string> ch;
    bool delivered = false;
    auto putter = cogent::spawn([&] {
        ch.put("ping");
        delivered = true;
    });
    settle();
    EXPECT_FALSE(delivered);
    EXPECT_EQ(ch.balance(), 1);
    EXPECT_EQ(ch.get(), "ping");
    putter.join();
    EXPECT_TRUE(delivered);
    EXPECT_EQ(ch.balance(), 0);
}

TEST(Channel, GetWaitsUntilAPutterComes) {
    cogent::channel<int> ch;
    auto getter = cogent::spawn([&] { return ch.get(); });
    settle();
    EXPECT_EQ(ch.balance(), -1);
    ch.put(5);  // a getter waits: put returns at once
    EXPECT_EQ(ch.balance(), 0);
    EXPECT_EQ(getter.get(), 5);
}

TEST(Channel, BothSidesAreServedInOrder) {
    cogent::channel<int> ch;
    std::vector<cogent::task<void>> putters;
    for (int i = 0; i < 3; ++i) putters.push_back(cogent::spawn([&ch, i] { ch.put(i); }));
    settle();
    EXPECT_EQ(ch.putters_waiting(), 3u);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(ch.get(), i);
    std::vector<cogent::task<int>> getters;
    for (int i = 0; i < 3; ++i) getters.push_back(cogent::spawn([&] { return ch.get(); }));
    settle();
    EXPECT_EQ(ch.getters_waiting(), 3u);
    for (int i = 0; i < 3; ++i) ch.put(10 + i);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(getters[i].get(), 10 + i);
}

TEST(Channel, TryFormsNeverWaitByDefault) {
    cogent::channel<std::unique_ptr<int>> ch;
    auto item = std::make_unique<int>(1);
    EXPECT_FALSE(ch.try_put(item));
    ASSERT_NE(item, nullptr);
    EXPECT_FALSE(ch.try_get().has_value());
    auto getter = cogent::spawn([&] { return *ch.get(); });
    settle();
    EXPECT_TRUE(ch.try_put(item));
    EXPECT_EQ(item, nullptr);
    EXPECT_EQ(getter.get(), 1);
}

TEST(Channel, TimeoutsDeliverNothing) {
    cogent::channel<int> ch;
    EXPECT_THROW(ch.put(1, 5ms), cogent::queue_full);
    EXPECT_EQ(ch.balance(), 0);
    EXPECT_THROW(ch.get(5ms), cogent::queue_empty);  // the timed-out item is not there
    int kept = 2;
    EXPECT_FALSE(ch.try_put(kept, 5ms));
    EXPECT_EQ(kept, 2);
    auto late = cogent::spawn([&] {
        cogent::sleep(5ms);
        ch.put(3);
    });
    EXPECT_EQ(ch.try_get(10s), std::optional<int>(3));
    late.join();
}

TEST(Channel, CloseWakesBothSidesAndRefusesLaterCalls) {
    cogent::channel<int> ch;
    int closed_seen = 0;
    auto on_closed = [&](auto call) {
        return [&closed_seen, call, &ch] {
            try {
                call(ch);
            } catch (const cogent::queue_closed&) {
                ++closed_seen;
            }
        };
    };
    auto putter = cogent::spawn(on_closed([](cogent::channel<int>& c) { c.put(1); }));
    settle();
    ch.close();
    putter.join();
    auto getter = cogent::spawn(on_closed([](cogent::channel<int>& c) { c.get(); }));
    getter.join();
    EXPECT_EQ(closed_seen, 2);
    EXPECT_TRUE(ch.closed());
    EXPECT_THROW(ch.put(2), cogent::queue_closed);
    EXPECT_THROW(ch.get(), cogent::queue_closed);
    cogent::channel<int> other;
    auto parked_getter = cogent::spawn([&] {
        try {
            other.get();
        } catch (const cogent::queue_closed&) {
            ++closed_seen;
        }
    });
    settle();
    other.close();
    parked_getter.join();
    EXPECT_EQ(closed_seen, 3);
}

TEST(Channel, KilledParkedPutterDeliversNothing) {
    cogent::channel<int> ch;
    auto putter = cogent::spawn([&] { ch.put(1); });
    settle();
    putter.kill();
    EXPECT_EQ(ch.balance(), 0);
    EXPECT_FALSE(ch.try_get().has_value());
}

TEST(Channel, KilledParkedGetterTakesNothing) {
    cogent::channel<int> ch;
    auto getter = cogent::spawn([&] { return ch.get(); });
    settle();
    getter.kill();
    EXPECT_EQ(ch.balance(), 0);
    int item = 1;
    EXPECT_FALSE(ch.try_put(item));
}

TEST(Channel, GetterKilledJustAfterAHandOverLeavesTheItemForTheNextGet) {
    cogent::channel<int> ch;
    auto getter = cogent::spawn([&] { return ch.get(); });
    settle();
    ch.put(7);  // returns: the getter has the item
    getter.kill(nullptr, false);
    getter.join();
    EXPECT_TRUE(getter.killed());
    EXPECT_EQ(ch.balance(), 1);  // kept for the next get
    EXPECT_EQ(ch.get(0s), 7);
    EXPECT_EQ(ch.balance(), 0);
}

TEST(Channel, GetterKilledJustAfterAHandOverPassesTheItemToTheNextGetter) {
    cogent::channel<int> ch;
    auto first = cogent::spawn([&] { return ch.get(); });
    auto second = cogent::spawn([&] { return ch.get(); });
    settle();
    ch.put(7);
    first.kill(nullptr, false);
    EXPECT_EQ(second.get(), 7);
    EXPECT_EQ(ch.balance(), 0);
}

TEST(Channel, PutterKilledJustAfterAGetterTookItsItemDeliveredItOnce) {
    cogent::channel<int> ch;
    auto putter = cogent::spawn([&] { ch.put(1); });
    settle();
    EXPECT_EQ(ch.get(), 1);
    putter.kill(nullptr, false);
    putter.join();
    EXPECT_TRUE(putter.killed());
    EXPECT_EQ(ch.balance(), 0);
    EXPECT_FALSE(ch.try_get().has_value());
}

TEST(Channel, ExpiringTimeoutScopesLeaveItConsistent) {
    cogent::channel<int> ch;
    int timed_out = 0;
    for (bool putting : {true, false}) {
        try {
            cogent::timeout limit(5ms);
            if (putting) {
                ch.put(1);
            } else {
                ch.get();
            }
        } catch (const cogent::timeout_error&) {
            ++timed_out;
        }
    }
    EXPECT_EQ(timed_out, 2);
    EXPECT_EQ(ch.balance(), 0);
    auto getter = cogent::spawn([&] { return ch.get(); });
    settle();
    ch.put(2);
    EXPECT_EQ(getter.get(), 2);
}
