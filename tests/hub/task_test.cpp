// Tasks as a gevent user sees them: spawn, get, join, kill, links, joinall, killall,
// as_completed.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "cogent/greenlet.hpp"
#include "cogent/sleep.hpp"
#include "cogent/task.hpp"
#include "cogent/timeout.hpp"
#include "cogent/waiter.hpp"
#include "hub/core_test_support.hpp"

using namespace std::chrono_literals;
using cogent_test::destruction_counter;
using cogent_test::recorded_errors;

namespace {

using Task = cogent_test::hub_test;

std::string message_of(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        return x.what();
    } catch (...) {
        return "?";
    }
}

// --- spawn ---------------------------------------------------------------------------------

TEST_F(Task, StartsOnlyWhenTheSpawnerYields) {
    bool ran = false;
    auto t = cogent::spawn([&] { ran = true; });
    EXPECT_FALSE(ran);
    EXPECT_FALSE(t.started());
    EXPECT_FALSE(t.ready());
    cogent::yield();
    EXPECT_TRUE(ran);
    EXPECT_TRUE(t.started());
    EXPECT_TRUE(t.ready());
}

TEST_F(Task, StartsWhenTheSpawnerBlocks) {
    std::vector<std::string> log;
    auto t = cogent::spawn([&] { log.push_back("task"); });
    log.push_back("spawner before block");
    cogent::sleep(1ms);
    log.push_back("spawner after block");
    EXPECT_EQ(log, (std::vector<std::string>{"spawner before block", "task", "spawner after block"}));
}

