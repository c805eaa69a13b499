// What happens to errors nobody catches (the error handler), and loop_exit: a wait that nothing
// could ever end is reported in the main greenlet instead of hanging.
#include <gtest/gtest.h>
#include <unistd.h>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cogent/hub.hpp"
#include "cogent/io_wait.hpp"
#include "cogent/sleep.hpp"
#include "cogent/task.hpp"
#include "cogent/timeout.hpp"
#include "cogent/waiter.hpp"
#include "hub/core_test_support.hpp"

using namespace std::chrono_literals;
using cogent_test::recorded_errors;

namespace {

using Errors = cogent_test::hub_test;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// --- the error handler ----------------------------------------------------------------------

TEST_F(Errors, UncaughtExceptionIsReportedOnStderr) {
    testing::internal::CaptureStderr();
    auto t = cogent::spawn(cogent::task_options{"reporter"}, [] { throw std::runtime_error("kaput"); });
    t.join();
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_TRUE(contains(err, "reporter")) << err;
    EXPECT_TRUE(contains(err, "std::runtime_error")) << err;
    EXPECT_TRUE(contains(err, "kaput")) << err;
    EXPECT_TRUE(t.exception());
}

TEST_F(Errors, ReportNamesAnUnnamedTaskByItsGreenlet) {
    testing::internal::CaptureStderr();
    auto t = cogent::spawn([] { throw std::invalid_argument("bad arg"); });
    std::string name = t.name();
    t.join();
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_TRUE(contains(err, "'" + name + "'")) << err;
    EXPECT_TRUE(contains(err, "std::invalid_argument")) << err;
    EXPECT_TRUE(contains(err, "bad arg")) << err;
}

TEST_F(Errors, ReportOfANonStandardException) {
    testing::internal::CaptureStderr();
    auto t = cogent::spawn(cogent::task_options{"thrower"}, [] { throw 5; });
    t.join();
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_TRUE(contains(err, "thrower")) << err;
}

TEST_F(Errors, HubKeepsRunningOtherTasksAfterAnError) {
    recorded_errors errors;
    std::vector<std::string> log;
    auto before = cogent::spawn([&] {
        cogent::yield();
        log.push_back("before");
    });
    auto bad = cogent::spawn([] { throw std::runtime_error("bad"); });
    auto after = cogent::spawn([&] {
        cogent::sleep(1ms);
        log.push_back("after");
    });
    cogent::joinall({before, bad, after});
    EXPECT_EQ(log, (std::vector<std::string>{"before", "after"}));
    EXPECT_EQ(errors.entries.size(), 1u);
    // And main carries on too.
    EXPECT_EQ(cogent::run([] { return 1; }), 1);
}

TEST_F(Errors, KilledAndSuccessfulTasksAreNotReported) {
    recorded_errors errors;
    auto ok = cogent::spawn([] { return 1; });
    auto killed = cogent::spawn([] { cogent::sleep(1h); });
    auto killed_unstarted = cogent::spawn([] {});
    killed_unstarted.kill();
    cogent::yield();
    killed.kill();
    ok.join();
    EXPECT_TRUE(errors.entries.empty());
}

TEST_F(Errors, SetErrorHandlerReplacesTheDefaultAndReturnsThePrevious) {
    std::vector<std::string> seen;
    cogent::error_handler original = cogent::set_error_handler([&](std::string_view where, std::exception_ptr e) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            seen.push_back(std::string(where) + ": " + x.what());
        }
    });
    testing::internal::CaptureStderr();
    auto t = cogent::spawn(cogent::task_options{"handled"}, [] { throw std::runtime_error("to the handler"); });
    t.join();
    std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(seen, (std::vector<std::string>{"handled: to the handler"}));
    EXPECT_FALSE(contains(err, "to the handler")) << "the default handler printed too: " << err;

    // Setting another returns ours; restoring the original returns that one.
    cogent::error_handler ours = cogent::set_error_handler(nullptr);
    EXPECT_TRUE(static_cast<bool>(ours));
    cogent::error_handler none = cogent::set_error_handler(std::move(original));
    EXPECT_FALSE(static_cast<bool>(none));
}

