// bench_yield: what cogent::yield() costs between two ready tasks, against Boost.Fiber's
// this_fiber::yield() in the same process and Go's runtime.Gosched() (GOMAXPROCS=1) in a
// subprocess.
//
// Two tasks each call yield() in a loop; the thread's main greenlet waits for both. With the
// hub's direct handoff a yield puts the caller at the back of the run queue and switches straight
// to the other task: one context switch per yield, plus the hub's turn every `handoff_limit`
// (64) yields, in which it reads the clock and, every 50 µs, polls the backend with a zero
// timeout. Those turns are part of the cost and are measured with it. The peers do the same: two
// fibers (Boost's default round_robin scheduler) or two goroutines yielding, the main context
// waiting for them to finish. Time per yield = elapsed / (2 × yields per task).
//
//   bench_yield [yields per task, default 5000000] [repetitions, default 7] [filter]
#include <boost/fiber/all.hpp>
#include <cogent/sleep.hpp>
#include <cogent/task.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "hub_bench.hpp"

namespace {

double cogent_two_tasks(long yields) {
    auto body = [yields] {
        for (long i = 0; i < yields; ++i) cogent::yield();
    };
    std::int64_t start = bench::now_ns();
    auto a = cogent::spawn(body);
    auto b = cogent::spawn(body);
    a.join();
    b.join();
    return static_cast<double>(bench::now_ns() - start) / static_cast<double>(2 * yields);
}

// The same with `tasks` tasks in the ring: every yield still switches once, but each task's
// stack and waiter are colder by the time its turn comes round (information).
double cogent_ring(long yields, int tasks) {
    std::vector<cogent::task<void>> ring;
    ring.reserve(static_cast<std::size_t>(tasks));
    long each = yields * 2 / tasks;
    std::int64_t start = bench::now_ns();
    for (int i = 0; i < tasks; ++i) {
        ring.push_back(cogent::spawn([each] {
            for (long k = 0; k < each; ++k) cogent::yield();
        }));
    }
    for (auto& t : ring) t.join();
    return static_cast<double>(bench::now_ns() - start) / static_cast<double>(each * tasks);
}

double boost_two_fibers(long yields) {
    auto body = [yields] {
        for (long i = 0; i < yields; ++i) boost::this_fiber::yield();
    };
    std::int64_t start = bench::now_ns();
    boost::fibers::fiber a(body);
    boost::fibers::fiber b(body);
    a.join();
    b.join();
    return static_cast<double>(bench::now_ns() - start) / static_cast<double>(2 * yields);
}

}  // namespace

int main(int argc, char** argv) {
    long yields = argc > 1 ? std::atol(argv[1]) : 5'000'000;
    int repetitions = argc > 2 ? std::atoi(argv[2]) : 7;
    if (yields < 100 || repetitions < 1) {
        std::fprintf(stderr, "usage: %s [yields per task >= 100] [repetitions >= 1] [filter]\n", argv[0]);
        return 2;
    }

    const std::string cogent_name = "cogent::yield, 2 tasks";
    const std::string boost_name = "boost::this_fiber::yield, 2 fibers";
    const std::string go_name = "Go runtime.Gosched, 2 goroutines, GOMAXPROCS=1";
    std::vector<bench::variant> variants = {
        {cogent_name, [](long n, std::string&) { return cogent_two_tasks(n); }, {}, {}},
        {"cogent::yield, ring of 100 tasks (information)",
         [](long n, std::string&) { return cogent_ring(n, 100); }, {}, {}},
        {boost_name, [](long n, std::string&) { return boost_two_fibers(n); }, {}, {}},
        {go_name, [](long n, std::string& why) { return bench::run_go("gosched", std::to_string(n), why); }, {}, {}},
    };
    if (argc > 3) bench::filter_variants(variants, argv[3]);

    bench::print_machine_line();
    bench::run_round_robin(variants, yields, repetitions, yields / 10);

    std::printf("bench_yield: %ld yields per task, 2 tasks, median and best of %d repetitions\n", yields,
                repetitions);
    bench::print_table(variants, "ns/yield");
    std::printf("\nratios (median against median)\n");
    bench::print_ratio(variants, cogent_name, boost_name);
    bench::print_ratio(variants, cogent_name, go_name);
    if (const bench::variant* c = bench::find_variant(variants, cogent_name)) {
        std::printf("\ncogent ns per yield (one switch) = %.1f   target <= 20: %s\n", c->ns.median(),
                    c->ns.median() <= 20.0 ? "met" : "MISSED");
    }
    return 0;
}