TEST_F(Task, StartInSpawnOrder) {
    std::vector<int> log;
    std::vector<cogent::basic_task> tasks;
    for (int i = 0; i < 8; ++i) tasks.push_back(cogent::spawn([&log, i] { log.push_back(i); }));
    cogent::joinall(tasks);
    EXPECT_EQ(log, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST_F(Task, MoveOnlyArgumentIsMovedIn) {
    auto p = std::make_unique<int>(41);
    auto t = cogent::spawn([](std::unique_ptr<int> q) { return *q + 1; }, std::move(p));
    EXPECT_EQ(p, nullptr);
    EXPECT_EQ(t.get(), 42);
}

TEST_F(Task, ArgumentsAreCopiedAtSpawn) {
    std::string s = "original";
    auto t = cogent::spawn([](const std::string& v) { return v; }, s);
    s = "changed before the task started";
    EXPECT_EQ(t.get(), "original");
    int counter = 0;
    auto by_ref = cogent::spawn([](int& c) { c = 7; }, std::ref(counter));
    by_ref.join();
    EXPECT_EQ(counter, 7);
}

TEST_F(Task, SeveralArguments) {
    auto t = cogent::spawn([](int a, std::string b, double c) { return b + std::to_string(a) + std::to_string(int(c)); },
                           1, std::string("x"), 2.5);
    EXPECT_EQ(t.get(), "x12");
}

struct accumulator {
    int total = 0;
    int add(int n) {
        total += n;
        return total;
    }
    int peek() const { return total; }
};

TEST_F(Task, MemberFunctionPointers) {
    accumulator acc;
    auto t = cogent::spawn(&accumulator::add, &acc, 5);
    EXPECT_EQ(t.get(), 5);
    EXPECT_EQ(acc.total, 5);
    auto copy = cogent::spawn(&accumulator::add, acc, 10);  // on a copy, taken at spawn
    EXPECT_EQ(copy.get(), 15);
    EXPECT_EQ(acc.total, 5);
    auto ref = cogent::spawn(&accumulator::peek, std::cref(acc));
    EXPECT_EQ(ref.get(), 5);
}

TEST_F(Task, FunctionObjectIsMovedIn) {
    struct callable {
        std::unique_ptr<int> value;
        int operator()() { return *value; }
    };
    auto t = cogent::spawn(callable{std::make_unique<int>(9)});
    EXPECT_EQ(t.get(), 9);
}

TEST_F(Task, NameAndStackSizeOptions) {
    constexpr std::size_t asked = 512 * 1024;
    auto t = cogent::spawn(cogent::task_options{"worker", asked}, [] {
        cogent::greenlet self = cogent::greenlet::current();
        return std::make_pair(self.name(), self.stack_size());
    });
    EXPECT_EQ(t.name(), "worker");
    auto [name, size] = t.get();
    EXPECT_EQ(name, "worker");
    EXPECT_GE(size, asked);
    EXPECT_EQ(t.name(), "worker");  // still, after the end
}

TEST_F(Task, DefaultNameIsTheGreenletsName) {
    auto t = cogent::spawn([] { return cogent::greenlet::current().name(); });
    std::string before = t.name();
    EXPECT_EQ(before.rfind("greenlet-", 0), 0u) << before;
    EXPECT_EQ(t.get(), before);
    EXPECT_EQ(t.name(), before);
}

TEST_F(Task, TaskGreenletIsAChildOfTheHub) {
    cogent::greenlet main = cogent::greenlet::current();
    auto t = cogent::spawn([&] {
        cogent::greenlet self = cogent::greenlet::current();
        EXPECT_FALSE(self.is_main());
        EXPECT_FALSE(self == main);
        EXPECT_EQ(self.parent().name(), "hub");
    });
    t.get();
    EXPECT_FALSE(t.thread());  // dropped at its end
}

// Switching to a task's greenlet by hand before the hub starts it starts it there and then: its
// scheduled start must not run it a second time (nor resume it wherever it parked meanwhile).
TEST_F(Task, StartedByHandBeforeItsTurn) {
    for (bool later : {false, true}) {
        auto t = later ? cogent::spawn_later(1h, [] {
            cogent::sleep(1ms);
            return 5;
        })
                       : cogent::spawn([] {
                             cogent::sleep(1ms);
                             return 5;
                         });
        cogent::greenlet g = t.thread();
        g.set_parent(cogent::greenlet::current());  // so that its end comes back here
        g.switch_to();                               // it sleeps (the hub runs meanwhile) and ends
        EXPECT_TRUE(t.ready());
        EXPECT_EQ(t.get(), 5);
        for (int i = 0; i < 10; ++i) cogent::yield();
    }
}

TEST_F(Task, SpawnLaterRunsAfterItsDelayAndAfterEarlierTimers) {
    std::vector<std::string> log;
    auto start = cogent::clock::now();
    auto later = cogent::spawn_later(50ms, [&] {
        log.push_back("later");
        return cogent::clock::now();
    });
    auto now = cogent::spawn([&] { log.push_back("now"); });
    cogent::sleep(1ms);  // a timer due before the task's: fires first, whatever the machine's speed
    log.push_back("main woke");
    EXPECT_FALSE(later.started());
    auto ran_at = later.get();
    EXPECT_GE(ran_at - start, 50ms);
    EXPECT_EQ(log, (std::vector<std::string>{"now", "main woke", "later"}));
}

TEST_F(Task, SpawnLaterOrdersByDeadlineThenBySpawn) {
    std::vector<char> log;
    auto a = cogent::spawn_later(30ms, [&] { log.push_back('a'); });
    auto b = cogent::spawn_later(10ms, [&] { log.push_back('b'); });
    auto c = cogent::spawn_later(20ms, [&] { log.push_back('c'); });
    cogent::joinall({a, b, c});
    EXPECT_EQ(log, (std::vector<char>{'b', 'c', 'a'}));
}

TEST_F(Task, SpawnLaterWithZeroDelayIsSpawn) {
    std::vector<int> log;
    auto a = cogent::spawn_later(0ms, [&] { log.push_back(1); });
    auto b = cogent::spawn([&] { log.push_back(2); });
    cogent::yield();
    EXPECT_EQ(log, (std::vector<int>{1, 2}));
}

TEST_F(Task, RunReturnsTheValue) {
    EXPECT_EQ(cogent::run([](int x) { return x * 2; }, 21), 42);
    int side = 0;
    cogent::run([&] {
        cogent::sleep(1ms);
        side = 1;
    });
    EXPECT_EQ(side, 1);
    auto p = cogent::run([] { return std::make_unique<int>(3); });
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(*p, 3);
}

TEST_F(Task, RunRethrows) {
    recorded_errors errors;
    EXPECT_THROW(cogent::run([]() -> int { throw std::out_of_range("nope"); }), std::out_of_range);
    EXPECT_EQ(errors.entries.size(), 1u);
}

// --- get / join / state ---------------------------------------------------------------------

TEST_F(Task, GetReturnsAReferenceIntoTheTask) {
    auto t = cogent::spawn([] { return std::string("value"); });
    static_assert(std::is_same_v<decltype(t.get()), std::string&>);
    std::string& first = t.get();
    EXPECT_EQ(first, "value");
    first += "!";
    cogent::task<std::string> copy = t;
    EXPECT_EQ(&copy.get(), &first);
    EXPECT_EQ(copy.get(), "value!");
}

TEST_F(Task, GetOfVoidTask) {
    bool ran = false;
    auto t = cogent::spawn([&] { ran = true; });
    static_assert(std::is_void_v<decltype(t.get())>);
    t.get();
    EXPECT_TRUE(ran);
}

TEST_F(Task, GetRethrowsTheException) {
    recorded_errors errors;
    auto t = cogent::spawn([]() -> int { throw std::runtime_error("boom"); });
    try {
        t.get();
        ADD_FAILURE() << "get() returned";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "boom");
    }
    EXPECT_TRUE(t.ready());
    EXPECT_FALSE(t.successful());
    EXPECT_FALSE(t.killed());
    ASSERT_TRUE(t.exception());
    EXPECT_EQ(message_of(t.exception()), "boom");
    EXPECT_THROW(t.get(), std::runtime_error);  // every time
}

TEST_F(Task, GetRethrowsANonStandardException) {
    recorded_errors errors;
    auto t = cogent::spawn([] { throw 42; });
    try {
        t.get();
        ADD_FAILURE() << "get() returned";
    } catch (int v) {
        EXPECT_EQ(v, 42);
    }
}

TEST_F(Task, GetWithTimeoutThrowsTimeoutErrorWhenNotDone) {
    cogent::waiter release("release");
    auto t = cogent::spawn([&] {
        release.wait();
        return 5;
    });
    try {
        t.get(5ms);
        ADD_FAILURE() << "get returned";
    } catch (const cogent::timeout_error& e) {
        EXPECT_EQ(e.source(), nullptr);
    }
    EXPECT_FALSE(t.ready());
    release.wake();
    EXPECT_EQ(t.get(), 5);
}

TEST_F(Task, JoinWithTimeoutFalseThenTrue) {
    cogent::waiter release("release");
    auto t = cogent::spawn([&] { release.wait(); });
    EXPECT_FALSE(t.join(5ms));
    EXPECT_FALSE(t.join(0ms));
    release.wake();
    EXPECT_TRUE(t.join(10s));
    EXPECT_TRUE(t.join(0ms));
    EXPECT_TRUE(t.join());
}

TEST_F(Task, StateThroughItsLife) {
    cogent::waiter release("release");
    auto t = cogent::spawn([&] { release.wait(); });
    EXPECT_FALSE(t.started());
    EXPECT_FALSE(t.ready());
    EXPECT_FALSE(t.successful());
    EXPECT_FALSE(t.killed());
    EXPECT_FALSE(t.exception());
    cogent::yield();
    EXPECT_TRUE(t.started());
    EXPECT_FALSE(t.ready());
    EXPECT_FALSE(t.successful());
    EXPECT_TRUE(t.thread());
    EXPECT_TRUE(t.thread().active());
    release.wake();
    t.join();
    EXPECT_TRUE(t.started());
    EXPECT_TRUE(t.ready());
    EXPECT_TRUE(t.successful());
    EXPECT_FALSE(t.killed());
    EXPECT_FALSE(t.exception());
}

TEST_F(Task, ManyJoinersAllWake) {
    cogent::waiter release("release");
    auto t = cogent::spawn([&] {
        release.wait();
        return 3;
    });
    int sum = 0;
    std::vector<cogent::basic_task> joiners;
    for (int i = 0; i < 5; ++i) joiners.push_back(cogent::spawn([&, t] { sum += t.get(); }));
    cogent::yield();
    release.wake();
    cogent::joinall(joiners);
    EXPECT_EQ(sum, 15);
}

TEST_F(Task, RunsToItsEndWithoutAHandle) {
    bool done = false;
    cogent::spawn([&] {
        cogent::sleep(1ms);
        done = true;
    });
    cogent::sleep(20ms);
    EXPECT_TRUE(done);
}

TEST_F(Task, EmptyHandleIsALogicError) {
    cogent::task<int> t;
    EXPECT_FALSE(t);
    EXPECT_THROW(t.ready(), std::logic_error);
    EXPECT_THROW(t.join(), std::logic_error);
    EXPECT_THROW(t.get(), std::logic_error);
    EXPECT_THROW(t.kill(), std::logic_error);
}

// --- kill -----------------------------------------------------------------------------------

TEST_F(Task, KillBeforeStartPreventsTheRun) {
    bool called = false;
    auto t = cogent::spawn([&] {
        called = true;
        return 1;
    });
    EXPECT_TRUE(t.kill());
    EXPECT_FALSE(called);
    EXPECT_TRUE(t.ready());
    EXPECT_TRUE(t.killed());
    EXPECT_TRUE(t.successful());  // gevent: GreenletExit counts as success
    EXPECT_FALSE(t.exception());
    EXPECT_THROW(t.get(), cogent::task_killed);
    cogent::yield();
    EXPECT_FALSE(called);
}

TEST_F(Task, KillBeforeStartWithoutBlocking) {
    bool called = false;
    int destroyed = 0;
    auto t = cogent::spawn([&](const destruction_counter&) { called = true; }, destruction_counter(&destroyed));
    t.kill(nullptr, false);
    EXPECT_TRUE(t.join(10s));
    EXPECT_FALSE(called);
    EXPECT_TRUE(t.killed());
    EXPECT_EQ(destroyed, 1);  // its function and arguments are destroyed without being called
}

TEST_F(Task, KillBeforeStartOfSpawnLater) {
    bool called = false;
    auto t = cogent::spawn_later(1h, [&] { called = true; });
    EXPECT_TRUE(t.kill(nullptr, true, 10s));  // does not wait for the hour
    EXPECT_FALSE(called);
    EXPECT_TRUE(t.killed());
}

TEST_F(Task, KillBeforeStartWithCustomException) {
    recorded_errors errors;
    bool called = false;
    auto t = cogent::spawn([&] {
        called = true;
        return 1;
    });
    t.kill(std::make_exception_ptr(std::logic_error("stop it")));
    EXPECT_FALSE(called);
    EXPECT_TRUE(t.ready());
    EXPECT_FALSE(t.killed());
    EXPECT_FALSE(t.successful());
    EXPECT_THROW(t.get(), std::logic_error);
}

TEST_F(Task, KillWithCustomExceptionEndsItUnsuccessful) {
    recorded_errors errors;
    cogent::waiter forever("forever");
    auto t = cogent::spawn([&] {
        forever.wait();
        return 1;
    });
    cogent::yield();
    EXPECT_TRUE(t.kill(std::make_exception_ptr(std::runtime_error("custom"))));
    EXPECT_TRUE(t.ready());
    EXPECT_FALSE(t.successful());
    EXPECT_FALSE(t.killed());
    ASSERT_TRUE(t.exception());
    EXPECT_EQ(message_of(t.exception()), "custom");
    try {
        t.get();
        ADD_FAILURE() << "get returned";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "custom");
    }
    ASSERT_EQ(errors.entries.size(), 1u);  // reported, as any exception that ends a task
    EXPECT_EQ(errors.message(0), "custom");
}

