// The context layer, run against each implementation (the assembly and ucontext): building a
// context on a stack, jumping to it with a pointer, learning who jumped back, and keeping the
// state the ABI says survives a call (callee-saved registers, floating-point control words).
#include <gtest/gtest.h>

#include <cfenv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "context/context.hpp"

namespace {

using cogent::context::handle;
using cogent::context::transfer;

struct test_stack {
    explicit test_stack(std::size_t size = 256 * 1024) : memory(new std::byte[size]), bytes(size) {}
    void* top() const { return memory.get() + bytes; }
    std::unique_ptr<std::byte[]> memory;
    std::size_t bytes;
};

TEST(Context, ReportsTheImplementationUnderTest) {
    std::string expected = COGENT_CONTEXT_UNDER_TEST;
    std::string actual = cogent_context_implementation();
    EXPECT_NE(actual.find(expected), std::string::npos) << actual;
}

// The entry receives the maker's pointer and a handle to jump back with.
struct first_visit {
    int received = 0;
};

void record_and_return(transfer t) {
    auto* visit = static_cast<first_visit*>(t.data);
    visit->received = 42;
    cogent_context_jump(t.from, visit);
    std::abort();  // never resumed
}

TEST(Context, EntryReceivesThePointerAndCanJumpBack) {
    test_stack stack;
    handle context = cogent_context_make(stack.top(), stack.bytes, record_and_return);
    first_visit visit;
    transfer back = cogent_context_jump(context, &visit);
    EXPECT_EQ(back.data, &visit);
    EXPECT_EQ(visit.received, 42);
    EXPECT_NE(back.from, nullptr);
}

// A counter that ping-pongs between two contexts, each jump carrying a pointer to the count.
void ping_pong(transfer t) {
    for (;;) {
        auto* count = static_cast<long*>(t.data);
        ++*count;
        t = cogent_context_jump(t.from, count);
    }
}

TEST(Context, PingPongCarriesDataBothWays) {
    test_stack stack;
    handle context = cogent_context_make(stack.top(), stack.bytes, ping_pong);
    long count = 0;
    for (int i = 0; i < 10000; ++i) {
        transfer t = cogent_context_jump(context, &count);
        ASSERT_EQ(t.data, &count);
        context = t.from;  // each resumption yields a fresh handle to the suspended side
    }
    EXPECT_EQ(count, 10000);
}

// Values live in callee-saved registers across the jump at -O2; if the switch lost one, the
// sums below would differ.
__attribute__((noinline)) unsigned long mix(unsigned long a, unsigned long b) { return a * 31 + b; }

void churn(transfer t) {
    for (;;) {
        volatile unsigned long sink = 0;
        for (unsigned long i = 0; i < 8; ++i) sink = sink + mix(i, i * 7);
        t = cogent_context_jump(t.from, t.data);
    }
}

TEST(Context, CalleeSavedRegistersSurviveTheJump) {
    test_stack stack;
    handle context = cogent_context_make(stack.top(), stack.bytes, churn);
    unsigned long a = 1, b = 2, c = 3, d = 4, e = 5, f = 6;
    for (int i = 0; i < 1000; ++i) {
        a = mix(a, 1);
        b = mix(b, 2);
        c = mix(c, 3);
        d = mix(d, 4);
        e = mix(e, 5);
        f = mix(f, 6);
        context = cogent_context_jump(context, nullptr).from;
        a ^= b;
        c ^= d;
        e ^= f;
    }
    unsigned long a2 = 1, b2 = 2, c2 = 3, d2 = 4, e2 = 5, f2 = 6;
    for (int i = 0; i < 1000; ++i) {
        a2 = mix(a2, 1);
        b2 = mix(b2, 2);
        c2 = mix(c2, 3);
        d2 = mix(d2, 4);
        e2 = mix(e2, 5);
        f2 = mix(f2, 6);
        a2 ^= b2;
        c2 ^= d2;
        e2 ^= f2;
    }
    EXPECT_EQ(a, a2);
    EXPECT_EQ(c, c2);
    EXPECT_EQ(e, e2);
    EXPECT_EQ(b + d + f, b2 + d2 + f2);
}

// The entry function starts with the stack aligned as the ABI requires: aligned SSE stores to
// a 16-byte-aligned local and a call through printf-like formatting of a double must work.
void aligned_work(transfer t) {
    alignas(16) double values[2] = {1.5, 2.5};
    auto address = reinterpret_cast<std::uintptr_t>(values);
    char text[64];
    std::snprintf(text, sizeof text, "%.1f", values[0] + values[1]);
    bool ok = address % 16 == 0 && std::strcmp(text, "4.0") == 0;
    *static_cast<bool*>(t.data) = ok;
    cogent_context_jump(t.from, nullptr);
    std::abort();
}

TEST(Context, EntryStackIsAbiAligned) {
    test_stack stack;
    // An odd top address must still give an aligned frame.
    handle context = cogent_context_make(static_cast<std::byte*>(stack.top()) - 7, stack.bytes - 7, aligned_work);
    bool ok = false;
    cogent_context_jump(context, &ok);
    EXPECT_TRUE(ok);
}

// Each context keeps its own floating-point rounding mode (MXCSR and the x87 control word).
// The operand is volatile so that no compiler folds the rounding at compile time.
volatile double two_point_one = 2.1;

void round_upward(transfer t) {
    std::fesetround(FE_UPWARD);
    for (;;) {
        *static_cast<bool*>(t.data) = std::fegetround() == FE_UPWARD && std::nearbyint(two_point_one) == 3.0;
        t = cogent_context_jump(t.from, t.data);
    }
}

TEST(Context, FloatingPointControlIsPerContext) {
#if defined(COGENT_SAVE_FPU_CONTROL) && !COGENT_SAVE_FPU_CONTROL
    GTEST_SKIP() << "built with COGENT_SAVE_FPU_CONTROL=OFF";
#endif
    test_stack stack;
    std::fesetround(FE_TONEAREST);
    handle context = cogent_context_make(stack.top(), stack.bytes, round_upward);
    bool other_side_ok = false;
    context = cogent_context_jump(context, &other_side_ok).from;
    EXPECT_TRUE(other_side_ok);
    EXPECT_EQ(std::fegetround(), FE_TONEAREST);
    EXPECT_EQ(std::nearbyint(two_point_one), 2.0);
    context = cogent_context_jump(context, &other_side_ok).from;
    EXPECT_TRUE(other_side_ok);
    EXPECT_EQ(std::fegetround(), FE_TONEAREST);
}

// Contexts can jump among themselves, not only back to their maker: a chain of three made
// contexts, each jumping on to the next, the last back to the test. Each learns who jumped to it.
struct chain {
    handle next[3] = {};
    handle came_from[3] = {};
    handle test = nullptr;
    int visited = 0;
};

void chain_link(transfer t) {
    auto* c = static_cast<chain*>(t.data);
    int me = c->visited++;
    c->came_from[me] = t.from;
    if (me == 0) c->test = t.from;
    cogent_context_jump(me < 2 ? c->next[me + 1] : c->test, c);
    std::abort();
}

TEST(Context, ContextsJumpAmongThemselves) {
    std::vector<test_stack> stacks(3);
    chain c;
    for (int i = 0; i < 3; ++i) c.next[i] = cogent_context_make(stacks[i].top(), stacks[i].bytes, chain_link);
    transfer back = cogent_context_jump(c.next[0], &c);
    EXPECT_EQ(back.data, &c);
    EXPECT_EQ(c.visited, 3);
    EXPECT_NE(c.came_from[1], nullptr);
    EXPECT_NE(c.came_from[1], c.came_from[0]);
    EXPECT_NE(c.came_from[2], c.came_from[1]);
}

}  // namespace
