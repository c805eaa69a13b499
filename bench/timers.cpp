// bench_timers: a million timers in the hub's heap: inserting, firing and cancelling them, against
// Boost.Asio's steady_timer in the same process and Go's time.AfterFunc (GOMAXPROCS=1) in a
// subprocess.
//
// Two scenarios, each with the same pseudo-random delays on every side (splitmix64, computed
// before timing):
//   - fire: N timers due 1 s + random 0..10 ms from now, each running a callback that counts
//     (the last one wakes the waiting main greenlet). For cogent a timer with a callback is
//     spawn_later(delay, fn): a task that starts when its timer fires, as Go's AfterFunc starts a
//     goroutine; Asio runs a plain handler (no stack, no task), the least a timer can do.
//     Insertion is timed by the wall clock. Firing is timed as CPU: the process's user + system
//     time from the end of the inserts to the last callback, over N. The deadlines are spread
//     over more than the time firing takes, so the wall clock would measure the spread; the hub
//     sleeps (in epoll_wait) between due batches and that costs no CPU. The hub's share is
//     popping each timer off the heap and scheduling the task; the task's start, run and end
//     are the rest, and are included (as Go's goroutine per timer is).
//   - cancel: N timers due 1 s + random 0..10 ms from now, then each cancelled, in a random order.
//     For cogent a cogent::timeout scope (arm on construction, cancel() disarms): the heap alone,
//     with no task and no allocation per timer. Asio: expires_after + async_wait, then cancel()
//     (which queues each handler with operation_aborted: the drain that runs them is shown on its
//     own line). Go: AfterFunc, then Stop().
//
// Every cogent run happens in a fresh thread, so with a fresh hub whose heap starts empty, as
// every peer's does (a new io_context, a new Go process): growing the heap is part of inserting.
// Before the scenarios, a probe inserts 10,000, 20,000 and 40,000 timeout scopes into fresh hubs
// (the least of three runs each):
// the cost per insert should hardly grow with the heap's size (O(log n) sifting, amortised O(1)
// growth). If it grows in proportion instead (quadratic insertion), the cogent scenarios are
// skipped when they would take more than a minute, and the probe says so.
//
//   bench_timers [timers, default 1000000] [repetitions, default 5] [filter]
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cogent/sleep.hpp>
#include <cogent/task.hpp>
#include <cogent/timeout.hpp>
#include <cogent/waiter.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "bench_common.hpp"
#include "hub_bench.hpp"

using namespace std::chrono_literals;

