// Where the hooks act and where they do not: patch_all and the exported symbols, the main
// greenlet and other threads (libc's behaviour, kept even after a greenlet made a socket
// non-blocking in the kernel), blocking_scope, and kills and timeout scopes reaching a greenlet
// parked inside a hooked call.
#include <dlfcn.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <thread>

#include "cogent/monkey.hpp"
#include "cogent/sleep.hpp"
#include "cogent/task.hpp"
#include "cogent/timeout.hpp"
#include "hooks/hooks_test_support.hpp"

namespace cogent_test {
namespace {

using WhereHooksAct = Hooks;

TEST(HooksState, PatchAllNeedsAndFindsTheInterposers) {
    EXPECT_TRUE(cogent::monkey::hooks_present());
    EXPECT_FALSE(cogent::monkey::is_patched());
    cogent::monkey::patch_all();
    EXPECT_TRUE(cogent::monkey::is_patched());
    cogent::monkey::unpatch_all();
    EXPECT_FALSE(cogent::monkey::is_patched());
}

TEST(HooksState, TheProgramExportsItsHooksForLibrariesToBindTo) {
    // What a library loaded now (dlopen) would bind to is the program's hook, not libc's.
    EXPECT_EQ(::dlsym(RTLD_DEFAULT, "recv"), reinterpret_cast<void*>(&::recv));
    EXPECT_EQ(::dlsym(RTLD_DEFAULT, "getaddrinfo"), reinterpret_cast<void*>(&::getaddrinfo));
    EXPECT_NE(::dlsym(RTLD_NEXT, "recv"), reinterpret_cast<void*>(&::recv));
}

TEST_F(WhereHooksAct, OutsideAGreenletTheSocketStillBlocksAfterTheKernelFlagWasSet) {
    const auto fds = posix_pair();
    const int client = fds.first;
    const int server = fds.second;
    cogent::run([&] {
        char buffer[4];
        auto writer = cogent::spawn([&] { ::send(client, "a", 1, 0); });
        EXPECT_EQ(::recv(server, buffer, sizeof buffer, 0), 1);
    });
    ASSERT_TRUE(kernel_nonblocking(server));
    // The main greenlet (outside any task) and another thread: recv must wait for the data, not
    // return EAGAIN.
    std::thread sender([&] {
        std::this_thread::sleep_for(100ms);
        ::send(client, "b", 1, 0);
    });
    char buffer[4];
    stopwatch clock;
    EXPECT_EQ(::recv(server, buffer, sizeof buffer, 0), 1);
    EXPECT_GE(clock.seconds(), 0.05);
    EXPECT_EQ(buffer[0], 'b');
    sender.join();

    std::atomic<ssize_t> received{0};
    std::thread reader([&] { received = ::read(server, buffer, sizeof buffer); });
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(received.load(), 0);  // still blocked in another thread
    ::send(client, "c", 1, 0);
    reader.join();
    EXPECT_EQ(received.load(), 1);

    // And its socket timeout still applies there, as EAGAIN.
    timeval timeout{0, 100'000};
    ASSERT_EQ(::setsockopt(server, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout), 0);
    EXPECT_EQ(::recv(server, buffer, sizeof buffer, 0), -1);
    EXPECT_EQ(errno, EAGAIN);
    ::close(client);
    ::close(server);
}

TEST_F(WhereHooksAct, OtherThreadsAreUnaffected) {
    // A thread without a hub blocks in libc's calls even while patching is on.
    const auto fds = posix_pair();
    const int client = fds.first;
    const int server = fds.second;
    std::thread other([&] {
        stopwatch clock;
        ::usleep(50'000);
        EXPECT_GE(clock.seconds(), 0.045);
        char buffer[4];
        EXPECT_EQ(::recv(server, buffer, sizeof buffer, 0), 1);
    });
    std::this_thread::sleep_for(100ms);
    ::send(client, "x", 1, 0);
    other.join();
    EXPECT_FALSE(kernel_nonblocking(server));  // nobody parked on it
    ::close(client);
    ::close(server);
}

TEST_F(WhereHooksAct, ABlockingScopeReallyBlocksTheThread) {
    int ticks = 0;
    cogent::run([&] {
        auto ticker = cogent::spawn([&] {
            for (;;) {
                cogent::sleep(5ms);
                ++ticks;
            }
        });
        cogent::sleep(1ms);
        int before = ticks;
        {
            cogent::monkey::blocking_scope really;
            ::usleep(100'000);  // the thread sleeps: the ticker cannot run
            EXPECT_EQ(ticks, before);
        }
        ::usleep(100'000);  // parked: the ticker runs
        EXPECT_GT(ticks, before + 5);
        ticker.kill();
    });
}

TEST_F(WhereHooksAct, ABlockingScopeBelongsToItsGreenlet) {
    int ticks = 0;
    int ticks_during_usleep = -1;
    cogent::run([&] {
        auto sleeper = cogent::spawn([&] {
            cogent::monkey::blocking_scope really;
            cogent::sleep(200ms);  // switched away inside the scope
        });
        auto observer = cogent::spawn([&] {
            for (;;) {
                cogent::sleep(5ms);
                ++ticks;
            }
        });
        auto other = cogent::spawn([&] {
            cogent::sleep(1ms);
            int before = ticks;
            ::usleep(100'000);  // not in the scope: parks, so the observer runs meanwhile
            ticks_during_usleep = ticks - before;
        });
        other.join();
        sleeper.join();
        observer.kill();
    });
    EXPECT_GE(ticks_during_usleep, 5);
}

TEST_F(WhereHooksAct, KillsAndTimeoutScopesReachAGreenletParkedInAHookedCall) {
    const auto fds = posix_pair();
    const int client = fds.first;
    const int server = fds.second;
    cogent::run([&] {
        bool unwound = false;
        auto reader = cogent::spawn([&] {
            struct cleanup {
                bool& done;
                ~cleanup() { done = true; }
            } guard{unwound};
            char buffer[4];
            ::recv(server, buffer, sizeof buffer, 0);
        });
        cogent::sleep(10ms);
        EXPECT_TRUE(reader.kill(nullptr, true, std::chrono::seconds(5)));
        EXPECT_TRUE(reader.killed());
        EXPECT_TRUE(unwound);
        stopwatch clock;
        EXPECT_THROW(
            {
                cogent::timeout limit(50ms);
                ::sleep(10);
            },
            cogent::timeout_error);
        EXPECT_LT(clock.seconds(), 5.0);
    });
    ::close(client);
    ::close(server);
}

}  // namespace
}  // namespace cogent_test
