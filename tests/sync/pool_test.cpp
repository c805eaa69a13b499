// cogent::pool: the limit on members running at once, spawn waiting while full, places going to
// waiting spawners in order, the forms with a deadline, map and imap_unordered within the
// limit, and interrupted spawners leaving the count of places right.
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "cogent/channel.hpp"
#include "cogent/pool.hpp"
#include "cogent/sleep.hpp"
#include "cogent/task.hpp"
#include "cogent/timeout.hpp"

using namespace std::chrono_literals;

namespace {

void settle() {
    for (int i = 0; i < 5; ++i) cogent::yield();
}

// Counts how many calls run at once.
struct concurrency {
    int running = 0;
    int most = 0;
    void enter() { most = std::max(most, ++running); }
    void leave() { --running; }
};

}  // namespace

TEST(Pool, SizeMustBePositive) { EXPECT_THROW(cogent::pool(0), std::invalid_argument); }

TEST(Pool, AtMostSizeRunAtOnceAndSpawnWaitsWhileFull) {
    cogent::pool p(3);
    EXPECT_EQ(p.capacity(), 3u);
    concurrency c;
    std::vector<cogent::basic_task> tasks;
    for (int i = 0; i < 10; ++i) {
        tasks.push_back(p.spawn([&] {
            c.enter();
            cogent::sleep(1ms);
            cogent::yield();
            c.leave();
        }));
        EXPECT_LE(p.size(), 3u);
    }
    EXPECT_TRUE(p.join(10s));
    EXPECT_EQ(c.most, 3);
    EXPECT_EQ(p.free_count(), 3u);
    for (auto& t : tasks) EXPECT_TRUE(t.successful());
}

TEST(Pool, SpawnBlocksUntilAMemberFinishes) {
    cogent::pool p(1);
    cogent::channel<int> release;
    p.spawn([&] { release.get(); });
    EXPECT_TRUE(p.full());
    EXPECT_EQ(p.free_count(), 0u);
    auto spawner = cogent::spawn([&] { p.spawn([] {}); });
    settle();
    EXPECT_FALSE(spawner.ready());
    release.put(1);
    EXPECT_TRUE(spawner.join(10s));
    EXPECT_TRUE(p.join(10s));
    EXPECT_EQ(p.free_count(), 1u);
}

TEST(Pool, FreedPlacesGoToWaitingSpawnersInOrder) {
    cogent::pool p(1);
    cogent::channel<int> release;
    p.spawn([&] { release.get(); });
    std::vector<int> order;
    std::vector<cogent::basic_task> spawners;
    for (int i = 0; i < 3; ++i) {
        spawners.push_back(cogent::spawn([&, i] { p.spawn([&, i] { order.push_back(i); }); }));
    }
    settle();
    release.put(1);
    // The freed place was handed to the first spawner: nobody arriving now can take it.
    EXPECT_FALSE(p.has_free_slot());
    EXPECT_FALSE(p.try_spawn(0s, [] {}).has_value());
    cogent::joinall(spawners);
    EXPECT_TRUE(p.join(10s));
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(p.free_count(), 1u);
}

TEST(Pool, WaitAvailableAndTrySpawnTakeADeadline) {
    cogent::pool p(1);
    cogent::channel<int> release;
    p.spawn([&] { release.get(); });
    EXPECT_FALSE(p.wait_available(0s));
    EXPECT_FALSE(p.wait_available(5ms));
    EXPECT_FALSE(p.try_spawn(5ms, [] {}).has_value());
    EXPECT_EQ(p.size(), 1u);
    auto releaser = cogent::spawn([&] { release.put(1); });
    EXPECT_TRUE(p.wait_available(10s));
    EXPECT_EQ(p.free_count(), 1u);
    auto t = p.try_spawn(0s, [] { return 5; });
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->get(), 5);
    releaser.join();
}

TEST(Pool, AddWaitsForAPlace) {
    cogent::pool p(1);
    cogent::channel<int> release;
    p.spawn([&] { release.get(); });
    auto outsider = cogent::spawn([&] { release.get(); });
    auto adder = cogent::spawn([&] { p.add(outsider); });
    settle();
    EXPECT_FALSE(adder.ready());
    release.put(1);  // to the first getter: the pool's member
    adder.join();
    EXPECT_TRUE(p.contains(outsider));
    EXPECT_EQ(p.free_count(), 0u);
    release.put(2);
    EXPECT_TRUE(p.join(10s));
    EXPECT_EQ(p.free_count(), 1u);
}

