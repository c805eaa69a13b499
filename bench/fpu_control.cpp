// What saving and loading the floating-point control words costs on this CPU, instruction by
// instruction: the reason the context switch's default (saving MXCSR and the x87 control word)
// costs several nanoseconds. Each instruction runs alone in a loop; the peer is an empty loop.
#include <cstdint>
#include <cstdio>

#include "bench_common.hpp"

namespace {

constexpr long iterations = 50'000'000;

template <class Body>
double ns_per_iteration(Body body) {
    double best = 1e30;
    for (int repetition = 0; repetition < 5; ++repetition) {
        std::int64_t start = bench::now_ns();
        for (long i = 0; i < iterations; ++i) body();
        double ns = static_cast<double>(bench::now_ns() - start) / iterations;
        if (ns < best) best = ns;
    }
    return best;
}

}  // namespace

int main() {
    unsigned int mxcsr = 0;
    unsigned short control_word = 0;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(control_word));
    double empty = ns_per_iteration([] { __asm__ volatile("" ::: "memory"); });
    double store_mxcsr = ns_per_iteration([&] { __asm__ volatile("stmxcsr %0" : "=m"(mxcsr)); });
    double load_mxcsr = ns_per_iteration([&] { __asm__ volatile("ldmxcsr %0" ::"m"(mxcsr)); });
    double store_cw = ns_per_iteration([&] { __asm__ volatile("fnstcw %0" : "=m"(control_word)); });
    double load_cw = ns_per_iteration([&] { __asm__ volatile("fldcw %0" ::"m"(control_word)); });
    std::printf("bench_fpu_control: best of 5 x %ld iterations, ns per loop iteration\n", iterations);
    std::printf("  empty loop (peer)       %6.2f\n", empty);
    std::printf("  stmxcsr (save MXCSR)    %6.2f\n", store_mxcsr);
    std::printf("  ldmxcsr (load MXCSR)    %6.2f\n", load_mxcsr);
    std::printf("  fnstcw  (save x87 CW)   %6.2f\n", store_cw);
    std::printf("  fldcw   (load x87 CW)   %6.2f\n", load_cw);
    std::printf("  save+load of both, less the empty loop: %.2f ns per switch\n",
                store_mxcsr + load_mxcsr + store_cw + load_cw - 4 * empty);
}
