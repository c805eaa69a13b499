// run_in_thread and thread_pool: values and exceptions come back, the hub keeps serving other
// greenlets meanwhile, pools are bounded, and a caller that stops waiting (timeout, kill) leaves
// nothing a late completion could trip on.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cogent/errors.hpp"
#include "cogent/sleep.hpp"
#include "cogent/task.hpp"
#include "cogent/thread_pool.hpp"
#include "hub/core_test_support.hpp"

using namespace std::chrono_literals;

namespace {

using ThreadPool = cogent_test::hub_test;

// Parks the calling greenlet (the hub keeps running) until `done` holds, for at most 10 s.
template <class P>
bool wait_until(P done) {
    auto give_up = std::chrono::steady_clock::now() + 10s;
    while (!done()) {
        if (std::chrono::steady_clock::now() > give_up) return false;
        cogent::sleep(1ms);
    }
    return true;
}

// A result whose end is counted, wherever and on whichever thread it happens.
struct tracked {
    std::shared_ptr<std::atomic<int>> ends;
    explicit tracked(std::shared_ptr<std::atomic<int>> e) : ends(std::move(e)) {}
    tracked(tracked&&) = default;
    ~tracked() {
        if (ends) ++*ends;
    }
};

struct custom_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

TEST_F(ThreadPool, ValuesComeBack) {
    EXPECT_EQ(cogent::run_in_thread([] { return 42; }), 42);
    EXPECT_EQ(cogent::run_in_thread([](int a, const std::string& b) { return b + std::to_string(a); }, 7, "x"), "x7");
    std::unique_ptr<int> owned = cogent::run_in_thread([] { return std::make_unique<int>(5); });
    ASSERT_NE(owned, nullptr);
    EXPECT_EQ(*owned, 5);
    bool ran = false;
    cogent::run_in_thread([&ran] { ran = true; });
    EXPECT_TRUE(ran);
    EXPECT_NE(cogent::run_in_thread([] { return std::this_thread::get_id(); }), std::this_thread::get_id());
}

TEST_F(ThreadPool, ExceptionsComeBack) {
    try {
        cogent::run_in_thread([]() -> int { throw custom_error("disk on fire"); });
        FAIL() << "nothing was thrown";
    } catch (const custom_error& e) {
        EXPECT_STREQ(e.what(), "disk on fire");
    }
    EXPECT_THROW(cogent::run_in_thread([] { throw 17; }), int);
}

TEST_F(ThreadPool, TheHubServesOtherGreenletsWhileACallBlocks) {
    // The call can only finish once another greenlet has run (and slept, so timers run too).
    std::promise<void> go;
    std::shared_future<void> gone = go.get_future().share();
    auto setter = cogent::spawn([&go] {
        cogent::sleep(5ms);
        go.set_value();
    });
    bool released = cogent::run_in_thread([gone] { return gone.wait_for(10s) == std::future_status::ready; });
    EXPECT_TRUE(released);
    setter.join();
}

TEST_F(ThreadPool, WhileACallIsOutTheHubDoesNotThinkItWouldBlockForever) {
    // Nothing else can wake the main greenlet: without the hold this would be loop_exit.
    std::size_t holds_seen = 0;
    auto watcher = cogent::spawn([&holds_seen] { holds_seen = cogent::detail::hub_impl::current().holds; });
    EXPECT_EQ(cogent::run_in_thread([] {
                  std::this_thread::sleep_for(20ms);
                  return 1;
              }),
              1);
    watcher.join();
    EXPECT_EQ(holds_seen, 1u);
    EXPECT_EQ(cogent::detail::hub_impl::current().holds, 0u);
}

TEST_F(ThreadPool, ConcurrencyIsBoundedByThePoolSize) {
    constexpr int size = 3;
    constexpr int jobs = 12;
    cogent::thread_pool pool(size);
    EXPECT_EQ(pool.size(), 3u);
    EXPECT_EQ(pool.threads(), 0u);  // workers start as jobs need them
    std::atomic<int> running{0};
    std::atomic<int> most{0};
    std::atomic<int> first_arrived{0};
    std::atomic<bool> first_met{false};
    auto job = [&](int index) {
        int now = ++running;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        if (index < size) {
            // The first `size` jobs are taken first (the queue is FIFO) and wait for each other:
            // they can only all arrive if the pool runs `size` at once.
            ++first_arrived;
            auto give_up = std::chrono::steady_clock::now() + 10s;
            while (first_arrived.load() < size && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
            if (first_arrived.load() == size) first_met = true;
        } else {
            std::this_thread::sleep_for(2ms);
        }
        --running;
        return index;
    };
    std::vector<cogent::basic_task> tasks;
    std::vector<int> results(jobs, -1);
    for (int i = 0; i < jobs; ++i) {
        tasks.push_back(cogent::spawn([&, i] { results[i] = pool.submit(job, i); }));
    }
    cogent::joinall(tasks);
    EXPECT_TRUE(first_met);
    EXPECT_EQ(most.load(), size);
    EXPECT_EQ(pool.threads(), 3u);
    for (int i = 0; i < jobs; ++i) EXPECT_EQ(results[i], i);
}

TEST_F(ThreadPool, ATimedOutCallRunsOnAndItsResultIsDropped) {
    auto ends = std::make_shared<std::atomic<int>>(0);
    auto finished = std::make_shared<std::atomic<bool>>(false);
    std::promise<void> go;
    std::shared_future<void> gone = go.get_future().share();
    try {
        cogent::run_in_thread(20ms, [gone, ends, finished] {
            gone.wait();
            tracked result(ends);
            *finished = true;
            return result;
        });
        FAIL() << "no timeout";
    } catch (const cogent::timeout_error& e) {
        EXPECT_EQ(e.source(), nullptr);
        EXPECT_NE(std::string(e.what()).find("runs on"), std::string::npos) << e.what();
    }
    go.set_value();
    // The call finishes on its worker; its completion reaches this hub and finds nobody waiting.
    EXPECT_TRUE(wait_until([&] { return finished->load() && ends->load() >= 1; }));
    cogent::sleep(5ms);
    EXPECT_EQ(ends->load(), 1);  // dropped exactly once
}

TEST_F(ThreadPool, ACallStillQueuedWhenItsCallerGivesUpNeverRuns) {
    auto pool = std::make_unique<cogent::thread_pool>(1);
    std::promise<void> go;
    std::shared_future<void> gone = go.get_future().share();
    auto occupier = cogent::spawn([&] { pool->submit([gone] { gone.wait(); }); });
    cogent::yield();  // the occupier's call now holds the only worker
    auto ran = std::make_shared<std::atomic<bool>>(false);
    try {
        pool->submit(10ms, [ran] { *ran = true; });
        FAIL() << "no timeout";
    } catch (const cogent::timeout_error& e) {
        EXPECT_NE(std::string(e.what()).find("withdrawn"), std::string::npos) << e.what();
    }
    go.set_value();
    occupier.join();
    pool.reset();  // runs (or discards) everything queued, then joins
    EXPECT_FALSE(*ran);
}

TEST_F(ThreadPool, ACallerKilledWhileWaitingLeavesNothingDangling) {
    auto pool = std::make_unique<cogent::thread_pool>(2);
    auto ends = std::make_shared<std::atomic<int>>(0);
    auto started = std::make_shared<std::atomic<bool>>(false);
    std::promise<void> go;
    std::shared_future<void> gone = go.get_future().share();
    bool after_call = false;
    auto caller = cogent::spawn([&] {
        tracked result = pool->submit([gone, ends, started] {
            *started = true;
            gone.wait();
            return tracked(ends);
        });
        after_call = true;
    });
    ASSERT_TRUE(wait_until([&] { return started->load(); }));
    EXPECT_TRUE(caller.kill());
    EXPECT_TRUE(caller.killed());
    EXPECT_FALSE(after_call);
    EXPECT_EQ(cogent::detail::hub_impl::current().holds, 0u);  // nobody waits for it any more
    go.set_value();
    pool.reset();  // the call has finished and its completion has been posted
    EXPECT_TRUE(wait_until([&] { return ends->load() >= 1; }));
    EXPECT_EQ(ends->load(), 1);
}

TEST_F(ThreadPool, CallingFromTheHubIsALogicError) {
    std::string message;
    cogent::this_hub().post([&message] {
        try {
            cogent::run_in_thread([] { return 1; });
            message = "no error";
        } catch (const std::logic_error& e) {
            message = e.what();
        }
    });
    ASSERT_TRUE(wait_until([&] { return !message.empty(); }));
    EXPECT_NE(message.find("called from the hub itself"), std::string::npos) << message;
}

TEST_F(ThreadPool, ACallFromItsOwnWorkerRunsThereAtOnce) {
    cogent::thread_pool pool(1);
    // With one worker, queueing the inner call would wait for the outer one for ever.
    int value = pool.submit([&pool] { return pool.submit([] { return 5; }) + 1; });
    EXPECT_EQ(value, 6);
}

TEST_F(ThreadPool, DestroyingAPoolFinishesItsQueuedCalls) {
    auto pool = std::make_unique<cogent::thread_pool>(1);
    std::vector<int> results(3, -1);
    std::vector<cogent::basic_task> tasks;
    for (int i = 0; i < 3; ++i) {
        tasks.push_back(cogent::spawn([&, i] {
            results[i] = pool->submit([i] {
                std::this_thread::sleep_for(5ms);
                return i * 10;
            });
        }));
    }
    cogent::yield();  // every task has queued its call
    pool.reset();     // blocks this thread until all three have run
    cogent::joinall(tasks);
    EXPECT_EQ(results, (std::vector<int>{0, 10, 20}));
}

TEST_F(ThreadPool, ItsCallsWorkFromAnyThreadsMainGreenlet) {
    // A thread that never made a hub gets one, and its main greenlet parks like any other.
    int value = 0;
    cogent_test::in_thread([&value] { value = cogent::run_in_thread([] { return 9; }); });
    EXPECT_EQ(value, 9);
}

TEST(ThreadPoolSize, ZeroIsRefused) { EXPECT_THROW(cogent::thread_pool(0), std::invalid_argument); }

}  // namespace