TEST_F(Errors, NullHandlerMeansTheDefault) {
    cogent::error_handler previous = cogent::set_error_handler(nullptr);
    testing::internal::CaptureStderr();
    auto t = cogent::spawn(cogent::task_options{"null handler"}, [] { throw std::runtime_error("printed"); });
    t.join();
    std::string err = testing::internal::GetCapturedStderr();
    cogent::set_error_handler(std::move(previous));
    EXPECT_TRUE(contains(err, "printed")) << err;
}

TEST_F(Errors, HandlerIsToldOncePerFailureWithTheTasksName) {
    recorded_errors errors;
    auto a = cogent::spawn(cogent::task_options{"a"}, [] { throw std::runtime_error("one"); });
    auto b = cogent::spawn(cogent::task_options{"b"}, [] {
        cogent::sleep(1ms);
        throw std::logic_error("two");
    });
    cogent::joinall({a, b});
    ASSERT_EQ(errors.entries.size(), 2u);
    EXPECT_EQ(errors.entries[0].where, "a");
    EXPECT_EQ(errors.message(0), "one");
    EXPECT_EQ(errors.entries[1].where, "b");
    EXPECT_EQ(errors.message(1), "two");
}

TEST_F(Errors, AHandlerThatThrowsIsReportedAndTheHubGoesOn) {
    cogent::error_handler previous =
        cogent::set_error_handler([](std::string_view, std::exception_ptr) { throw std::runtime_error("handler"); });
    testing::internal::CaptureStderr();
    auto t = cogent::spawn([] { throw std::runtime_error("task"); });
    t.join();
    std::string err = testing::internal::GetCapturedStderr();
    cogent::set_error_handler(std::move(previous));
    EXPECT_TRUE(contains(err, "error handler")) << err;
    EXPECT_EQ(cogent::run([] { return 2; }), 2);
}

TEST_F(Errors, PostedJobThatThrowsIsReportedAsTheHub) {
    recorded_errors errors;
    cogent::this_hub().post([] { throw std::runtime_error("from a job"); });
    cogent::sleep(5ms);
    ASSERT_EQ(errors.entries.size(), 1u);
    EXPECT_EQ(errors.entries[0].where, "hub");
    EXPECT_EQ(errors.message(0), "from a job");
}

TEST_F(Errors, HandlerMayBlock) {
    // The handler runs in the failing task, which may still block.
    bool slept = false;
    cogent::error_handler previous = cogent::set_error_handler([&](std::string_view, std::exception_ptr) {
        cogent::sleep(1ms);
        slept = true;
    });
    auto t = cogent::spawn([] { throw std::runtime_error("x"); });
    t.join();
    cogent::set_error_handler(std::move(previous));
    EXPECT_TRUE(slept);
}

// --- loop_exit ------------------------------------------------------------------------------

TEST_F(Errors, JoinOfATaskParkedForeverRaisesLoopExit) {
    auto stuck = cogent::spawn([] {
        cogent::waiter never("never");
        never.wait();
    });
    try {
        stuck.join();
        ADD_FAILURE() << "join returned";
    } catch (const cogent::loop_exit& e) {
        EXPECT_TRUE(contains(e.what(), "this operation would block forever")) << e.what();
    }
    EXPECT_FALSE(stuck.ready());
    stuck.kill();
    EXPECT_TRUE(stuck.killed());
}

TEST_F(Errors, WaitWithoutTimeoutInMainRaisesLoopExit) {
    cogent::waiter never("never");
    EXPECT_THROW(never.wait(), cogent::loop_exit);
    EXPECT_FALSE(never.waiting());
    // Again: loop_exit is raised each time, the hub is still usable.
    EXPECT_THROW(never.wait(), cogent::loop_exit);
    EXPECT_EQ(cogent::run([] { return 3; }), 3);
}

