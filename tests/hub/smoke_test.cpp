#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "cogent/hub.hpp"
#include "cogent/io_wait.hpp"
#include "cogent/sleep.hpp"
#include "cogent/task.hpp"
#include "cogent/timeout.hpp"

using namespace std::chrono_literals;

TEST(Smoke, SpawnJoinYieldSleep) {
    std::vector<std::string> log;
    auto a = cogent::spawn([&] {
        for (int i = 0; i < 3; ++i) {
            log.push_back("a" + std::to_string(i));
            cogent::yield();
        }
        return 7;
    });
    auto b = cogent::spawn([&] {
        for (int i = 0; i < 3; ++i) {
            log.push_back("b" + std::to_string(i));
            cogent::yield();
        }
    });
    EXPECT_EQ(a.get(), 7);
    b.join();
    EXPECT_EQ(log, (std::vector<std::string>{"a0", "b0", "a1", "b1", "a2", "b2"}));
    auto start = cogent::clock::now();
    cogent::sleep(20ms);
    EXPECT_GE(cogent::clock::now() - start, 20ms);
}

TEST(Smoke, PipeReadable) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    auto writer = cogent::spawn([&] {
        cogent::sleep(10ms);
        ASSERT_EQ(write(fds[1], "x", 1), 1);
    });
    cogent::wait_readable(fds[0], 10s);
    char c;
    EXPECT_EQ(read(fds[0], &c, 1), 1);
    writer.join();
    EXPECT_THROW(cogent::wait_readable(fds[0], 10ms), cogent::timeout_error);
    cogent::notify_close(fds[0]);
    close(fds[0]);
    close(fds[1]);
}

TEST(Smoke, TimeoutScopeAndLoopExit) {
    EXPECT_THROW(
        [] {
            cogent::timeout t(10ms);
            cogent::sleep(10s);
        }(),
        cogent::timeout_error);
    auto stuck = cogent::spawn([] { cogent::waiter w("never"); w.wait(); });
    EXPECT_THROW(stuck.join(), cogent::loop_exit);
    stuck.kill();
    EXPECT_TRUE(stuck.killed());
}