TEST_F(Task, KillOfASleepingTaskUnwindsIt) {
    int destroyed = 0;
    bool after = false;
    auto t = cogent::spawn([&] {
        destruction_counter guard(&destroyed);
        cogent::sleep(1h);
        after = true;
    });
    cogent::yield();
    EXPECT_EQ(destroyed, 0);
    EXPECT_TRUE(t.kill());
    EXPECT_EQ(destroyed, 1);
    EXPECT_FALSE(after);
    EXPECT_TRUE(t.killed());
    EXPECT_TRUE(t.successful());
}

TEST_F(Task, KillOfATaskWaitingOnAWaiterUnwindsIt) {
    int destroyed = 0;
    cogent::wake_reason seen = cogent::wake_reason::none;
    cogent::waiter* parked = nullptr;
    auto t = cogent::spawn([&] {
        destruction_counter guard(&destroyed);
        cogent::waiter w("forever");
        parked = &w;
        try {
            w.wait();
        } catch (const cogent::greenlet_exit&) {
            seen = w.reason();
            throw;
        }
    });
    cogent::yield();
    ASSERT_NE(parked, nullptr);
    EXPECT_TRUE(parked->waiting());
    t.kill();
    EXPECT_EQ(destroyed, 1);
    EXPECT_EQ(seen, cogent::wake_reason::cancelled);
    EXPECT_TRUE(t.killed());
}