TEST(Pool, MapAndImapUnorderedStayWithinTheSize) {
    cogent::pool p(2);
    concurrency c;
    auto call = [&](int x) {
        c.enter();
        cogent::sleep(1ms);
        c.leave();
        return x * x;
    };
    EXPECT_EQ(p.map(call, std::vector<int>{1, 2, 3, 4, 5, 6}), (std::vector<int>{1, 4, 9, 16, 25, 36}));
    EXPECT_EQ(c.most, 2);
    c.most = 0;
    int sum = 0;
    for (int v : p.imap_unordered(call, std::vector<int>{1, 2, 3, 4, 5})) sum += v;
    EXPECT_EQ(sum, 55);
    EXPECT_EQ(c.most, 2);
    EXPECT_EQ(p.free_count(), 2u);
}

TEST(Pool, KilledWaitingSpawnerTakesNoPlace) {
    cogent::pool p(1);
    cogent::channel<int> release;
    p.spawn([&] { release.get(); });
    auto spawner = cogent::spawn([&] { p.spawn([] {}); });
    settle();
    spawner.kill();
    EXPECT_TRUE(spawner.killed());
    release.put(1);
    EXPECT_TRUE(p.join(10s));
    EXPECT_EQ(p.free_count(), 1u);
    EXPECT_TRUE(p.try_spawn(0s, [] {}).has_value());
}

TEST(Pool, SpawnerKilledJustAfterBeingHandedAPlacePassesItOn) {
    cogent::pool p(1);
    cogent::channel<int> release;
    auto holder = p.spawn([&] { release.get(); });
    bool second_spawned = false;
    auto first = cogent::spawn([&] { p.spawn([] {}); });
    auto second = cogent::spawn([&] {
        p.spawn([] {});
        second_spawned = true;
    });
    settle();
    // In one go: the place is handed to the first spawner, then the kill lands before it runs.
    p.discard(holder);
    ASSERT_FALSE(p.has_free_slot());  // handed to the first spawner
    first.kill(nullptr, false);
    first.join();
    second.join();
    EXPECT_TRUE(first.killed());
    EXPECT_TRUE(second_spawned);
    EXPECT_TRUE(p.join(10s));
    EXPECT_EQ(p.free_count(), 1u);
    release.put(1);
    holder.join();
}

TEST(Pool, SpawnerUnderAnExpiringTimeoutScope) {
    cogent::pool p(1);
    cogent::channel<int> release;
    p.spawn([&] { release.get(); });
    bool timed_out = false;
    try {
        cogent::timeout limit(5ms);
        p.spawn([] {});
    } catch (const cogent::timeout_error&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_EQ(p.size(), 1u);
    release.put(1);
    EXPECT_TRUE(p.join(10s));
    EXPECT_EQ(p.free_count(), 1u);
}

TEST(Pool, TimeoutScopeExpiringJustAfterAPlaceWasHandedOverPassesItOn) {
    cogent::pool p(1);
    cogent::channel<int> release;
    auto holder = p.spawn([&] { release.get(); });
    bool timed_out = false;
    auto spawner = cogent::spawn([&] {
        try {
            cogent::timeout limit(50ms);
            p.spawn([] {});
        } catch (const cogent::timeout_error&) {
            timed_out = true;
        }
    });
    settle();
    ASSERT_FALSE(spawner.ready());
    // The scope's deadline passes while the hub does not run; many ready tasks ahead of the
    // spawner make the hub fire the scope's timer after the hand-over and before the spawner runs.
    auto due = cogent::clock::now() + 100ms;
    while (cogent::clock::now() < due) {
    }
    std::vector<cogent::task<void>> ahead;
    for (int i = 0; i < 1000; ++i) ahead.push_back(cogent::spawn([] {}));
    p.discard(holder);  // hands the place to the spawner
    EXPECT_FALSE(p.has_free_slot());
    spawner.join();
    EXPECT_TRUE(timed_out);
    EXPECT_EQ(p.free_count(), 1u);  // passed on, and nobody else wanted it
    release.put(1);
    holder.join();
}