namespace {

// The same generator as bench/go/timers/main.go.
struct splitmix {
    std::uint64_t state;
    std::uint64_t next() {
        state += 0x9e3779b97f4a7c15;
        std::uint64_t z = state;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
        z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
        return z ^ (z >> 31);
    }
};

std::vector<cogent::duration> delays(long n, cogent::duration base) {
    splitmix r{42};
    std::vector<cogent::duration> d(static_cast<std::size_t>(n));
    for (auto& x : d) x = base + cogent::duration(static_cast<std::int64_t>(r.next() % 10'000'000));
    return d;
}

std::vector<std::size_t> permutation(long n) {
    splitmix r{7};
    std::vector<std::size_t> p(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = i;
    for (std::size_t i = p.size() - 1; i > 0; --i) std::swap(p[i], p[r.next() % (i + 1)]);
    return p;
}

// The process's CPU time, as the Go peer reads it (RUSAGE_SELF).
std::int64_t process_cpu_ns() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto ns = [](const timeval& tv) {
        return static_cast<std::int64_t>(tv.tv_sec) * 1'000'000'000 + static_cast<std::int64_t>(tv.tv_usec) * 1000;
    };
    return ns(usage.ru_utime) + ns(usage.ru_stime);
}

// What one run of a scenario measured, in nanoseconds per timer.
struct result {
    double insert = 0;
    double second = 0;  // fire (CPU) or cancel
    double third = 0;   // Asio's drain of cancelled handlers; Go: timers fired during inserting
};

result cogent_fire(long n) {
    std::vector<cogent::duration> d = delays(n, 1s);
    long fired = 0;
    cogent::waiter done("all timers fired");
    auto callback = [&fired, &done, n] {
        if (++fired == n) done.wake();
    };
    std::int64_t start = bench::now_ns();
    for (long i = 0; i < n; ++i) cogent::spawn_later(d[static_cast<std::size_t>(i)], callback);
    std::int64_t inserted = bench::now_ns();
    std::int64_t cpu = process_cpu_ns();
    done.wait();
    std::int64_t cpu_fired = process_cpu_ns() - cpu;
    if (fired != n) std::abort();
    return {static_cast<double>(inserted - start) / static_cast<double>(n),
            static_cast<double>(cpu_fired) / static_cast<double>(n), 0};
}

result cogent_cancel(long n) {
    std::vector<cogent::duration> d = delays(n, 1s);
    std::vector<std::size_t> order = permutation(n);
    // The scopes live in one array, built in place: a timeout is neither copyable nor movable.
    std::unique_ptr<std::byte[]> storage(new std::byte[sizeof(cogent::timeout) * static_cast<std::size_t>(n)]);
    auto* scopes = reinterpret_cast<cogent::timeout*>(storage.get());
    cogent::yield();  // start the hub outside the timed region
    std::int64_t start = bench::now_ns();
    for (long i = 0; i < n; ++i) new (&scopes[i]) cogent::timeout(d[static_cast<std::size_t>(i)]);
    std::int64_t inserted = bench::now_ns();
    for (std::size_t i : order) scopes[i].cancel();
    std::int64_t cancelled = bench::now_ns();
    for (long i = n - 1; i >= 0; --i) scopes[i].~timeout();  // inner scopes first, as they nest
    return {static_cast<double>(inserted - start) / static_cast<double>(n),
            static_cast<double>(cancelled - inserted) / static_cast<double>(n), 0};
}

result asio_fire(long n) {
    std::vector<cogent::duration> d = delays(n, 1s);
    boost::asio::io_context io(1);
    std::vector<boost::asio::steady_timer> timers;
    timers.reserve(static_cast<std::size_t>(n));
    for (long i = 0; i < n; ++i) timers.emplace_back(io);
    long fired = 0;
    std::int64_t start = bench::now_ns();
    for (long i = 0; i < n; ++i) {
        auto& t = timers[static_cast<std::size_t>(i)];
        t.expires_after(d[static_cast<std::size_t>(i)]);
        t.async_wait([&fired](const boost::system::error_code&) { ++fired; });
    }
    std::int64_t inserted = bench::now_ns();
    std::int64_t cpu = process_cpu_ns();
    io.run();
    std::int64_t cpu_fired = process_cpu_ns() - cpu;
    if (fired != n) std::abort();
    return {static_cast<double>(inserted - start) / static_cast<double>(n),
            static_cast<double>(cpu_fired) / static_cast<double>(n), 0};
}

result asio_cancel(long n) {
    std::vector<cogent::duration> d = delays(n, 1s);
    std::vector<std::size_t> order = permutation(n);
    boost::asio::io_context io(1);
    std::vector<boost::asio::steady_timer> timers;
    timers.reserve(static_cast<std::size_t>(n));
    for (long i = 0; i < n; ++i) timers.emplace_back(io);
    long aborted = 0;
    std::int64_t start = bench::now_ns();
    for (long i = 0; i < n; ++i) {
        auto& t = timers[static_cast<std::size_t>(i)];
        t.expires_after(d[static_cast<std::size_t>(i)]);
        t.async_wait([&aborted](const boost::system::error_code& ec) { aborted += ec ? 1 : 0; });
    }
    std::int64_t inserted = bench::now_ns();
    for (std::size_t i : order) timers[i].cancel();
    std::int64_t cancelled = bench::now_ns();
    io.run();
    std::int64_t drained = bench::now_ns();
    if (aborted != n) std::abort();
    return {static_cast<double>(inserted - start) / static_cast<double>(n),
            static_cast<double>(cancelled - inserted) / static_cast<double>(n),
            static_cast<double>(drained - cancelled) / static_cast<double>(n)};
}

std::optional<result> go_scenario(const char* mode, long n, std::string& why) {
    std::optional<std::vector<double>> values =
        bench::run_go_values("timers", std::string(mode) + " " + std::to_string(n), why);
    if (!values || values->size() < 2) return std::nullopt;
    return result{(*values)[0], (*values)[1], values->size() > 2 ? (*values)[2] : 0};
}

// Runs `fn` in a new thread, which gets its own hub (made on first use, destroyed at its exit).
template <class F>
auto in_fresh_thread(F fn) {
    decltype(fn()) value{};
    std::thread worker([&] { value = fn(); });
    worker.join();
    return value;
}

// Nanoseconds per insert of `n` timeout scopes into a fresh hub's empty heap.
double insert_probe(long n) {
    return in_fresh_thread([n] { return cogent_cancel(n).insert; });
}

struct scenario {
    std::string name;
    std::function<std::optional<result>(long n, std::string& why)> run;
    bench::samples insert, second, third;
    std::string skipped;
};

}  // namespace

