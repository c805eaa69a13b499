// bench_spawn_join: what a short task costs through the hub, from spawn to its value in the
// spawner's hands, against Boost.Fiber in the same process and Go (GOMAXPROCS=1) in a subprocess.
//
// Each task returns an int. Two shapes:
//   - batches: spawn B tasks, then get() each one's value in order; repeated to the total.
//     The first get() parks the spawner and the hub runs all B tasks (each starts on a stack from
//     the thread's cache, returns, wakes its joiners and dies), then the spawner collects.
//   - one at a time: spawn one task and get() its value at once: the spawner parks, the task runs
//     and wakes it, and the hub hands control back.
// The peers: Boost fibers on a pooled 64 KiB stack (cogent's stacks are 64 KiB from a cache), each
// storing its int in a slot and joined; the same through boost::fibers::async and future::get()
// (the closest thing to task<int>::get()); Go goroutines with a sync.WaitGroup, or each sending
// its int on a channel.
//
//   bench_spawn_join [tasks per repetition, default 1000000] [repetitions, default 7] [filter]
#include <boost/fiber/all.hpp>
#include <cogent/task.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "hub_bench.hpp"

namespace {

constexpr long batch_size = 1000;
const std::size_t stack_size = 64 * 1024;

long rounded(long tasks, long batch) { return (tasks + batch - 1) / batch * batch; }

double cogent_batches(long tasks, long batch) {
    tasks = rounded(tasks, batch);
    std::vector<cogent::task<int>> running;
    running.reserve(static_cast<std::size_t>(batch));
    long sum = 0;
    std::int64_t start = bench::now_ns();
    for (long done = 0; done < tasks; done += batch) {
        for (long i = 0; i < batch; ++i) running.push_back(cogent::spawn([](long v) { return static_cast<int>(v); }, i));
        for (auto& t : running) sum += t.get();
        running.clear();
    }
    std::int64_t elapsed = bench::now_ns() - start;
    if (sum != tasks / batch * (batch * (batch - 1) / 2)) std::abort();  // every task really ran
    return static_cast<double>(elapsed) / static_cast<double>(tasks);
}

double cogent_one_at_a_time(long tasks) {
    long sum = 0;
    std::int64_t start = bench::now_ns();
    for (long i = 0; i < tasks; ++i) sum += cogent::spawn([](long v) { return static_cast<int>(v & 1); }, i).get();
    std::int64_t elapsed = bench::now_ns() - start;
    if (sum != tasks / 2) std::abort();
    return static_cast<double>(elapsed) / static_cast<double>(tasks);
}

boost::fibers::pooled_fixedsize_stack& boost_pool() {
    static boost::fibers::pooled_fixedsize_stack pool(stack_size);
    return pool;
}

double boost_fiber_batches(long tasks, long batch) {
    tasks = rounded(tasks, batch);
    std::vector<boost::fibers::fiber> running;
    std::vector<int> results(static_cast<std::size_t>(batch));
    running.reserve(static_cast<std::size_t>(batch));
    long sum = 0;
    std::int64_t start = bench::now_ns();
    for (long done = 0; done < tasks; done += batch) {
        for (long i = 0; i < batch; ++i) {
            running.emplace_back(std::allocator_arg, boost_pool(),
                                 [&results, i] { results[static_cast<std::size_t>(i)] = static_cast<int>(i); });
        }
        for (long i = 0; i < batch; ++i) {
            running[static_cast<std::size_t>(i)].join();
            sum += results[static_cast<std::size_t>(i)];
        }
        running.clear();
    }
    std::int64_t elapsed = bench::now_ns() - start;
    if (sum != tasks / batch * (batch * (batch - 1) / 2)) std::abort();
    return static_cast<double>(elapsed) / static_cast<double>(tasks);
}

double boost_async_batches(long tasks, long batch) {
    tasks = rounded(tasks, batch);
    std::vector<boost::fibers::future<int>> running;
    running.reserve(static_cast<std::size_t>(batch));
    long sum = 0;
    std::int64_t start = bench::now_ns();
    for (long done = 0; done < tasks; done += batch) {
        for (long i = 0; i < batch; ++i) {
            running.push_back(boost::fibers::async(boost::fibers::launch::post, std::allocator_arg, boost_pool(),
                                                   [](long v) { return static_cast<int>(v); }, i));
        }
        for (auto& f : running) sum += f.get();
        running.clear();
    }
    std::int64_t elapsed = bench::now_ns() - start;
    if (sum != tasks / batch * (batch * (batch - 1) / 2)) std::abort();
    return static_cast<double>(elapsed) / static_cast<double>(tasks);
}

double boost_fiber_one_at_a_time(long tasks) {
    long sum = 0;
    std::int64_t start = bench::now_ns();
    for (long i = 0; i < tasks; ++i) {
        int result = 0;
        boost::fibers::fiber f(std::allocator_arg, boost_pool(), [&result, i] { result = static_cast<int>(i & 1); });
        f.join();
        sum += result;
    }
    std::int64_t elapsed = bench::now_ns() - start;
    if (sum != tasks / 2) std::abort();
    return static_cast<double>(elapsed) / static_cast<double>(tasks);
}

double boost_async_one_at_a_time(long tasks) {
    long sum = 0;
    std::int64_t start = bench::now_ns();
    for (long i = 0; i < tasks; ++i) {
        sum += boost::fibers::async(boost::fibers::launch::post, std::allocator_arg, boost_pool(),
                                    [](long v) { return static_cast<int>(v & 1); }, i)
                   .get();
    }
    std::int64_t elapsed = bench::now_ns() - start;
    if (sum != tasks / 2) std::abort();
    return static_cast<double>(elapsed) / static_cast<double>(tasks);
}

}  // namespace

