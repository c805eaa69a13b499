// cogent::group: membership (automatic removal, add, discard), join and kill, map in input
// order, imap_unordered in completion order, failures, and interrupted callers.
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cogent/channel.hpp"
#include "cogent/group.hpp"
#include "cogent/hub.hpp"
#include "cogent/sleep.hpp"
#include "cogent/task.hpp"
#include "cogent/timeout.hpp"

using namespace std::chrono_literals;

namespace {

void settle() {
    for (int i = 0; i < 5; ++i) cogent::yield();
}

// Silences the report of tasks that are meant to fail, for the length of a test.
struct quiet_errors {
    cogent::error_handler previous = cogent::set_error_handler([](std::string_view, std::exception_ptr) {});
    ~quiet_errors() { cogent::set_error_handler(previous); }
};

}  // namespace

TEST(Group, SpawnedTasksAreMembersUntilTheyFinish) {
    cogent::group g;
    cogent::channel<int> release;
    auto a = g.spawn([&] { return release.get() * 2; });
    auto b = g.spawn([&](int x) { return release.get() + x; }, 100);
    EXPECT_EQ(g.size(), 2u);
    EXPECT_TRUE(g.contains(a));
    EXPECT_TRUE(g.contains(b));
    release.put(1);
    EXPECT_EQ(a.get(), 2);
    EXPECT_FALSE(g.contains(a));  // gone as soon as it finished
    EXPECT_EQ(g.size(), 1u);
    release.put(2);
    EXPECT_TRUE(g.join(10s));
    EXPECT_EQ(b.get(), 102);
    EXPECT_TRUE(g.empty());
}

TEST(Group, AddAndDiscard) {
    cogent::group g;
    cogent::channel<int> release;
    auto t = cogent::spawn([&] { release.get(); });
    g.add(t);
    g.add(t);  // once only
    EXPECT_EQ(g.size(), 1u);
    g.discard(t);
    EXPECT_FALSE(g.contains(t));
    EXPECT_TRUE(g.join(0s));  // t still runs, but it is no longer a member
    EXPECT_FALSE(t.ready());
    g.add(t);
    release.put(1);
    EXPECT_TRUE(g.join(10s));
    EXPECT_TRUE(t.ready());
    g.add(t);  // finished: not added
    EXPECT_TRUE(g.empty());
    EXPECT_THROW(g.add(cogent::basic_task()), std::invalid_argument);
}

TEST(Group, JoinTimesOutAndWaitsForMembersSpawnedMeanwhile) {
    cogent::group g;
    cogent::channel<int> release;
    g.spawn([&] {
        release.get();
        g.spawn([&] { release.get(); });
    });
    EXPECT_FALSE(g.join(5ms));
    auto releaser = cogent::spawn([&] {
        release.put(1);
        release.put(2);
    });
    EXPECT_TRUE(g.join(10s));
    EXPECT_TRUE(g.empty());
    releaser.join();
}

TEST(Group, JoinWithRaiseErrorRethrowsAMemberFailure) {
    quiet_errors quiet;
    cogent::group g;
    cogent::channel<int> release;
    g.spawn([&] { release.get(); });
    g.spawn([]() -> int { throw std::runtime_error("boom"); });
    EXPECT_THROW(g.join(10s, true), std::runtime_error);
    EXPECT_FALSE(g.join(0s));  // the other is still a member
    release.put(1);
    EXPECT_TRUE(g.join(10s));
}

TEST(Group, KillEndsEveryMember) {
    cogent::group g;
    cogent::channel<int> never;
    std::vector<cogent::basic_task> members;
    for (int i = 0; i < 4; ++i) members.push_back(g.spawn([&] { never.get(); }));
    settle();
    EXPECT_TRUE(g.kill());
    EXPECT_TRUE(g.empty());
    for (auto& t : members) EXPECT_TRUE(t.killed());
    EXPECT_EQ(never.getters_waiting(), 0u);
}

TEST(Group, KillWithoutBlockingAndWithAnError) {
    quiet_errors quiet;
    cogent::group g;
    cogent::channel<int> never;
    auto t = g.spawn([&] { never.get(); });
    settle();
    EXPECT_FALSE(g.kill(std::make_exception_ptr(std::logic_error("stop")), false));
    EXPECT_TRUE(g.join(10s));
    EXPECT_FALSE(t.killed());
    EXPECT_THROW(std::rethrow_exception(t.exception()), std::logic_error);
}

TEST(Group, MapKeepsInputOrder) {
    cogent::group g;
    std::vector<int> items{5, 1, 4, 2, 3};
    // Later items finish first: the results must still come back in input order.
    auto doubled = g.map(
        [](int x) {
            cogent::sleep(std::chrono::milliseconds(x));
            return x * 2;
        },
        items);
    EXPECT_EQ(doubled, (std::vector<int>{10, 2, 8, 4, 6}));
    EXPECT_TRUE(g.empty());
    auto lengths = g.map([](const std::string& s) { return s.size(); }, std::vector<std::string>{"a", "bcd", ""});
    EXPECT_EQ(lengths, (std::vector<std::size_t>{1, 3, 0}));
    EXPECT_TRUE(g.map([](int x) { return x; }, std::vector<int>{}).empty());
}