TEST_F(Task, KillWithoutBlockingReturnsBeforeItEnds) {
    std::vector<std::string> log;
    auto t = cogent::spawn([&] {
        struct logger {
            std::vector<std::string>& log;
            ~logger() { log.push_back("unwound"); }
        } l{log};
        cogent::sleep(1h);
    });
    cogent::yield();
    EXPECT_FALSE(t.kill(nullptr, false));
    log.push_back("kill returned");
    EXPECT_FALSE(t.ready());
    t.join();
    EXPECT_EQ(log, (std::vector<std::string>{"kill returned", "unwound"}));
    EXPECT_TRUE(t.killed());
}

TEST_F(Task, KillWithTimeoutOfATaskThatWillNotDie) {
    cogent::waiter release("release");
    bool finished = false;
    auto t = cogent::spawn([&] {
        try {
            cogent::sleep(1h);
        } catch (const cogent::greenlet_exit&) {
            release.wait();  // takes its time to die
            finished = true;
            throw;
        }
    });
    cogent::yield();
    EXPECT_FALSE(t.kill(nullptr, true, 5ms));
    EXPECT_FALSE(t.ready());
    release.wake();
    EXPECT_TRUE(t.join(10s));
    EXPECT_TRUE(finished);
    EXPECT_TRUE(t.killed());
}

TEST_F(Task, KillOfATaskThatJustYielded) {
    int rounds = 0;
    int destroyed = 0;
    auto t = cogent::spawn([&] {
        destruction_counter guard(&destroyed);
        for (;;) {
            ++rounds;
            cogent::yield();
        }
    });
    cogent::yield();  // it runs once and yields: it is on the run queue now
    EXPECT_EQ(rounds, 1);
    EXPECT_TRUE(t.kill());
    EXPECT_EQ(destroyed, 1);
    EXPECT_TRUE(t.killed());
    EXPECT_LE(rounds, 2);
}