int main(int argc, char** argv) {
    long tasks = argc > 1 ? std::atol(argv[1]) : 1'000'000;
    int repetitions = argc > 2 ? std::atoi(argv[2]) : 7;
    if (tasks < 2 || repetitions < 1) {
        std::fprintf(stderr, "usage: %s [tasks per repetition >= 2] [repetitions >= 1] [filter]\n", argv[0]);
        return 2;
    }
    long batch = std::min(batch_size, tasks);
    tasks = rounded(tasks, batch);
    std::string b = std::to_string(batch);

    const std::string cogent_batch = "cogent spawn + get, batches of " + b;
    const std::string cogent_one = "cogent spawn + get, one at a time";
    const std::string boost_batch = "boost fiber + join, batches of " + b;
    const std::string boost_async_batch = "boost async + future::get, batches of " + b;
    const std::string boost_one = "boost fiber + join, one at a time";
    const std::string boost_async_one = "boost async + future::get, one at a time";
    const std::string go_batch = "Go go + WaitGroup, batches of " + b;
    const std::string go_channel = "Go go + chan int (cap 1) each, batches of " + b;
    const std::string go_one = "Go go + unbuffered chan, one at a time";
    auto go = [](const char* mode, long batch_of) {
        return [mode, batch_of](long n, std::string& why) {
            return bench::run_go("spawnjoin", std::string(mode) + " " + std::to_string(n) + " " + std::to_string(batch_of),
                                 why);
        };
    };
    std::vector<bench::variant> variants = {
        {cogent_batch, [batch](long n, std::string&) { return cogent_batches(n, batch); }, {}, {}},
        {cogent_one, [](long n, std::string&) { return cogent_one_at_a_time(n); }, {}, {}},
        {boost_batch, [batch](long n, std::string&) { return boost_fiber_batches(n, batch); }, {}, {}},
        {boost_async_batch, [batch](long n, std::string&) { return boost_async_batches(n, batch); }, {}, {}},
        {boost_one, [](long n, std::string&) { return boost_fiber_one_at_a_time(n); }, {}, {}},
        {boost_async_one, [](long n, std::string&) { return boost_async_one_at_a_time(n); }, {}, {}},
        {go_batch, go("batch", batch), {}, {}},
        {go_channel, go("channel", batch), {}, {}},
        {go_one, go("one", 1), {}, {}},
    };
    if (argc > 3) bench::filter_variants(variants, argv[3]);

    bench::print_machine_line();
    bench::run_round_robin(variants, tasks, repetitions, std::max(batch, tasks / 10));

    std::printf("bench_spawn_join: %ld tasks per repetition, each returning an int, %zu KiB stacks, median and "
                "best of %d repetitions\n",
                tasks, stack_size / 1024, repetitions);
    bench::print_table(variants, "ns/task");
    std::printf("\nratios (median against median)\n");
    bench::print_ratio(variants, cogent_batch, boost_batch);
    bench::print_ratio(variants, cogent_batch, boost_async_batch);
    bench::print_ratio(variants, cogent_batch, go_batch);
    bench::print_ratio(variants, cogent_batch, go_channel);
    bench::print_ratio(variants, cogent_one, boost_one);
    bench::print_ratio(variants, cogent_one, boost_async_one);
    bench::print_ratio(variants, cogent_one, go_one);
    std::printf("\n");
    for (const std::string& name : {cogent_batch, cogent_one}) {
        if (const bench::variant* c = bench::find_variant(variants, name)) {
            std::printf("%s: %.1f ns per task   target <= 200: %s\n", name.c_str(), c->ns.median(),
                        c->ns.median() <= 200.0 ? "met" : "MISSED");
        }
    }
    return 0;
}
