// Greenlet stacks: sizes, guard pages under every stack whatever the method, no cap on how many
// greenlets exist, and a readable report when a greenlet overflows its stack.
#include <gtest/gtest.h>

#include <cogent/greenlet.hpp>
#include <fstream>
#include <string>
#include <vector>

#include "greenlet/stack.hpp"

#include "cogent/detail/config.hpp"

namespace {

// AddressSanitizer's detect_stack_use_after_return maps a fake stack of megabytes per greenlet,
// each its own mapping: tens of thousands of greenlets exhaust the address-space mappings for
// reasons that are ASan's, not ours. The counting tests run in the plain builds.
#ifdef COGENT_ASAN
#define SKIP_UNDER_ASAN() GTEST_SKIP() << "ASan's per-fiber fake stacks cost a mapping each"
#else
#define SKIP_UNDER_ASAN() (void)0
#endif

using cogent::greenlet;
using cogent::detail::guard_method;

std::size_t kernel_mappings() {
    std::ifstream maps("/proc/self/maps");
    std::size_t lines = 0;
    for (std::string line; std::getline(maps, line);) ++lines;
    return lines;
}

TEST(Stack, SizeIsRoundedToPagesWithAFloor) {
    std::size_t page = cogent::detail::page_size();
    EXPECT_EQ(cogent::detail::normalized_stack_size(0), greenlet::default_stack_size());
    EXPECT_EQ(cogent::detail::normalized_stack_size(1), 16 * 1024u);
    EXPECT_EQ(cogent::detail::normalized_stack_size(100 * 1024 + 1) % page, 0u);
    EXPECT_GE(cogent::detail::normalized_stack_size(100 * 1024 + 1), 100 * 1024u + 1);
}

TEST(Stack, EachGreenletGetsTheStackSizeItAsksFor) {
    greenlet small([] { return 1; }, cogent::greenlet_options{.stack_size = 20 * 1024, .name = {}});
    greenlet large([] { return 2; }, cogent::greenlet_options{.stack_size = 1024 * 1024, .name = {}});
    EXPECT_EQ(small.stack_size(), 20 * 1024u);
    EXPECT_EQ(large.stack_size(), 1024 * 1024u);
    // A deep frame fits in the large stack.
    greenlet deep(
        [] {
            volatile char big[512 * 1024];
            big[0] = 1;
            big[sizeof big - 1] = 2;
            return big[0] + big[sizeof big - 1];
        },
        cogent::greenlet_options{.stack_size = 1024 * 1024, .name = {}});
    EXPECT_EQ(deep.switch_to<int>(), 3);
}

// Touching the page below a stack kills the process: the guard is really there.
void touch_guard(guard_method method) {
    cogent::detail::force_stack_guard_method(method);
    cogent::detail::stack_region stack = cogent::detail::map_stack(0);
    volatile std::byte* below = stack.bottom() - 1;
    *below = std::byte{1};
}

TEST(StackDeathTest, MadviseGuardFaults) {
    if (cogent::detail::stack_guard_method() != guard_method::madvise_guard) {
        GTEST_SKIP() << "this kernel has no MADV_GUARD_INSTALL";
    }
    EXPECT_DEATH(touch_guard(guard_method::madvise_guard), "");
}

TEST(StackDeathTest, MprotectGuardFaults) { EXPECT_DEATH(touch_guard(guard_method::mprotect), ""); }

// A million greenlets must be possible: guards must not split the stack mappings, or
// vm.max_map_count (65530) stops the process at about 32,700 stacks.
TEST(Stack, GuardsDoNotCapTheNumberOfGreenlets) {
    SKIP_UNDER_ASAN();
    if (cogent::detail::stack_guard_method() != guard_method::madvise_guard) {
        GTEST_SKIP() << "this kernel has no MADV_GUARD_INSTALL; mprotect guards are capped by vm.max_map_count";
    }
    constexpr int count = 40000;
    std::size_t mappings_before = kernel_mappings();
    std::vector<greenlet> greenlets;
    greenlets.reserve(count);
    greenlet main = greenlet::current();
    for (int i = 0; i < count; ++i) {
        greenlets.emplace_back([&main] { main.switch_to(); });
        greenlets.back().switch_to();
    }
    for (const greenlet& g : greenlets) ASSERT_TRUE(g.active());
    EXPECT_LT(kernel_mappings(), mappings_before + 1000);
    greenlets.clear();  // kills them all
}

// Where guards must be mprotect'd pages, running out of kernel mappings costs the guard of the
// stacks beyond the limit (said once on stderr), never the process and never a greenlet.
TEST(StackDeathTest, MprotectGuardsBeyondTheMapCountWarnOnceAndGoOn) {
    SKIP_UNDER_ASAN();
    auto make_many = [] {
        cogent::detail::force_stack_guard_method(guard_method::mprotect);
        std::vector<greenlet> greenlets;
        greenlet main = greenlet::current();
        for (int i = 0; i < 40000; ++i) {
            greenlets.emplace_back([&main] { main.switch_to(); });
            greenlets.back().switch_to();
        }
        greenlets.clear();
        std::exit(0);
    };
    EXPECT_EXIT(make_many(), testing::ExitedWithCode(0), "no memory mappings left for guarded greenlet stacks");
}

volatile bool keep_going = true;

int recurse_forever(int depth) {
    volatile char frame[256];
    frame[0] = static_cast<char>(depth);
    if (keep_going) return recurse_forever(depth + 1) + frame[0];
    return frame[0];
}

void overflow_a_greenlet(guard_method method) {
    cogent::detail::force_stack_guard_method(method);
    greenlet deep([] { recurse_forever(0); }, cogent::greenlet_options{.stack_size = 0, .name = "deep"});
    deep.switch_to();
}

TEST(StackDeathTest, OverflowNamesTheGreenletAndItsStackSize) {
    if (cogent::detail::stack_guard_method() == guard_method::madvise_guard) {
        EXPECT_DEATH(overflow_a_greenlet(guard_method::madvise_guard),
                     "cogent: stack overflow in greenlet 'deep' \\(stack size [0-9]+ bytes");
    }
    EXPECT_DEATH(overflow_a_greenlet(guard_method::mprotect),
                 "cogent: stack overflow in greenlet 'deep' \\(stack size [0-9]+ bytes");
}

}  // namespace