TEST_F(Task, KillItself) {
    bool after = false;
    int destroyed = 0;
    cogent::task<void> t;
    t = cogent::spawn([&] {
        destruction_counter guard(&destroyed);
        t.kill();
        after = true;
    });
    t.join();
    EXPECT_FALSE(after);
    EXPECT_EQ(destroyed, 1);
    EXPECT_TRUE(t.killed());
    EXPECT_TRUE(t.successful());
}

TEST_F(Task, KillFromAnotherTask) {
    auto victim = cogent::spawn([] { cogent::sleep(1h); });
    auto killer = cogent::spawn([&] { return victim.kill(); });
    EXPECT_TRUE(killer.get());
    EXPECT_TRUE(victim.killed());
}

TEST_F(Task, KillTwiceAndKillAfterTheEnd) {
    auto t = cogent::spawn([] { return 3; });
    EXPECT_EQ(t.get(), 3);
    EXPECT_TRUE(t.kill());  // already over: nothing happens
    EXPECT_FALSE(t.killed());
    EXPECT_TRUE(t.successful());
    EXPECT_EQ(t.get(), 3);

    auto u = cogent::spawn([] { cogent::sleep(1h); });
    cogent::yield();
    u.kill(nullptr, false);
    u.kill(nullptr, false);
    EXPECT_TRUE(u.kill());
    EXPECT_TRUE(u.killed());
}

TEST_F(Task, KillOfATaskBlockedInAJoin) {
    auto forever = cogent::spawn([] { cogent::sleep(1h); });
    auto joiner = cogent::spawn([&] { forever.join(); });
    cogent::yield();
    EXPECT_TRUE(joiner.kill());
    EXPECT_TRUE(joiner.killed());
    EXPECT_FALSE(forever.ready());
    forever.kill();
}

TEST_F(Task, KillWhileATimeoutErrorIsPendingIsNotLost) {
    // The task's timeout expires and, before the task runs again, it is killed. The kill must
    // not be dropped: once the task has dealt with the timeout, it dies (gevent delivers both).
    int timeouts = 0;
    auto t = cogent::spawn([&] {
        for (;;) {
            if (!cogent::timeout::run_silently(1ms, [] { cogent::sleep(1h); })) ++timeouts;
            cogent::sleep(1h);
        }
    });
    cogent::yield();
    cogent_test::busy_for(5ms);  // its timeout is due: the hub fires it at its next pass...
    // ...and then runs posted jobs (it polls, as the last poll is old), before the task runs.
    cogent::this_hub().post([t] { t.kill(nullptr, false); });
    EXPECT_TRUE(t.join(5s));
    EXPECT_TRUE(t.killed());
    EXPECT_EQ(timeouts, 1);
    if (!t.ready()) t.kill(std::make_exception_ptr(std::runtime_error("cleanup")), true, 10s);
}

TEST_F(Task, KillQueuedBehindAPendingTimeoutSurvivesTheScopesEnd) {
    // The task's scope expires while the task is switched out by hand (so its error stays
    // pending), then the task is killed (queued behind that error). The scope then ends without
    // the task blocking, which withdraws the timeout's error: the kill must still be raised, at
    // the next blocking point.
    bool after_scope = false;
    auto t = cogent::spawn([&] {
        {
            cogent::timeout limit(1ms);
            cogent::greenlet away([] { cogent::sleep(30ms); });  // its parent is this task
            away.switch_to();
            EXPECT_TRUE(limit.expired());
        }
        after_scope = true;
        cogent::sleep(1h);
    });
    cogent::sleep(10ms);  // due after the task's scope and before `away` wakes
    EXPECT_FALSE(t.kill(nullptr, false));
    EXPECT_TRUE(t.join(10s));
    EXPECT_TRUE(after_scope);
    EXPECT_TRUE(t.killed());
    if (!t.ready()) t.kill(std::make_exception_ptr(std::runtime_error("cleanup")), true, 10s);
}

TEST_F(Task, SecondKillWhileTheFirstIsPendingIsHarmless) {
    auto t = cogent::spawn([] { cogent::sleep(1h); });
    cogent::yield();
    t.kill(std::make_exception_ptr(std::runtime_error("first")), false);
    t.kill(nullptr, false);
    recorded_errors errors;
    t.join();
    ASSERT_TRUE(t.exception());
    EXPECT_EQ(message_of(t.exception()), "first");
}

TEST_F(Task, KillThatArrivesDuringCleanupIsRaisedThere) {
    // Killed with a custom error, the task catches it and blocks to clean up; a second kill
    // (greenlet_exit) raised at that blocking point ends it.
    std::vector<std::string> log;
    auto t = cogent::spawn([&] {
        try {
            cogent::sleep(1h);
        } catch (const std::runtime_error&) {
            log.push_back("caught first");
            try {
                cogent::sleep(1h);
            } catch (const cogent::greenlet_exit&) {
                log.push_back("killed in cleanup");
                throw;
            }
        }
    });
    cogent::yield();
    t.kill(std::make_exception_ptr(std::runtime_error("first")), false);
    t.kill(nullptr, false);  // pending behind the first
    EXPECT_TRUE(t.join(10s));
    EXPECT_EQ(log, (std::vector<std::string>{"caught first", "killed in cleanup"}));
    EXPECT_TRUE(t.killed());
    if (!t.ready()) t.kill(nullptr, true, 10s);
}

