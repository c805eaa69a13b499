// dump_greenlets and the blocked-hub monitor. The monitor tests are about behaviour, not timing:
// stalls last several thresholds, and idle stretches as long.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <mutex>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cogent/greenlet.hpp"
#include "cogent/observability.hpp"
#include "cogent/sleep.hpp"
#include "cogent/task.hpp"
#include "cogent/thread_pool.hpp"
#include "cogent/waiter.hpp"
#include "hub/core_test_support.hpp"

using namespace std::chrono_literals;

namespace {

using Dump = cogent_test::hub_test;

std::string dump() {
    std::ostringstream out;
    cogent::dump_greenlets(out);
    return out.str();
}

// The dump's line for the greenlet called `name` (the text after "#<id>  "), or "" if none.
std::string line_of(const std::string& text, const std::string& name) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (std::regex_match(line, m, std::regex("  #\\d+ +(\\S+) +(.*)")) && m[1] == name) return m[2];
    }
    return "";
}

std::string summary_of(const std::string& text) {
    return text.substr(text.rfind("cogent: "));
}

TEST_F(Dump, ListsNamedTasksWithWhatTheyWaitFor) {
    auto sleeper = cogent::spawn(cogent::task_options{"sleeper"}, [] { cogent::sleep(10s); });
    auto joiner = cogent::spawn(cogent::task_options{"joiner"}, [sleeper] { sleeper.join(); });
    cogent::yield();  // both start and park
    auto fresh = cogent::spawn(cogent::task_options{"fresh"}, [] {});
    std::string text = dump();
    SCOPED_TRACE(text);
    EXPECT_EQ(text.substr(0, text.find('\n')), "cogent: 5 greenlets on this thread");
    EXPECT_EQ(line_of(text, "main"), "running");
    EXPECT_EQ(line_of(text, "hub"), "hub loop");
    EXPECT_TRUE(std::regex_match(line_of(text, "sleeper"), std::regex(R"(waiting on sleep \((\d+\.\d{3} s|\d+\.\d ms) left\))")));
    EXPECT_EQ(line_of(text, "joiner"), "waiting on join");
    EXPECT_EQ(line_of(text, "fresh"), "unstarted");
    EXPECT_EQ(summary_of(text), "cogent: 1 running, 0 ready, 2 waiting, 0 suspended, 1 unstarted; " +
                                    std::string(cogent::to_string(cogent::current_backend())) +
                                    " backend, 1 timer, 0 fd waits, 0 jobs out\n");
    // Ids go up, main's first.
    EXPECT_LT(text.find("main"), text.find("sleeper"));
    EXPECT_LT(text.find("sleeper"), text.find("joiner"));
    sleeper.kill();
    joiner.join();
    fresh.join();
}

TEST_F(Dump, ShowsReadySuspendedAndWokenGreenlets) {
    bool stop = false;
    auto yielder = cogent::spawn(cogent::task_options{"yielder"}, [&stop] {
        while (!stop) cogent::yield();
    });
    cogent::waiter* parked = nullptr;
    auto woken = cogent::spawn(cogent::task_options{"woken"}, [&parked] {
        cogent::waiter w("custom thing");
        parked = &w;
        w.wait();
    });
    cogent::greenlet by_hand([] { cogent::greenlet::current().parent().switch_to(); }, cogent::greenlet_options{0, "by-hand"});
    by_hand.switch_to();  // it switches straight back, by hand
    cogent::yield();      // the tasks start; the yielder is queued again
    ASSERT_NE(parked, nullptr);
    parked->wake();
    std::string text = dump();
    SCOPED_TRACE(text);
    EXPECT_EQ(line_of(text, "yielder"), "ready");
    EXPECT_EQ(line_of(text, "woken"), "ready (woken from custom thing)");
    EXPECT_EQ(line_of(text, "by-hand"), "suspended");
    EXPECT_NE(summary_of(text).find("1 running, 2 ready, 0 waiting, 1 suspended, 0 unstarted"), std::string::npos);
    stop = true;
    by_hand.switch_to();  // lets it finish
    yielder.join();
    woken.join();
}

TEST_F(Dump, ShowsACallOutOnAThread) {
    std::promise<void> go;
    std::shared_future<void> gone = go.get_future().share();
    auto caller = cogent::spawn(cogent::task_options{"caller"}, [gone] { cogent::run_in_thread([gone] { gone.wait(); }); });
    cogent::yield();
    std::string text = dump();
    go.set_value();
    caller.join();
    SCOPED_TRACE(text);
    EXPECT_EQ(line_of(text, "caller"), "waiting on run_in_thread");
    EXPECT_NE(summary_of(text).find(", 1 job out\n"), std::string::npos);
}

TEST(DumpWithoutHub, ChangesNothing) {
    std::string before;
    std::string after;
    bool hub_made = true;
    cogent_test::in_thread([&] {
        before = dump();
        cogent::greenlet::current();  // the thread's greenlet state, but still no hub
        after = dump();
        hub_made = cogent::hub_started();
    });
    EXPECT_EQ(before, "cogent: 0 greenlets on this thread (it has not used greenlets)\n");
    EXPECT_FALSE(hub_made);
    EXPECT_EQ(line_of(after, "main"), "running") << after;
    EXPECT_NE(after.find("cogent: 1 greenlet on this thread\n"), std::string::npos) << after;
    EXPECT_NE(after.find("; no hub\n"), std::string::npos) << after;
}

// --- the blocked-hub monitor -----------------------------------------------------------------

// Collects the monitor's reports for its lifetime.
class recorded_reports {
public:
    recorded_reports() {
        previous_ = cogent::set_hub_blocked_handler([this](const cogent::hub_blocked_report& r) {
            std::lock_guard lock(mutex_);
            reports_.push_back(r);
        });
    }
    ~recorded_reports() { cogent::set_hub_blocked_handler(std::move(previous_)); }
    recorded_reports(const recorded_reports&) = delete;
    recorded_reports& operator=(const recorded_reports&) = delete;

