// bench_create: the whole life of a short greenlet, against a Boost.Context fiber's.
//
// One iteration makes a greenlet whose function returns at once, switches into it (which runs
// it to the end and comes back), and drops the handle. That is what spawning a tiny task costs:
// allocating the greenlet, taking a stack from the thread's cache, the first switch, the
// function's death and the switch back, returning the stack to the cache, and freeing the
// greenlet. The stack cache means that after the first iteration no stack is mapped or unmapped.
//
// The peer does the same with a boost::context::fiber: create, resume (it runs and finishes),
// and destroy. Boost has no stack cache of its own; its pooled_fixedsize_stack is the closest
// equivalent and the fair comparison. Its fixedsize_stack (malloc) and protected_fixedsize_stack
// (mmap, a guard page and munmap per fiber, the only Boost allocator with a guard, as every
// cogent stack has) are shown for context.
//
//   bench_create [iterations per repetition, default 1000000] [repetitions, default 7] [filter]
// A filter keeps only the variants whose name contains it, which helps callgrind count one.
#include <boost/context/fiber.hpp>
#include <boost/context/fixedsize_stack.hpp>
#include <boost/context/pooled_fixedsize_stack.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>
#include <cogent/greenlet.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "bench_common.hpp"

namespace {

namespace ctx = boost::context;

// Every stack in this benchmark has the same usable size, cogent's default.
const std::size_t stack_size = cogent::greenlet::default_stack_size();

std::int64_t time_greenlet(long iterations) {
    long ran = 0;
    std::int64_t start = bench::now_ns();
    for (long i = 0; i < iterations; ++i) {
        cogent::greenlet g([&ran] { ++ran; });
        g.switch_to();
    }
    std::int64_t elapsed = bench::now_ns() - start;
    if (ran != iterations) std::abort();  // every greenlet must really have run
    return elapsed;
}

// The same loop for a fiber on any Boost stack allocator. The fiber's function returns the
// fiber it was resumed from, which ends it; resume() then hands back an empty fiber, and the
// fiber's stack has already been given back to the allocator on the way out.
template <class StackAllocator>
std::int64_t time_fiber(long iterations, StackAllocator allocator) {
    long ran = 0;
    std::int64_t start = bench::now_ns();
    for (long i = 0; i < iterations; ++i) {
        ctx::fiber f(std::allocator_arg, allocator, [&ran](ctx::fiber&& caller) {
            ++ran;
            return std::move(caller);
        });
        f = std::move(f).resume();
    }
    std::int64_t elapsed = bench::now_ns() - start;
    if (ran != iterations) std::abort();
    return elapsed;
}

struct variant {
    const char* name;
    long iteration_divisor;  // the slow variants run fewer iterations
    std::int64_t (*run)(long iterations);
    bench::samples ns_per_greenlet;
};

}  // namespace

int main(int argc, char** argv) {
    long iterations = argc > 1 ? std::atol(argv[1]) : 1'000'000;
    int repetitions = argc > 2 ? std::atoi(argv[2]) : 7;
    if (iterations < 10 || repetitions < 1) {
        std::fprintf(stderr, "usage: %s [iterations >= 10] [repetitions >= 1]\n", argv[0]);
        return 2;
    }

    // The pool lives across repetitions, as a program's would; like cogent's cache, it keeps the
    // stacks it has handed out once.
    static ctx::pooled_fixedsize_stack pool(stack_size);

    std::vector<variant> variants = {
        {"cogent::greenlet (cached stack)", 1, time_greenlet, {}},
        {"boost fiber, pooled_fixedsize_stack", 1,
         [](long n) { return time_fiber(n, pool); }, {}},
        {"boost fiber, fixedsize_stack (malloc)", 1,
         [](long n) { return time_fiber(n, ctx::fixedsize_stack(stack_size)); }, {}},
        {"boost fiber, protected_fixedsize_stack", 10,
         [](long n) { return time_fiber(n, ctx::protected_fixedsize_stack(stack_size)); }, {}},
    };

    if (argc > 3) std::erase_if(variants, [&](const variant& v) { return !std::strstr(v.name, argv[3]); });
    // An untimed pass fills the stack cache and the pool and starts the thread's greenlet state.
    for (variant& v : variants) v.run(100);
    for (int rep = 0; rep < repetitions; ++rep) {
        for (variant& v : variants) {
            long n = std::max(1L, iterations / v.iteration_divisor);
            std::int64_t elapsed = v.run(n);
            v.ns_per_greenlet.add(static_cast<double>(elapsed) / static_cast<double>(n));
        }
    }

    std::printf("bench_create: create + first switch + finish + destroy, %zu KiB stacks, "
                "%ld iterations per repetition, best and median of %d\n",
                stack_size / 1024, iterations, repetitions);
    std::printf("\n%-42s %17s %10s\n", "variant", "best ns/greenlet", "median");
    for (const variant& v : variants) {
        std::printf("%-42s %17.1f %10.1f\n", v.name, v.ns_per_greenlet.best(), v.ns_per_greenlet.median());
    }

    if (variants.size() < 4) return 0;  // a filtered run has no ratios
    double cogent_ns = variants[0].ns_per_greenlet.best();
    std::printf("\ncogent / boost pooled_fixedsize_stack    = %5.2f\n", cogent_ns / variants[1].ns_per_greenlet.best());
    std::printf("cogent / boost fixedsize_stack           = %5.2f\n", cogent_ns / variants[2].ns_per_greenlet.best());
    std::printf("cogent / boost protected_fixedsize_stack = %5.2f\n", cogent_ns / variants[3].ns_per_greenlet.best());
    std::printf("cogent ns per greenlet = %.1f   target <= 150: %s\n", cogent_ns,
                cogent_ns <= 150.0 ? "met" : "MISSED");
    return 0;
}