TEST_F(Errors, LoopExitThroughAChainOfJoins) {
    auto inner = cogent::spawn([] {
        cogent::waiter never("never");
        never.wait();
    });
    auto outer = cogent::spawn([&] { inner.join(); });
    EXPECT_THROW(outer.join(), cogent::loop_exit);
    cogent::killall({outer, inner});
}

TEST_F(Errors, LoopExitIsNotRaisedInTasks) {
    // The task's wait is as hopeless as main's, but only main is told.
    bool task_got_it = false;
    auto t = cogent::spawn([&] {
        cogent::waiter never("never");
        try {
            never.wait();
        } catch (const cogent::loop_exit&) {
            task_got_it = true;
        }
    });
    EXPECT_THROW(t.join(), cogent::loop_exit);
    EXPECT_FALSE(task_got_it);
    t.kill();
}

TEST_F(Errors, LoopExitReachesAMainThatSwitchedAwayByHand) {
    // Main is neither parked nor ready: it switched to a plain greenlet that waits forever.
    cogent::greenlet stuck([] {
        cogent::waiter never("never");
        never.wait();
    });
    EXPECT_THROW(stuck.switch_to(), cogent::loop_exit);
    EXPECT_TRUE(stuck.active());
    stuck = cogent::greenlet();  // its last handle: it is killed, unwinding its wait
    EXPECT_EQ(cogent::run([] { return 4; }), 4);
}

TEST_F(Errors, NoLoopExitWhileATimerIsPending) {
    cogent::waiter w("woken by a sleeper");
    auto sleeper = cogent::spawn([&] {
        cogent::sleep(20ms);
        w.wake();
    });
    EXPECT_EQ(w.wait(), cogent::wake_reason::ready);
    sleeper.join();
}

TEST_F(Errors, NoLoopExitWhileASpawnLaterIsPending) {
    cogent::waiter w("woken by a later task");
    auto later = cogent::spawn_later(20ms, [&] { w.wake(); });
    EXPECT_EQ(w.wait(), cogent::wake_reason::ready);
    later.join();
}

TEST_F(Errors, NoLoopExitWhileAKeepAliveExists) {
    cogent::waiter w("woken by a post");
    cogent::hub_handle hub = cogent::this_hub();
    std::thread other;
    {
        cogent::keep_alive hold;
        other = std::thread([&] {
            std::this_thread::sleep_for(20ms);
            EXPECT_TRUE(hub.post([&] { w.wake(); }));
        });
        EXPECT_EQ(w.wait(), cogent::wake_reason::ready);
    }
    other.join();
    // Once it is gone, the same wait is hopeless again.
    cogent::waiter never("never");
    EXPECT_THROW(never.wait(), cogent::loop_exit);
}

TEST_F(Errors, NoLoopExitWhileAnFdIsWatched) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    cogent::waiter w("woken by a reader");
    auto reader = cogent::spawn([&] {
        cogent::wait_readable(fds[0]);
        w.wake();
    });
    std::thread writer([&] {
        std::this_thread::sleep_for(20ms);
        EXPECT_EQ(write(fds[1], "x", 1), 1);
    });
    EXPECT_EQ(w.wait(), cogent::wake_reason::ready);
    writer.join();
    reader.join();
    cogent::notify_close(fds[0]);
    close(fds[0]);
    close(fds[1]);
}

TEST_F(Errors, LoopExitInAThreadsMainGreenlet) {
    cogent_test::in_thread([] {
        auto stuck = cogent::spawn([] {
            cogent::waiter never("never");
            never.wait();
        });
        EXPECT_THROW(stuck.join(), cogent::loop_exit);
        // The thread ends with the task still parked; its end cleans it up.
    });
}

TEST_F(Errors, TimeoutScopeAroundAHopelessWaitIsNotLoopExit) {
    cogent::waiter never("never");
    cogent::timeout limit(10ms);
    EXPECT_THROW(never.wait(), cogent::timeout_error);
}

}  // namespace
