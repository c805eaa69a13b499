// bench_switch: what one context switch costs, from the physical floor up to a greenlet switch
// that carries a typed value, against Boost.Context's fiber in the same run.
//
// Every variant is a ping-pong between the main stack and one other context: the main side
// switches over, the other side switches straight back. A round trip is two one-way switches,
// and the table reports nanoseconds per one-way switch. The variants run round-robin, several
// repetitions each, and the best repetition counts: on a noisy machine the minimum is the number
// closest to what the code costs, and the median is printed beside it to show the noise.
//
//   bench_switch [switches per repetition, default 10000000] [repetitions, default 7] [filter]
// A filter keeps only the variants whose name contains it, which helps callgrind count one.
#include <boost/context/fiber.hpp>
#include <cogent/greenlet.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bench_common.hpp"
#include "context/context.hpp"

#ifndef BENCH_SAVE_FPU_CONTROL
#define BENCH_SAVE_FPU_CONTROL 1
#endif

// The minimal switch: the least a correct switch between two C++ stacks can do on x86-64 System
// V. The ABI lets a callee clobber every other register, so the caller has already given them up
// when it calls here; only rbx, rbp and r12-r15 must survive. The switch pushes those six, swaps
// rsp with the other context's, pops that context's six, then pops its resume address and jumps
// there (a `ret` would, too, but a return into another stack always misses the return predictor).
// It has cogent_context_jump's signature and hands over the same two words ({from, data} in
// rax:rdx, and in rdi:rsi), so both run in the very same loop below and only the switch differs.
//
// The second version also keeps MXCSR and the x87 control word, as cogent (with
// COGENT_SAVE_FPU_CONTROL, the default) and Boost.Context do: it separates that choice's cost.
extern "C" {
cogent::context::transfer bench_minimal_switch(void* to, void* data);
cogent::context::transfer bench_minimal_fpu_switch(void* to, void* data);
}

asm(R"(
    .text
    .globl  bench_minimal_switch
    .hidden bench_minimal_switch
    .type   bench_minimal_switch, @function
    .p2align 4
bench_minimal_switch:
    pushq   %rbp
    pushq   %rbx
    pushq   %r15
    pushq   %r14
    pushq   %r13
    pushq   %r12
    movq    %rsp, %rax
    movq    %rdi, %rsp
    popq    %r12
    popq    %r13
    popq    %r14
    popq    %r15
    popq    %rbx
    popq    %rbp
    popq    %r8
    movq    %rsi, %rdx
    movq    %rax, %rdi
    jmpq    *%r8
    .size   bench_minimal_switch, .-bench_minimal_switch

    .globl  bench_minimal_fpu_switch
    .hidden bench_minimal_fpu_switch
    .type   bench_minimal_fpu_switch, @function
    .p2align 4
bench_minimal_fpu_switch:
    pushq   %rbp
    pushq   %rbx
    pushq   %r15
    pushq   %r14
    pushq   %r13
    pushq   %r12
    subq    $8, %rsp
    stmxcsr (%rsp)
    fnstcw  4(%rsp)
    movq    %rsp, %rax
    movq    %rdi, %rsp
    ldmxcsr (%rsp)
    fldcw   4(%rsp)
    addq    $8, %rsp
    popq    %r12
    popq    %r13
    popq    %r14
    popq    %r15
    popq    %rbx
    popq    %rbp
    popq    %r8
    movq    %rsi, %rdx
    movq    %rax, %rdi
    jmpq    *%r8
    .size   bench_minimal_fpu_switch, .-bench_minimal_fpu_switch
)");

// Code placement matters: on the AMD Zen 3 this was written on, moving a loop by a few bytes took
// the same switch from 6.5 to 13 ns, most likely by branch-predictor aliasing. So (a) and (b) run
// one template, each instance on its own 64-byte line; that makes them comparable to each other.
#define BENCH_PLACED __attribute__((noinline, aligned(64)))

