// The one-include promise: cogent.hpp alone gives a working program, with every public header.
#include "cogent/cogent.hpp"

#include <gtest/gtest.h>

#include <chrono>

TEST(Umbrella, OneIncludeRunsTasksTimersAndQueues) {
    cogent::queue<int> items;
    auto producer = cogent::spawn([&] {
        for (int i = 1; i <= 3; ++i) {
            cogent::sleep(std::chrono::milliseconds(1));
            items.put(i);
        }
    });
    int sum = cogent::run([&] {
        int total = 0;
        for (int i = 0; i < 3; ++i) total += items.get(std::chrono::seconds(30));
        return total;
    });
    producer.join();
    EXPECT_EQ(sum, 6);
}