TEST_F(Task, KillCaughtAndSwallowedLetsItReturn) {
    // A task may catch greenlet_exit and return normally: it then ends with its value, as in
    // gevent, not as killed.
    auto t = cogent::spawn([] {
        try {
            cogent::sleep(1h);
        } catch (const cogent::greenlet_exit&) {
            return 7;
        }
        return 0;
    });
    cogent::yield();
    EXPECT_TRUE(t.kill());
    EXPECT_FALSE(t.killed());
    EXPECT_TRUE(t.successful());
    EXPECT_EQ(t.get(), 7);
}

TEST_F(Task, KillFromAPostedJobDoesNotBlock) {
    auto t = cogent::spawn([] { cogent::sleep(1h); });
    cogent::yield();
    bool returned = false;
    bool join_refused = false;
    cogent::this_hub().post([&] {
        try {
            t.join(1ms);  // the hub cannot wait
        } catch (const std::logic_error&) {
            join_refused = true;
        }
        t.kill();  // blocks by default, but not in the hub
        returned = true;
    });
    t.join();
    EXPECT_TRUE(returned);
    EXPECT_TRUE(join_refused);
    EXPECT_TRUE(t.killed());
}

TEST_F(Task, KillOfATaskBlockedInJoinallLeavesNothingDangling) {
    cogent::waiter release("release");
    auto slow = cogent::spawn([&] { release.wait(); });
    auto waiter_task = cogent::spawn([&] { cogent::joinall({slow}); });
    auto iterator_task = cogent::spawn([&] {
        for (cogent::basic_task done : cogent::as_completed({slow})) (void)done;
    });
    cogent::yield();
    cogent::killall({waiter_task, iterator_task});
    EXPECT_TRUE(waiter_task.killed());
    EXPECT_TRUE(iterator_task.killed());
    release.wake();  // its end must not reach the dead joinall or as_completed
    slow.join();
    EXPECT_TRUE(slow.successful());
}

TEST_F(Task, JoinOnItselfIsALogicError) {
    cogent::task<void> t;
    bool caught = false;
    t = cogent::spawn([&] {
        try {
            t.join();
        } catch (const std::logic_error&) {
            caught = true;
        }
    });
    t.join();
    EXPECT_TRUE(caught);
    EXPECT_TRUE(t.successful());
}

// --- links ----------------------------------------------------------------------------------

TEST_F(Task, LinkIsCalledOnceInANewTaskAfterTheEnd) {
    cogent::waiter release("release");
    auto t = cogent::spawn([&] {
        release.wait();
        return 5;
    });
    int calls = 0;
    cogent::greenlet linked_in;
    cogent::greenlet task_greenlet;
    bool was_ready = false;
    t.link([&](cogent::basic_task done) {
        ++calls;
        linked_in = cogent::greenlet::current();
        was_ready = done.ready();
        EXPECT_TRUE(done == t);
    });
    cogent::yield();
    task_greenlet = t.thread();
    EXPECT_EQ(calls, 0);
    release.wake();
    t.join();
    cogent::idle();
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(was_ready);
    ASSERT_TRUE(linked_in);
    EXPECT_FALSE(linked_in == task_greenlet);
    EXPECT_FALSE(linked_in.is_main());
    EXPECT_FALSE(linked_in == cogent::greenlet::current());
    cogent::idle();
    EXPECT_EQ(calls, 1);
}

TEST_F(Task, LinksRunInTheOrderTheyWereMade) {
    std::vector<int> log;
    auto t = cogent::spawn([] {});
    for (int i = 0; i < 4; ++i) t.link([&log, i](cogent::basic_task) { log.push_back(i); });
    t.join();
    cogent::idle();
    EXPECT_EQ(log, (std::vector<int>{0, 1, 2, 3}));
}

TEST_F(Task, LinkValueAndLinkExceptionChooseByOutcome) {
    recorded_errors errors;
    std::vector<std::string> log;
    auto ok = cogent::spawn([] {});
    auto bad = cogent::spawn([] { throw std::runtime_error("bad"); });
    auto killed = cogent::spawn([] { cogent::sleep(1h); });
    for (auto* t : {&ok, &bad, &killed}) {
        std::string name = t == &ok ? "ok" : t == &bad ? "bad" : "killed";
        t->link_value([&log, name](cogent::basic_task) { log.push_back(name + " value"); });
        t->link_exception([&log, name](cogent::basic_task) { log.push_back(name + " exception"); });
    }
    cogent::yield();
    killed.kill();
    cogent::joinall({ok, bad, killed});
    cogent::idle();
    std::sort(log.begin(), log.end());
    // gevent: a task killed with GreenletExit is successful, so its value links run.
    EXPECT_EQ(log, (std::vector<std::string>{"bad exception", "killed value", "ok value"}));
}