namespace {

using switch_fn = cogent::context::transfer (*)(void* to, void* data);

constexpr std::size_t peer_stack_size = 64 * 1024;
alignas(64) std::byte peer_stack[peer_stack_size];

// ---- (a) and (b): the raw switches, in one harness -----------------------------------------------

// The peer bounces every switch straight back to whoever sent it, with the same pointer.
template <switch_fn Switch>
[[noreturn]] BENCH_PLACED void bounce(cogent::context::transfer t) {
    for (;;) t = Switch(t.from, t.data);
}

template <switch_fn Switch>
BENCH_PLACED std::int64_t time_ping_pong(long round_trips, void* peer) {
    int token = 0;
    cogent::context::transfer t{peer, &token};
    std::int64_t start = bench::now_ns();
    for (long i = 0; i < round_trips; ++i) t = Switch(t.from, t.data);
    std::int64_t elapsed = bench::now_ns() - start;
    bench::keep(t.data);
    // The peer stays suspended on a static stack that owns nothing: it is simply abandoned, and
    // the next measurement builds a fresh frame over it.
    return elapsed;
}

std::int64_t time_raw_jump(long round_trips) {
    void* peer = cogent_context_make(peer_stack + peer_stack_size, peer_stack_size, bounce<cogent_context_jump>);
    return time_ping_pong<cogent_context_jump>(round_trips, peer);
}

// Lays out a fresh frame for a minimal switch's peer at the top of its stack, in the order the
// switch pops it: [MXCSR, x87 CW] (with FPU control only), r12, r13, r14, r15, rbx, rbp, the resume
// address, and a slot where the peer's return address would be (it never returns). The peer then
// starts with rsp = top - 8, which is 8 mod 16, as the ABI requires at a function's first
// instruction.
void* minimal_frame(bool with_fpu, void (*entry)(cogent::context::transfer)) {
    auto* top = reinterpret_cast<std::uintptr_t*>(peer_stack + peer_stack_size);
    std::uintptr_t* sp = top - 2;
    sp[1] = 0;
    sp[0] = reinterpret_cast<std::uintptr_t>(entry);
    sp -= 6;
    std::fill(sp, sp + 6, std::uintptr_t{0});  // rbp = 0 ends a debugger's frame chain
    if (with_fpu) {
        std::uint32_t mxcsr = __builtin_ia32_stmxcsr();
        std::uint16_t control_word = 0;
        asm volatile("fnstcw %0" : "=m"(control_word));
        sp -= 1;
        sp[0] = mxcsr | static_cast<std::uintptr_t>(control_word) << 32;
    }
    return sp;
}

template <switch_fn Switch, bool WithFpu>
std::int64_t time_minimal(long round_trips) {
    return time_ping_pong<Switch>(round_trips, minimal_frame(WithFpu, bounce<Switch>));
}

// ---- (c) cogent::greenlet ------------------------------------------------------------------------

// An int goes over and comes back incremented, so every switch really carries a value, and the
// receiving side names the type it expects (a type check per switch).
std::int64_t time_greenlet_int(long round_trips) {
    cogent::greenlet main_greenlet = cogent::greenlet::current();
    cogent::greenlet peer([&main_greenlet](int v) {
        for (;;) v = main_greenlet.switch_to<int>(v + 1);
    });
    int v = 0;
    std::int64_t start = bench::now_ns();
    for (long i = 0; i < round_trips; ++i) v = peer.switch_to<int>(v);
    std::int64_t elapsed = bench::now_ns() - start;
    bench::keep(v);
    return elapsed;  // dropping `peer` kills it: greenlet_exit unwinds its loop
}

// The same without a value, to show what carrying one costs.
std::int64_t time_greenlet_void(long round_trips) {
    cogent::greenlet main_greenlet = cogent::greenlet::current();
    cogent::greenlet peer([&main_greenlet] { for (;;) main_greenlet.switch_to(); });
    std::int64_t start = bench::now_ns();
    for (long i = 0; i < round_trips; ++i) peer.switch_to();
    return bench::now_ns() - start;
}

// ---- (d) Boost.Context ---------------------------------------------------------------------------

// The int travels through a captured variable: fiber::resume carries no value of its own.
BENCH_PLACED std::int64_t time_boost_fiber(long round_trips) {
    namespace ctx = boost::context;
    int value = 0;
    ctx::fiber peer([&value](ctx::fiber&& main_fiber) -> ctx::fiber {
        for (;;) {
            ++value;
            main_fiber = std::move(main_fiber).resume();
        }
    });
    std::int64_t start = bench::now_ns();
    for (long i = 0; i < round_trips; ++i) peer = std::move(peer).resume();
    std::int64_t elapsed = bench::now_ns() - start;
    bench::keep(value);
    return elapsed;  // dropping `peer` unwinds it with boost::context::detail::forced_unwind
}

// Boost.Context with every resume in a function that is not inlined, as in any library that wraps
// its switch (cogent's switch_to makes several such calls). The return-stack predictor holds the
// other side's return address when the resumed side returns from its wrapper, so that return
// mispredicts. (d) never returns between switches, everything being inlined into its two loops.
__attribute__((noinline)) void resume_out_of_line(boost::context::fiber& f) { f = std::move(f).resume(); }

BENCH_PLACED std::int64_t time_boost_fiber_out_of_line(long round_trips) {
    namespace ctx = boost::context;
    int value = 0;
    ctx::fiber peer([&value](ctx::fiber&& main_fiber) -> ctx::fiber {
        for (;;) {
            ++value;
            resume_out_of_line(main_fiber);
        }
    });
    std::int64_t start = bench::now_ns();
    for (long i = 0; i < round_trips; ++i) resume_out_of_line(peer);
    std::int64_t elapsed = bench::now_ns() - start;
    bench::keep(value);
    return elapsed;
}

struct variant {
    const char* name;
    std::int64_t (*run)(long round_trips);
    bench::samples ns_per_switch;
};

const char* verdict(double ratio, double target) { return ratio <= target ? "met" : "MISSED"; }

}  // namespace