TEST(Group, MapRunsConcurrently) {
    cogent::group g;
    int running = 0, most = 0;
    g.map(
        [&](int) {
            most = std::max(most, ++running);
            cogent::sleep(2ms);
            --running;
            return 0;
        },
        std::vector<int>(8));
    EXPECT_EQ(most, 8);
}

TEST(Group, MapMovesItemsOfAnRvalueRange) {
    cogent::group g;
    std::vector<std::unique_ptr<int>> items;
    for (int i = 0; i < 3; ++i) items.push_back(std::make_unique<int>(i));
    auto values = g.map([](std::unique_ptr<int> p) { return *p + 1; }, std::move(items));
    EXPECT_EQ(values, (std::vector<int>{1, 2, 3}));
}

TEST(Group, MapRethrowsAFailureAndStopsTheOtherCalls) {
    quiet_errors quiet;
    cogent::group g;
    cogent::channel<int> never;
    int stopped = 0;
    auto call = [&](int x) {
        if (x == 2) throw std::runtime_error("item 2");
        try {
            never.get();
        } catch (const cogent::greenlet_exit&) {
            ++stopped;
            throw;
        }
        return x;
    };
    EXPECT_THROW(g.map(call, std::vector<int>{0, 1, 2, 3}), std::runtime_error);
    // map does not return while calls that may use the caller's frame still run.
    EXPECT_EQ(stopped, 3);
    EXPECT_TRUE(g.empty());
    EXPECT_EQ(never.getters_waiting(), 0u);
}

TEST(Group, KilledMapCallerStopsItsCalls) {
    cogent::group g;
    cogent::channel<int> never;
    auto caller = cogent::spawn([&] { return g.map([&](int) { return never.get(); }, std::vector<int>(3)); });
    settle();
    EXPECT_EQ(g.size(), 3u);
    caller.kill();
    EXPECT_TRUE(caller.killed());
    EXPECT_TRUE(g.empty());
    EXPECT_EQ(never.getters_waiting(), 0u);
}

TEST(Group, MapCallerUnderAnExpiringTimeoutScopeStopsItsCalls) {
    cogent::group g;
    cogent::channel<int> never;
    bool timed_out = false;
    try {
        cogent::timeout limit(5ms);
        g.map([&](int) { return never.get(); }, std::vector<int>(3));
    } catch (const cogent::timeout_error&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_TRUE(g.empty());
    EXPECT_EQ(never.getters_waiting(), 0u);
}

TEST(Group, ImapUnorderedYieldsResultsAsTheyFinish) {
    cogent::group g;
    std::vector<int> order;
    for (int v : g.imap_unordered(
             [](int x) {
                 cogent::sleep(std::chrono::milliseconds(x * 3));
                 return x;
             },
             std::vector<int>{3, 1, 2}))
        order.push_back(v);
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(Group, ImapUnorderedNextTimesOutRethrowsAndGoesOn) {
    quiet_errors quiet;
    cogent::group g;
    cogent::channel<int> release;
    auto results = g.imap_unordered(
        [&](int x) {
            if (x < 0) throw std::runtime_error("negative");
            return release.get() + x;
        },
        std::vector<int>{10, -1, 20});
    EXPECT_EQ(results.size(), 3u);
    EXPECT_THROW(results.next(), std::runtime_error);  // the failure finishes first
    EXPECT_THROW(results.next(5ms), cogent::timeout_error);
    release.put(1);
    std::optional<int> first = results.next(10s);
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(*first, 11);
    release.put(2);
    EXPECT_EQ(results.next(10s), std::optional<int>(22));
    EXPECT_FALSE(results.next().has_value());
}

TEST(Group, DestroyingImapResultsEarlyStopsTheRest) {
    cogent::group g;
    cogent::channel<int> release;
    {
        auto results = g.imap_unordered([&](int) { return release.get(); }, std::vector<int>(4));
        auto feeder = cogent::spawn([&] { release.put(7); });
        EXPECT_EQ(results.next(10s), std::optional<int>(7));
        feeder.join();
        EXPECT_EQ(g.size(), 3u);
    }
    EXPECT_TRUE(g.empty());
    EXPECT_EQ(release.getters_waiting(), 0u);
}

TEST(Group, InterruptedJoinersLeaveTheGroupIntact) {
    cogent::group g;
    cogent::channel<int> release;
    g.spawn([&] { release.get(); });
    auto joiner = cogent::spawn([&] { return g.join(); });
    settle();
    joiner.kill();
    EXPECT_TRUE(joiner.killed());
    EXPECT_EQ(g.size(), 1u);
    bool timed_out = false;
    try {
        cogent::timeout limit(5ms);
        g.join();
    } catch (const cogent::timeout_error&) {
        timed_out = true;
    }
    EXPECT_TRUE(timed_out);
    EXPECT_EQ(g.size(), 1u);
    release.put(1);
    EXPECT_TRUE(g.join(10s));
}
