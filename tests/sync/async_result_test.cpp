#include "cogent/async_result.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cogent/errors.hpp"
#include "cogent/sleep.hpp"
#include "cogent/task.hpp"
#include "cogent/timeout.hpp"

using namespace std::chrono_literals;

namespace {

// Lets every task spawned so far run until it parks (each test's tasks park at once).
void settle() {
    for (int i = 0; i < 3; ++i) cogent::yield();
}

}  // namespace

TEST(AsyncResult, SetWakesEveryGetter) {
    cogent::async_result<std::string> r;
    EXPECT_FALSE(r.ready());
    std::vector<std::string> got;
    std::vector<cogent::basic_task> tasks;
    for (int i = 0; i < 3; ++i) tasks.push_back(cogent::spawn([&] { got.push_back(r.get(10s)); }));
    settle();
    EXPECT_TRUE(got.empty());
    r.set("hello");
    EXPECT_TRUE(r.ready());
    EXPECT_TRUE(r.successful());
    EXPECT_EQ(r.exception(), nullptr);
    cogent::joinall(tasks);
    EXPECT_EQ(got, (std::vector<std::string>{"hello", "hello", "hello"}));
}

TEST(AsyncResult, GetReturnsTheStoredValueAtOnceWhenReady) {
    cogent::async_result<std::unique_ptr<int>> r;
    r.set(std::make_unique<int>(42));
    bool other_ran = false;
    auto other = cogent::spawn([&] { other_ran = true; });
    std::unique_ptr<int>& stored = r.get();
    EXPECT_FALSE(other_ran);  // it did not even yield
    EXPECT_EQ(*stored, 42);
    EXPECT_EQ(&r.get(0ms), &stored);
    std::unique_ptr<int> taken = std::move(r.get());
    EXPECT_EQ(*taken, 42);
    EXPECT_TRUE(r.wait(0ms));
    other.join();
}

TEST(AsyncResult, VoidResult) {
    cogent::async_result<void> r;
    bool done = false;
    auto t = cogent::spawn([&] {
        r.get();
        done = true;
    });
    settle();
    EXPECT_FALSE(done);
    r.set();
    t.join();
    EXPECT_TRUE(done);
    EXPECT_TRUE(r.successful());
    EXPECT_THROW(r.set(), std::logic_error);
}

TEST(AsyncResult, SetExceptionIsRethrownByEveryGetter) {
    cogent::async_result<int> r;
    int caught = 0;
    std::vector<cogent::basic_task> tasks;
    for (int i = 0; i < 2; ++i) {
        tasks.push_back(cogent::spawn([&] {
            try {
                r.get();
            } catch (const std::runtime_error& e) {
                if (std::string(e.what()) == "boom") ++caught;
            }
        }));
    }
    settle();
    r.set_exception(std::make_exception_ptr(std::runtime_error("boom")));
    cogent::joinall(tasks);
    EXPECT_EQ(caught, 2);
    EXPECT_TRUE(r.ready());
    EXPECT_FALSE(r.successful());
    EXPECT_NE(r.exception(), nullptr);
    EXPECT_THROW(r.get(), std::runtime_error);
    EXPECT_TRUE(r.wait());
}

TEST(AsyncResult, GetAndWaitTimeOut) {
    cogent::async_result<int> r;
    EXPECT_THROW(r.get(20ms), cogent::timeout_error);
    EXPECT_THROW(r.get(0ms), cogent::timeout_error);
    EXPECT_FALSE(r.wait(20ms));
    EXPECT_FALSE(r.wait(0ms));
    EXPECT_FALSE(r.ready());
    r.set(1);
    EXPECT_EQ(r.get(0ms), 1);
}

TEST(AsyncResult, SettingTwiceThrowsAndKeepsTheFirstOutcome) {
    cogent::async_result<int> r;
    r.set(1);
    EXPECT_THROW(r.set(2), std::logic_error);
    EXPECT_THROW(r.set_exception(std::make_exception_ptr(std::runtime_error("late"))), std::logic_error);
    EXPECT_EQ(r.get(), 1);
    EXPECT_TRUE(r.successful());

    cogent::async_result<int> failed;
    failed.set_exception(std::make_exception_ptr(std::runtime_error("first")));
    EXPECT_THROW(failed.set(3), std::logic_error);
    EXPECT_THROW(failed.get(), std::runtime_error);

    cogent::async_result<int> unset;
    EXPECT_THROW(unset.set_exception(nullptr), std::invalid_argument);
    EXPECT_FALSE(unset.ready());
}

TEST(AsyncResult, KilledWaiterLeavesItConsistent) {
    cogent::async_result<int> r;
    int b_value = 0;
    auto a = cogent::spawn([&] { r.get(); });
    auto b = cogent::spawn([&] { b_value = r.get(10s); });
    settle();
    a.kill();
    EXPECT_TRUE(a.killed());
    r.set(7);
    b.join();
    EXPECT_EQ(b_value, 7);
}

TEST(AsyncResult, KillRightAfterSetLeavesItConsistent) {
    cogent::async_result<int> r;
    int a_value = 0;
    int b_value = 0;
    auto a = cogent::spawn([&] { a_value = r.get(); });
    auto b = cogent::spawn([&] { b_value = r.get(10s); });
    settle();
    r.set(7);
    a.kill(nullptr, false);
    cogent::yield();
    b.join();
    a.join();
    EXPECT_TRUE(a.killed());
    EXPECT_EQ(a_value, 0);
    EXPECT_EQ(b_value, 7);
    EXPECT_EQ(r.get(), 7);
}

TEST(AsyncResult, ExpiredTimeoutScopeLeavesItConsistent) {
    cogent::async_result<int> r;
    bool a_timed_out = false;
    int b_value = 0;
    auto a = cogent::spawn([&] { a_timed_out = !cogent::timeout::run_silently(10ms, [&] { r.get(); }); });
    auto b = cogent::spawn([&] { b_value = r.get(10s); });
    a.join();
    EXPECT_TRUE(a_timed_out);
    EXPECT_FALSE(r.ready());
    r.set(9);
    b.join();
    EXPECT_EQ(b_value, 9);
}

TEST(AsyncResult, DestroyedWhileWaitedOn) {
    auto r = std::make_unique<cogent::async_result<int>>();
    std::string message;
    int wait_result = -1;
    auto getter = cogent::spawn([&] {
        try {
            r->get();
        } catch (const std::logic_error& e) {
            message = e.what();
        }
    });
    auto waiter = cogent::spawn([&] { wait_result = r->wait() ? 1 : 0; });
    settle();
    r.reset();
    getter.join();
    waiter.join();
    EXPECT_NE(message.find("async_result was destroyed"), std::string::npos) << message;
    EXPECT_EQ(wait_result, 0);
}

TEST(AsyncResult, DestroyedAfterSetBeforeTheGetterRuns) {
    auto r = std::make_unique<cogent::async_result<std::string>>();
    std::string message;
    int wait_result = -1;
    auto getter = cogent::spawn([&] {
        try {
            r->get();
        } catch (const std::logic_error& e) {
            message = e.what();
        }
    });
    auto waiter = cogent::spawn([&] { wait_result = r->wait() ? 1 : 0; });
    settle();
    r->set("gone");
    r.reset();  // the getter was woken but has not read the value: it must not read it now
    getter.join();
    waiter.join();
    EXPECT_NE(message.find("async_result was destroyed"), std::string::npos) << message;
    EXPECT_EQ(wait_result, 1);  // wait() only reports that it was set
}