    std::vector<cogent::hub_blocked_report> get() {
        std::lock_guard lock(mutex_);
        return reports_;
    }

private:
    std::mutex mutex_;
    std::vector<cogent::hub_blocked_report> reports_;
    cogent::hub_blocked_handler previous_;
};

cogent::hub_options monitored(cogent::duration threshold = 50ms) {
    cogent::hub_options options;
    options.monitor = true;
    options.monitor_threshold = threshold;
    return options;
}

TEST(Monitor, ReportsAGreenletThatHoldsTheHub) {
    recorded_reports reports;
    std::uint64_t id = 0;
    cogent_test::in_thread([&id] {
        cogent::start_hub(monitored());
        auto busy = cogent::spawn(cogent::task_options{"busy"}, [&id] {
            id = cogent::greenlet::current().id();
            std::this_thread::sleep_for(300ms);  // blocks the thread without yielding
        });
        busy.join();
    });
    auto seen = reports.get();
    ASSERT_EQ(seen.size(), 1u);  // once per stall
    EXPECT_EQ(seen[0].greenlet_name, "busy");
    EXPECT_EQ(seen[0].greenlet_id, id);
    EXPECT_FALSE(seen[0].in_hub_callback);
    EXPECT_GE(seen[0].held, 50ms);
    EXPECT_TRUE(std::regex_match(seen[0].message,
                                 std::regex("cogent: monitor: greenlet 'busy' \\(id " + std::to_string(id) +
                                            "\\) has held the hub for \\d+ ms without yielding")))
        << seen[0].message;
}

TEST(Monitor, ReportsEachStallOnce) {
    recorded_reports reports;
    cogent_test::in_thread([] {
        cogent::start_hub(monitored());
        auto busy = cogent::spawn(cogent::task_options{"twice"}, [] {
            std::this_thread::sleep_for(250ms);
            cogent::sleep(20ms);
            std::this_thread::sleep_for(250ms);
        });
        busy.join();
    });
    auto seen = reports.get();
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].greenlet_name, "twice");
    EXPECT_EQ(seen[1].greenlet_name, "twice");
}

TEST(Monitor, PrintsOnStderrByDefault) {
    cogent::hub_blocked_handler previous = cogent::set_hub_blocked_handler(nullptr);
    testing::internal::CaptureStderr();
    cogent_test::in_thread([] {
        cogent::start_hub(monitored());
        cogent::spawn(cogent::task_options{"loud"}, [] { std::this_thread::sleep_for(250ms); }).join();
    });
    std::string err = testing::internal::GetCapturedStderr();
    cogent::set_hub_blocked_handler(std::move(previous));
    EXPECT_TRUE(std::regex_search(err, std::regex("cogent: monitor: greenlet 'loud' \\(id \\d+\\) has held the hub for "
                                                  "\\d+ ms without yielding\n")))
        << err;
}

TEST(Monitor, IgnoresAHubIdleInALongPoll) {
    recorded_reports reports;
    cogent_test::in_thread([] {
        cogent::start_hub(monitored());
        cogent::sleep(300ms);
    });
    EXPECT_TRUE(reports.get().empty()) << reports.get()[0].message;
}

TEST(Monitor, IgnoresGreenletsThatYieldToEachOther) {
    recorded_reports reports;
    cogent_test::in_thread([] {
        // A longer threshold than elsewhere: the thread is busy throughout, so only the
        // yields tell it apart from a stall, and a loaded machine may preempt it for a while.
        cogent::start_hub(monitored(100ms));
        auto spin = [] {
            auto end = std::chrono::steady_clock::now() + 300ms;
            while (std::chrono::steady_clock::now() < end) cogent::yield();
        };
        auto a = cogent::spawn(spin);
        auto b = cogent::spawn(spin);
        a.join();
        b.join();
    });
    EXPECT_TRUE(reports.get().empty()) << reports.get()[0].message;
}

TEST(Monitor, ReportsAHubCallbackThatDoesNotReturn) {
    recorded_reports reports;
    cogent_test::in_thread([] {
        cogent::start_hub(monitored());
        cogent::this_hub().post([] { std::this_thread::sleep_for(250ms); });
        cogent::sleep(300ms);
    });
    auto seen = reports.get();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_TRUE(seen[0].in_hub_callback);
    EXPECT_NE(seen[0].message.find("a hub callback (a timer or a posted job) has held the hub for"), std::string::npos)
        << seen[0].message;
}

TEST(Monitor, NamesTheHeirOfAGreenletThatDied) {
    // A greenlet made by hand is resumed by the hub, then dies back into main, which holds the
    // thread. The report must name main, and never read the dead greenlet (ASan would see it).
    recorded_reports reports;
    cogent_test::in_thread([] {
        cogent::start_hub(monitored());
        {
            cogent::greenlet g([] { cogent::sleep(1ms); }, cogent::greenlet_options{0, "short-lived"});
            g.switch_to();  // g parks in sleep; the hub resumes it; it dies and main continues here
            EXPECT_TRUE(g.dead());
        }
        cogent::greenlet::current().set_name("main-renamed");
        cogent_test::busy_for(300ms);
    });
    auto seen = reports.get();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].greenlet_name, "main-renamed");
}

TEST(Monitor, StopsPromptlyWithItsHub) {
    auto start = std::chrono::steady_clock::now();
    cogent_test::in_thread([] {
        cogent::start_hub(monitored(60s));  // its watchdog wakes every 15 s
        cogent::sleep(1ms);
    });
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

}  // namespace
