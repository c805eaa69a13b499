// bench_pingpong: two tasks bouncing a message back and forth through cogent's sync primitives,
// against Boost.Fiber's in the same process and Go's channels (GOMAXPROCS=1) in a subprocess.
//
// One round trip is two hand-overs: A sends to B and parks, B receives, sends back and parks, A
// receives. With the hub's direct handoff each hand-over is one context switch, so the
// difference from bench_yield's two switches is what the primitive itself costs.
//   - cogent::event: two events. A: pong.clear(); ping.set(); pong.wait(). B: ping.wait();
//     ping.clear(); pong.set(). Boost's peer: two flags under one boost::fibers::mutex with two
//     condition_variables; Go's: the same with sync.Mutex and sync.Cond.
//   - cogent::queue<int>: two queues, A puts i on one and gets from the other, B gets, adds one
//     and puts back. Unbounded, and with maxsize 1. Boost: buffered_channel<int> (its smallest
//     capacity is 2). Go: channels of capacity 1.
//   - cogent::channel<int> (a rendezvous, gevent's Channel): the same over two channels. Boost:
//     unbuffered_channel<int>. Go: unbuffered channels.
//
//   bench_pingpong [round trips per repetition, default 1000000] [repetitions, default 7] [filter]
#include <boost/fiber/all.hpp>
#include <cogent/channel.hpp>
#include <cogent/event.hpp>
#include <cogent/queue.hpp>
#include <cogent/task.hpp>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "hub_bench.hpp"

namespace {

double per_round_trip(std::int64_t elapsed, long n) { return static_cast<double>(elapsed) / static_cast<double>(n); }

// ---- cogent ---------------------------------------------------------------------------------------

double cogent_events(long n) {
    cogent::event ping, pong;
    auto b = cogent::spawn([&] {
        for (long i = 0; i < n; ++i) {
            ping.wait();
            ping.clear();
            pong.set();
        }
    });
    std::int64_t start = bench::now_ns();
    auto a = cogent::spawn([&] {
        for (long i = 0; i < n; ++i) {
            pong.clear();
            ping.set();
            pong.wait();
        }
    });
    a.join();
    std::int64_t elapsed = bench::now_ns() - start;
    b.join();
    return per_round_trip(elapsed, n);
}

// Any of the queue kinds, and channel: they share put() and get().
template <class Q>
double cogent_queues(long n, Q& ping, Q& pong) {
    auto b = cogent::spawn([&] {
        for (long i = 0; i < n; ++i) pong.put(ping.get() + 1);
    });
    long v = 0;
    std::int64_t start = bench::now_ns();
    auto a = cogent::spawn([&] {
        for (long i = 0; i < n; ++i) {
            ping.put(v);
            v = pong.get();
        }
    });
    a.join();
    std::int64_t elapsed = bench::now_ns() - start;
    b.join();
    if (v != n) std::abort();
    return per_round_trip(elapsed, n);
}

double cogent_queue(long n, std::size_t maxsize) {
    cogent::queue<long> ping(maxsize), pong(maxsize);
    return cogent_queues(n, ping, pong);
}

double cogent_channel(long n) {
    cogent::channel<long> ping, pong;
    return cogent_queues(n, ping, pong);
}

// ---- Boost.Fiber --------------------------------------------------------------------------------

double boost_condition_variables(long n) {
    boost::fibers::mutex mutex;
    boost::fibers::condition_variable ping_cv, pong_cv;
    bool ping = false, pong = false;
    boost::fibers::fiber b([&] {
        std::unique_lock lock(mutex);
        for (long i = 0; i < n; ++i) {
            ping_cv.wait(lock, [&] { return ping; });
            ping = false;
            pong = true;
            pong_cv.notify_one();
        }
    });
    std::int64_t start = bench::now_ns();
    boost::fibers::fiber a([&] {
        std::unique_lock lock(mutex);
        for (long i = 0; i < n; ++i) {
            ping = true;
            ping_cv.notify_one();
            pong_cv.wait(lock, [&] { return pong; });
            pong = false;
        }
    });
    a.join();
    std::int64_t elapsed = bench::now_ns() - start;
    b.join();
    return per_round_trip(elapsed, n);
}

template <class Channel>
double boost_channels(long n, Channel& ping, Channel& pong) {
    boost::fibers::fiber b([&] {
        for (long i = 0; i < n; ++i) pong.push(ping.value_pop() + 1);
    });
    long v = 0;
    std::int64_t start = bench::now_ns();
    boost::fibers::fiber a([&] {
        for (long i = 0; i < n; ++i) {
            ping.push(v);
            v = pong.value_pop();
        }
    });
    a.join();
    std::int64_t elapsed = bench::now_ns() - start;
    b.join();
    if (v != n) std::abort();
    return per_round_trip(elapsed, n);
}

double boost_buffered(long n) {
    boost::fibers::buffered_channel<long> ping(2), pong(2);
    return boost_channels(n, ping, pong);
}

double boost_unbuffered(long n) {
    boost::fibers::unbuffered_channel<long> ping, pong;
    return boost_channels(n, ping, pong);
}

}  // namespace