TEST_F(Task, LinksOfATaskKilledBeforeItStartedAreCalled) {
    std::vector<std::string> log;
    bool called = false;
    auto t = cogent::spawn([&] { called = true; });
    t.link([&](cogent::basic_task done) { log.push_back(done.killed() ? "killed" : "not killed"); });
    t.link_value([&](cogent::basic_task) { log.push_back("value"); });
    t.link_exception([&](cogent::basic_task) { log.push_back("exception"); });
    t.kill();
    cogent::idle();
    EXPECT_FALSE(called);
    EXPECT_EQ(log, (std::vector<std::string>{"killed", "value"}));
}

TEST_F(Task, LinkAfterTheEndRunsToo) {
    auto t = cogent::spawn([] { return 1; });
    t.join();
    int calls = 0;
    t.link([&](cogent::basic_task) { ++calls; });
    EXPECT_EQ(calls, 0);  // not synchronously: in a new task
    cogent::idle();
    EXPECT_EQ(calls, 1);
    t.link_exception([&](cogent::basic_task) { calls += 100; });
    t.link_value([&](cogent::basic_task) { calls += 10; });
    cogent::idle();
    EXPECT_EQ(calls, 11);
}

TEST_F(Task, LinkCallbackMayBlock) {
    bool done = false;
    cogent::waiter w("link done");
    auto t = cogent::spawn([] {});
    t.link([&](cogent::basic_task) {
        cogent::sleep(1ms);
        done = true;
        w.wake();
    });
    t.join();
    EXPECT_EQ(w.wait(10s), cogent::wake_reason::ready);
    EXPECT_TRUE(done);
}

TEST_F(Task, UnlinkAllForgetsTheCallbacks) {
    int calls = 0;
    auto t = cogent::spawn([] { cogent::sleep(1ms); });
    t.link([&](cogent::basic_task) { ++calls; });
    t.link_value([&](cogent::basic_task) { ++calls; });
    t.unlink_all();
    t.link([&](cogent::basic_task) { calls += 10; });
    t.join();
    cogent::idle();
    EXPECT_EQ(calls, 10);
}

TEST_F(Task, EmptyLinkIsRejected) {
    auto t = cogent::spawn([] {});
    EXPECT_THROW(t.link(nullptr), std::invalid_argument);
    t.join();
}

// --- joinall / killall / as_completed ---------------------------------------------------------

TEST_F(Task, JoinallWaitsForAllAndReturnsThemInCompletionOrder) {
    cogent::waiter w0("w0"), w1("w1"), w2("w2");
    auto t0 = cogent::spawn([&] { w0.wait(); });
    auto t1 = cogent::spawn([&] { w1.wait(); });
    auto t2 = cogent::spawn([&] { w2.wait(); });
    auto waker = cogent::spawn([&] {
        w2.wake();
        cogent::yield();
        w0.wake();
        cogent::yield();
        w1.wake();
    });
    auto done = cogent::joinall({t0, t1, t2});
    ASSERT_EQ(done.size(), 3u);
    EXPECT_TRUE(done[0] == t2);
    EXPECT_TRUE(done[1] == t0);
    EXPECT_TRUE(done[2] == t1);
    waker.join();
}

TEST_F(Task, JoinallWithTimeoutReturnsThoseThatFinished) {
    auto quick = cogent::spawn([] {});
    auto slow = cogent::spawn([] { cogent::sleep(1h); });
    auto done = cogent::joinall({quick, slow}, 10ms);
    ASSERT_EQ(done.size(), 1u);
    EXPECT_TRUE(done[0] == quick);
    EXPECT_FALSE(slow.ready());
    slow.kill();
}

TEST_F(Task, JoinallWithCount) {
    auto a = cogent::spawn([] {});
    auto b = cogent::spawn([] { cogent::sleep(1h); });
    auto c = cogent::spawn([] {});
    auto done = cogent::joinall({a, b, c}, cogent::forever, false, 2);
    ASSERT_EQ(done.size(), 2u);
    EXPECT_TRUE(done[0] == a);
    EXPECT_TRUE(done[1] == c);
    b.kill();
}

