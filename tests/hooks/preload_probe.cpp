// A program that links cogent but not its hooks, run by preload_test.cpp with and without
// LD_PRELOAD=libcogent_hooks.so. It prints what it found and exits with:
//   0  the hooks were found and 20 usleep(200 ms) calls in greenlets overlapped (under 2 s)
//   1  they did not overlap
//   3  patch_all() said there are no interposers (no LD_PRELOAD)
#include <unistd.h>

#include <cstdio>
#include <stdexcept>
#include <vector>

#include "cogent/monkey.hpp"
#include "cogent/task.hpp"

int main() {
    try {
        cogent::monkey::patch_all();
    } catch (const std::logic_error& e) {
        std::printf("no hooks: %s\n", e.what());
        return 3;
    }
    auto start = std::chrono::steady_clock::now();
    cogent::run([] {
        std::vector<cogent::basic_task> tasks;
        for (int i = 0; i < 20; ++i) tasks.push_back(cogent::spawn([] { ::usleep(200'000); }));
        cogent::joinall(tasks);
    });
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("20 x usleep(200 ms) under LD_PRELOAD: %.3f s\n", took);
    return took < 2.0 ? 0 : 1;
}
