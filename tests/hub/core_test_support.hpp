// Helpers shared by the hub core's suites (task, scheduling, timeout, errors, waiter, lifecycle).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "cogent/hub.hpp"
#include "cogent/sleep.hpp"
#include "greenlet/thread_state.hpp"
#include "hub/hub_impl.hpp"

namespace cogent_test {

// Runs `fn` on a new std::thread, which gets a hub of its own, and rethrows here whatever
// escaped it. The thread's end (and so its hub's end) has happened when this returns.
template <class F>
void in_thread(F&& fn) {
    std::exception_ptr error;
    std::thread t([&] {
        try {
            fn();
        } catch (...) {
            error = std::current_exception();
        }
    });
    t.join();
    if (error) std::rethrow_exception(error);
}

// Records what the error handler is given, for the life of the guard; restores the previous
// handler at the end.
class recorded_errors {
public:
    struct entry {
        std::string where;
        std::exception_ptr error;
    };
    recorded_errors() {
        previous_ = cogent::set_error_handler(
            [this](std::string_view where, std::exception_ptr error) { entries.push_back({std::string(where), error}); });
    }
    ~recorded_errors() { cogent::set_error_handler(std::move(previous_)); }
    recorded_errors(const recorded_errors&) = delete;
    recorded_errors& operator=(const recorded_errors&) = delete;

    // The message of entry i, if it is a std::exception.
    std::string message(std::size_t i) const {
        try {
            std::rethrow_exception(entries.at(i).error);
        } catch (const std::exception& e) {
            return e.what();
        } catch (...) {
            return "<not a std::exception>";
        }
    }

    std::vector<entry> entries;

private:
    cogent::error_handler previous_;
};

// A test of the hub on the test's thread. Afterwards it lets everything that is ready finish
// and checks that the test left the hub clean: nothing ready, no timer armed, no fd watched, no
// keep_alive, nobody idle, and no greenlet alive but the hub's own (so a test that forgets to end
// a parked task, or a scope that forgets its timer, fails here).
class hub_test : public ::testing::Test {
protected:
    void TearDown() override {
        cogent::idle();
        auto& h = cogent::detail::hub_impl::current();
        EXPECT_TRUE(h.ready.empty()) << h.ready.size() << " greenlets left ready";
        EXPECT_EQ(h.timer_count(), 0u) << "timers left armed";
        EXPECT_EQ(h.fd_waits(), 0u) << "fds left watched";
        EXPECT_EQ(h.holds, 0u) << "keep_alive left";
        EXPECT_TRUE(h.idle_waiters.empty());
        EXPECT_LE(cogent::detail::existing_thread_state()->live_count, 1u) << "greenlets left alive besides the hub";
    }
};

// Spins the CPU for `d` without giving the hub a chance to run.
inline void busy_for(std::chrono::nanoseconds d) {
    auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
    }
}

// RAII marker: counts its destructions.
struct destruction_counter {
    int* count;
    explicit destruction_counter(int* c) : count(c) {}
    destruction_counter(destruction_counter&& other) noexcept : count(std::exchange(other.count, nullptr)) {}
    destruction_counter(const destruction_counter&) = delete;
    destruction_counter& operator=(const destruction_counter&) = delete;
    ~destruction_counter() {
        if (count != nullptr) ++*count;
    }
};

}  // namespace cogent_test