TEST_F(Task, JoinallRaiseErrorRethrowsTheFirstFailure) {
    recorded_errors errors;
    cogent::waiter release("release");
    auto ok = cogent::spawn([] {});
    auto bad = cogent::spawn([] { throw std::runtime_error("first failure"); });
    auto slow = cogent::spawn([&] { release.wait(); });
    try {
        cogent::joinall({ok, bad, slow}, cogent::forever, true);
        ADD_FAILURE() << "joinall returned";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "first failure");
    }
    EXPECT_FALSE(slow.ready());  // raised as soon as it was seen
    release.wake();
    slow.join();
    // Without raise_error, failures are just returned.
    auto done = cogent::joinall({ok, bad, slow});
    EXPECT_EQ(done.size(), 3u);
}

TEST_F(Task, JoinallOfNothingAndOfFinishedTasks) {
    EXPECT_TRUE(cogent::joinall({}).empty());
    auto a = cogent::spawn([] {});
    a.join();
    auto done = cogent::joinall({a}, 0ms);
    EXPECT_EQ(done.size(), 1u);
}

TEST_F(Task, KillallKillsEveryTask) {
    int destroyed = 0;
    std::vector<cogent::basic_task> tasks;
    for (int i = 0; i < 5; ++i) {
        tasks.push_back(cogent::spawn([&] {
            destruction_counter guard(&destroyed);
            cogent::sleep(1h);
        }));
    }
    tasks.push_back(cogent::spawn([] {}));  // one that never started
    cogent::yield();
    cogent::killall(tasks);
    EXPECT_EQ(destroyed, 5);
    for (const auto& t : tasks) {
        EXPECT_TRUE(t.ready());
    }
    for (std::size_t i = 0; i + 1 < tasks.size(); ++i) EXPECT_TRUE(tasks[i].killed());
}

TEST_F(Task, KillallWithoutBlocking) {
    std::vector<cogent::basic_task> tasks;
    for (int i = 0; i < 3; ++i) tasks.push_back(cogent::spawn([] { cogent::sleep(1h); }));
    cogent::yield();
    cogent::killall(tasks, nullptr, false);
    for (const auto& t : tasks) EXPECT_FALSE(t.ready());
    cogent::joinall(tasks);
    for (const auto& t : tasks) EXPECT_TRUE(t.killed());
}

TEST_F(Task, AsCompletedYieldsInCompletionOrder) {
    cogent::waiter w0("w0"), w1("w1"), w2("w2");
    std::vector<cogent::basic_task> tasks{
        cogent::spawn([&] { w0.wait(); }),
        cogent::spawn([&] { w1.wait(); }),
        cogent::spawn([&] { w2.wait(); }),
    };
    auto waker = cogent::spawn([&] {
        w1.wake();
        cogent::sleep(1ms);
        w2.wake();
        cogent::sleep(1ms);
        w0.wake();
    });
    std::vector<cogent::basic_task> order;
    for (cogent::basic_task t : cogent::as_completed(tasks)) {
        EXPECT_TRUE(t.ready());
        order.push_back(t);
    }
    ASSERT_EQ(order.size(), 3u);
    EXPECT_TRUE(order[0] == tasks[1]);
    EXPECT_TRUE(order[1] == tasks[2]);
    EXPECT_TRUE(order[2] == tasks[0]);
    waker.join();
}

TEST_F(Task, AsCompletedListsFinishedTasksFirst) {
    auto done_before = cogent::spawn([] {});
    done_before.join();
    auto later = cogent::spawn([] { cogent::sleep(1ms); });
    std::vector<cogent::basic_task> order;
    for (cogent::basic_task t : cogent::as_completed({later, done_before})) order.push_back(t);
    ASSERT_EQ(order.size(), 2u);
    EXPECT_TRUE(order[0] == done_before);
    EXPECT_TRUE(order[1] == later);
}

TEST_F(Task, AsCompletedWithTimeout) {
    auto quick = cogent::spawn([] { cogent::yield(); });
    auto stuck = cogent::spawn([] { cogent::sleep(1h); });
    std::vector<cogent::basic_task> order;
    for (cogent::basic_task t : cogent::as_completed({stuck, quick}, 50ms)) order.push_back(t);
    ASSERT_EQ(order.size(), 1u);
    EXPECT_TRUE(order[0] == quick);
    EXPECT_FALSE(stuck.ready());
    stuck.kill();
}

TEST_F(Task, AsCompletedNextAfterTheEnd) {
    auto a = cogent::spawn([] {});
    cogent::as_completed it({a});
    EXPECT_TRUE(it.next().has_value());
    EXPECT_FALSE(it.next().has_value());
    EXPECT_FALSE(it.next().has_value());
}

TEST_F(Task, AsCompletedAbandonedBeforeTheEnd) {
    cogent::waiter release("release");
    auto a = cogent::spawn([&] { release.wait(); });
    {
        cogent::as_completed it({a}, 1ms);
        EXPECT_FALSE(it.next().has_value());
    }
    release.wake();  // its end must not touch the destroyed as_completed
    a.join();
    EXPECT_TRUE(a.successful());
}

}  // namespace