int main(int argc, char** argv) {
    long round_trips = argc > 1 ? std::atol(argv[1]) : 1'000'000;
    int repetitions = argc > 2 ? std::atoi(argv[2]) : 7;
    if (round_trips < 10 || repetitions < 1) {
        std::fprintf(stderr, "usage: %s [round trips >= 10] [repetitions >= 1] [filter]\n", argv[0]);
        return 2;
    }
    auto go = [](const char* mode) {
        return [mode](long n, std::string& why) {
            return bench::run_go("pingpong", std::string(mode) + " " + std::to_string(n), why);
        };
    };
    const std::string c_event = "cogent::event set/wait/clear";
    const std::string c_queue = "cogent::queue<long> put/get, unbounded";
    const std::string c_queue1 = "cogent::queue<long>(1) put/get";
    const std::string c_channel = "cogent::channel<long> put/get (rendezvous)";
    const std::string b_cv = "boost mutex + condition_variable";
    const std::string b_buffered = "boost buffered_channel<long>(2)";
    const std::string b_unbuffered = "boost unbuffered_channel<long>";
    const std::string g_cond = "Go sync.Mutex + sync.Cond";
    const std::string g_buffered = "Go chan int, capacity 1";
    const std::string g_unbuffered = "Go chan int, unbuffered";
    std::vector<bench::variant> variants = {
        {c_event, [](long n, std::string&) { return cogent_events(n); }, {}, {}},
        {c_queue, [](long n, std::string&) { return cogent_queue(n, 0); }, {}, {}},
        {c_queue1, [](long n, std::string&) { return cogent_queue(n, 1); }, {}, {}},
        {c_channel, [](long n, std::string&) { return cogent_channel(n); }, {}, {}},
        {b_cv, [](long n, std::string&) { return boost_condition_variables(n); }, {}, {}},
        {b_buffered, [](long n, std::string&) { return boost_buffered(n); }, {}, {}},
        {b_unbuffered, [](long n, std::string&) { return boost_unbuffered(n); }, {}, {}},
        {g_cond, go("cond"), {}, {}},
        {g_buffered, go("buffered"), {}, {}},
        {g_unbuffered, go("unbuffered"), {}, {}},
    };
    if (argc > 3) bench::filter_variants(variants, argv[3]);

    bench::print_machine_line();
    bench::run_round_robin(variants, round_trips, repetitions, round_trips / 10);

    std::printf("bench_pingpong: %ld round trips (two hand-overs each) per repetition, median and best of %d\n",
                round_trips, repetitions);
    bench::print_table(variants, "ns/round trip");
    std::printf("\nratios (median against median)\n");
    bench::print_ratio(variants, c_event, b_cv);
    bench::print_ratio(variants, c_event, g_cond);
    bench::print_ratio(variants, c_queue, b_buffered);
    bench::print_ratio(variants, c_queue1, b_buffered);
    bench::print_ratio(variants, c_queue1, g_buffered);
    bench::print_ratio(variants, c_channel, b_unbuffered);
    bench::print_ratio(variants, c_channel, g_unbuffered);
    return 0;
}
