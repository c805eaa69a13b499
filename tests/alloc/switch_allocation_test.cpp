// A switch allocates nothing: not for an empty switch, not for a small value, not even for a large
// one (values stay in the sender's frame until the receiver moves them out). Counted by replacing
// the global operator new for this test program.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cogent/greenlet.hpp>
#include <cstdlib>
#include <new>
#include <string>

namespace {
std::atomic<long> allocations{0};
}

void* operator new(std::size_t size) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using cogent::greenlet;

TEST(SwitchAllocation, EmptySwitchesAllocateNothing) {
    greenlet main = greenlet::current();
    greenlet g([&main] {
        for (;;) main.switch_to();
    });
    g.switch_to();  // started: its stack is in place
    long before = allocations.load();
    for (int i = 0; i < 1000; ++i) g.switch_to();
    EXPECT_EQ(allocations.load(), before);
}

TEST(SwitchAllocation, ValuesOfAnySizeAllocateNothing) {
    using big = std::array<char, 4096>;
    greenlet main = greenlet::current();
    greenlet g([&main](int first) {
        int n = first;
        for (;;) {
            big block{};
            block[0] = static_cast<char>(n);
            n = main.switch_to<int>(block);
        }
    });
    g.switch_to(1);
    long before = allocations.load();
    long sum = 0;
    for (int i = 0; i < 1000; ++i) sum += g.switch_to<big>(i)[0];
    EXPECT_EQ(allocations.load(), before);
    EXPECT_NE(sum, 0);
}

TEST(SwitchAllocation, MultipleValuesTravelAsATupleWithoutAllocating) {
    greenlet main = greenlet::current();
    greenlet g([&main] {
        for (int i = 0;; ++i) main.switch_to(i, 2.5, 'x');
    });
    g.switch_to<std::tuple<int, double, char>>();
    long before = allocations.load();
    for (int i = 0; i < 1000; ++i) {
        auto [n, d, c] = g.switch_to<std::tuple<int, double, char>>();
        ASSERT_EQ(n, i + 1);
        ASSERT_EQ(d, 2.5);
        ASSERT_EQ(c, 'x');
    }
    EXPECT_EQ(allocations.load(), before);
}

}  // namespace