int main(int argc, char** argv) {
    long n = argc > 1 ? std::atol(argv[1]) : 1'000'000;
    int repetitions = argc > 2 ? std::atoi(argv[2]) : 5;
    if (n < 10 || repetitions < 1) {
        std::fprintf(stderr, "usage: %s [timers >= 10] [repetitions >= 1] [filter]\n", argv[0]);
        return 2;
    }
    bench::print_machine_line();
    // The probe: does inserting stay O(log n) per timer as the heap grows from empty?
    std::printf("heap growth probe: timeout scopes inserted into a fresh hub, ns per insert:");
    double probe_small = 0, probe_large = 0;
    for (long k : {10'000L, 20'000L, 40'000L}) {
        double ns = std::min({insert_probe(k), insert_probe(k), insert_probe(k)});  // the least noisy of three
        if (k == 10'000) probe_small = ns;
        probe_large = ns;
        std::printf("  %ld: %.1f", k, ns);
        std::fflush(stdout);
    }
    // A healthy heap costs O(log n) per insert: 40,000 against 10,000 adds two levels, a few per
    // cent. Insertion that copies the heap as it grows costs in proportion to n per insert:
    // extrapolate that line to n timers, and sum it.
    // (Noise can make a healthy 40,000 look slow; a copying heap costs microseconds there.)
    bool quadratic = probe_large > 1.8 * probe_small && probe_large > 2000;
    double slope = (probe_large - probe_small) / 30'000.0;  // ns per insert, per timer in the heap
    double at_n = probe_large + slope * (static_cast<double>(n) - 40'000.0);
    double estimated_seconds = quadratic ? static_cast<double>(n) * (probe_small + at_n) / 2 * 1e-9
                                         : probe_large * static_cast<double>(n) * 1e-9;
    std::printf("\n  -> %s; inserting %ld would take about %.3g s\n",
                quadratic ? "QUADRATIC: the cost per insert grows with the heap's size" : "flat, as it should be", n,
                estimated_seconds);
    std::string cogent_skip;
    if (estimated_seconds > 60) cogent_skip = "the heap's insertion is quadratic at this size: run with fewer timers";

    auto cogent = [&cogent_skip](result (*fn)(long)) {
        return [&cogent_skip, fn](long k, std::string& why) -> std::optional<result> {
            if (!cogent_skip.empty()) {
                why = cogent_skip;
                return std::nullopt;
            }
            return in_fresh_thread([fn, k] { return fn(k); });
        };
    };
    std::vector<scenario> scenarios = {
        {"cogent spawn_later (fire)", cogent(cogent_fire), {}, {}, {}, {}},
        {"asio steady_timer + async_wait (fire)", [](long k, std::string&) { return std::optional(asio_fire(k)); }, {}, {}, {}, {}},
        {"Go time.AfterFunc (fire)", [](long k, std::string& why) { return go_scenario("fire", k, why); }, {}, {}, {}, {}},
        {"cogent timeout scope (cancel)", cogent(cogent_cancel), {}, {}, {}, {}},
        {"asio steady_timer + async_wait (cancel)", [](long k, std::string&) { return std::optional(asio_cancel(k)); }, {}, {}, {}, {}},
        {"Go time.AfterFunc + Stop (cancel)", [](long k, std::string& why) { return go_scenario("cancel", k, why); }, {}, {}, {}, {}},
    };
    if (argc > 3) std::erase_if(scenarios, [&](const scenario& s) { return s.name.find(argv[3]) == std::string::npos; });

    for (scenario& s : scenarios) {  // warm-up: a tenth as many
        std::string why;
        if (!s.run(n / 10, why)) s.skipped = why.empty() ? "cannot run" : why;
    }
    for (int rep = 0; rep < repetitions; ++rep) {
        for (scenario& s : scenarios) {
            if (!s.skipped.empty()) continue;
            std::string why;
            std::optional<result> r = s.run(n, why);
            if (!r) {
                s.skipped = why.empty() ? "failed" : why;
                continue;
            }
            s.insert.add(r->insert);
            s.second.add(r->second);
            s.third.add(r->third);
        }
    }

    std::printf("bench_timers: %ld timers, due 1 s + random 0..10 ms, median (best) of %d repetitions, ns per timer\n",
                n, repetitions);
    std::printf("\n%-42s %18s %22s %18s\n", "scenario", "insert (wall)", "fire (CPU) / cancel", "");
    for (const scenario& s : scenarios) {
        if (!s.skipped.empty() || s.insert.values.empty()) {
            std::printf("%-42s skipped (%s)\n", s.name.c_str(), s.skipped.c_str());
            continue;
        }
        std::printf("%-42s %9.1f (%6.1f) %13.1f (%6.1f)", s.name.c_str(), s.insert.median(), s.insert.best(),
                    s.second.median(), s.second.best());
        if (s.name.rfind("asio", 0) == 0 && s.name.find("cancel") != std::string::npos) {
            std::printf("   drain of aborted handlers %.1f (%.1f)", s.third.median(), s.third.best());
        } else if (s.name.rfind("Go", 0) == 0 && s.name.find("fire") != std::string::npos) {
            std::printf("   fired while inserting: %.0f", s.third.median());
        }
        std::printf("\n");
    }

    auto ratio = [&](const char* what, const std::string& a, const std::string& b, bool insert) {
        const scenario* x = nullptr;
        const scenario* y = nullptr;
        for (const scenario& s : scenarios) {
            if (!s.skipped.empty() || s.insert.values.empty()) continue;
            if (s.name == a) x = &s;
            if (s.name == b) y = &s;
        }
        if (x == nullptr || y == nullptr) return;
        const bench::samples& xs = insert ? x->insert : x->second;
        const bench::samples& ys = insert ? y->insert : y->second;
        std::printf("  %-7s %5.2f (best/best %5.2f)  %s / %s\n", what, xs.median() / ys.median(), xs.best() / ys.best(),
                    a.c_str(), b.c_str());
    };
    std::printf("\nratios (median against median)\n");
    for (const char* peer : {"asio steady_timer + async_wait", "Go time.AfterFunc"}) {
        ratio("insert", "cogent spawn_later (fire)", std::string(peer) + " (fire)", true);
        ratio("fire", "cogent spawn_later (fire)", std::string(peer) + " (fire)", false);
    }
    ratio("insert", "cogent timeout scope (cancel)", "asio steady_timer + async_wait (cancel)", true);
    ratio("cancel", "cogent timeout scope (cancel)", "asio steady_timer + async_wait (cancel)", false);
    ratio("insert", "cogent timeout scope (cancel)", "Go time.AfterFunc + Stop (cancel)", true);
    ratio("cancel", "cogent timeout scope (cancel)", "Go time.AfterFunc + Stop (cancel)", false);
    return 0;
}