int main(int argc, char** argv) {
    long switches = argc > 1 ? std::atol(argv[1]) : 10'000'000;
    int repetitions = argc > 2 ? std::atoi(argv[2]) : 7;
    if (switches < 2 || repetitions < 1) {
        std::fprintf(stderr, "usage: %s [switches >= 2] [repetitions >= 1]\n", argv[0]);
        return 2;
    }
    long round_trips = switches / 2;

    std::vector<variant> variants = {
        {"(a)  cogent_context_jump (raw)", time_raw_jump, {}},
        {"(b)  minimal pop+jmp (inline asm)", time_minimal<bench_minimal_switch, false>, {}},
        {"(b') minimal + MXCSR/x87 CW", time_minimal<bench_minimal_fpu_switch, true>, {}},
        {"(c)  greenlet::switch_to<int>(int)", time_greenlet_int, {}},
        {"(c') greenlet::switch_to() (void)", time_greenlet_void, {}},
        {"(d)  boost::context::fiber::resume", time_boost_fiber, {}},
        {"(d') boost fiber, resume not inlined", time_boost_fiber_out_of_line, {}},
    };

    if (argc > 3) std::erase_if(variants, [&](const variant& v) { return !std::strstr(v.name, argv[3]); });
    // One short untimed pass first: page in the stacks and code, start the thread's greenlet state.
    for (variant& v : variants) v.run(1000);
    for (int rep = 0; rep < repetitions; ++rep) {
        for (variant& v : variants) {
            std::int64_t elapsed = v.run(round_trips);
            v.ns_per_switch.add(static_cast<double>(elapsed) / static_cast<double>(2 * round_trips));
        }
    }

    std::printf("bench_switch: %ld one-way switches per repetition, best and median of %d\n",
                2 * round_trips, repetitions);
    std::printf("context implementation: %s, FPU control saved by cogent: %s\n",
                cogent_context_implementation(), BENCH_SAVE_FPU_CONTROL ? "yes" : "no");
    std::printf("\n%-38s %14s %14s\n", "variant", "best ns/switch", "median");
    for (const variant& v : variants) {
        std::printf("%-38s %14.2f %14.2f\n", v.name, v.ns_per_switch.best(), v.ns_per_switch.median());
    }

    if (variants.size() < 7) return 0;  // a filtered run has no ratios
    double raw = variants[0].ns_per_switch.best();
    double minimal = variants[1].ns_per_switch.best();
    double minimal_fpu = variants[2].ns_per_switch.best();
    double greenlet_int = variants[3].ns_per_switch.best();
    double boost = variants[5].ns_per_switch.best();
    double boost_out_of_line = variants[6].ns_per_switch.best();
    std::printf("\nratios (best against best)\n");
    std::printf("  raw jump / minimal                = %5.2f   target <= 1.10: %s\n", raw / minimal,
                verdict(raw / minimal, 1.10));
    std::printf("  raw jump / minimal + FPU control  = %5.2f   (information)\n", raw / minimal_fpu);
    std::printf("  switch_to<int> / Boost.Context    = %5.2f   target <= 0.70: %s\n", greenlet_int / boost,
                verdict(greenlet_int / boost, 0.70));
    std::printf("  switch_to<int> / (d') not inlined = %5.2f   (information)\n", greenlet_int / boost_out_of_line);
    return 0;
}
