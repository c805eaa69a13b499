// wait_signal: a signal sent to the process is received by the waiting greenlet while others run.
#include <gtest/gtest.h>
#include <signal.h>

#include "cogent/signal.hpp"
#include "cogent/sleep.hpp"
#include "cogent/task.hpp"
#include "hub/core_test_support.hpp"

namespace {

constexpr auto patience = std::chrono::seconds(10);
using namespace std::chrono_literals;

class WaitSignal : public cogent_test::hub_test {};

TEST_F(WaitSignal, ReceivesTheSignalAndRestoresTheMask) {
    // SIGUSR2 is blocked before the wait: restoring the mask must keep it blocked.
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &usr2, nullptr), 0);
    int ticks = 0;
    auto other = cogent::spawn([&] {
        for (int i = 0; i < 3; ++i) {
            ++ticks;
            cogent::sleep(1ms);
        }
        ::raise(SIGUSR1);  // to this thread, which blocks it while it waits
    });
    EXPECT_EQ(cogent::wait_signal({SIGUSR2, SIGUSR1}, patience), SIGUSR1);
    EXPECT_EQ(ticks, 3);
    other.get(patience);
    sigset_t now;
    ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, nullptr, &now), 0);
    EXPECT_FALSE(sigismember(&now, SIGUSR1));
    EXPECT_TRUE(sigismember(&now, SIGUSR2));
    ASSERT_EQ(::pthread_sigmask(SIG_UNBLOCK, &usr2, nullptr), 0);
}

TEST_F(WaitSignal, TimesOutWithZero) {
    EXPECT_EQ(cogent::wait_signal({SIGUSR2}, 10ms), 0);
}

TEST_F(WaitSignal, BadArgumentsAreClearErrors) {
    EXPECT_THROW(cogent::wait_signal({}, 1ms), std::invalid_argument);
    EXPECT_THROW(cogent::wait_signal({9999}, 1ms), std::invalid_argument);
}

}  // namespace
