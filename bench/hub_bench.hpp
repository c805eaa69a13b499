// Helpers shared by the hub's benchmarks (bench_yield, bench_spawn_join, bench_timers,
// bench_pingpong, bench_backend_scaling): running a Go peer as a subprocess, a thread's CPU time,
// and the round-robin table of variants that the greenlet benchmarks also use.
#pragma once

#include <sys/resource.h>
#include <sys/time.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace bench {

// CPU time (user + system) this thread has used, in nanoseconds. getrusage reports microseconds.
inline std::int64_t thread_cpu_ns() {
    rusage usage{};
    getrusage(RUSAGE_THREAD, &usage);
    auto ns = [](const timeval& tv) {
        return static_cast<std::int64_t>(tv.tv_sec) * 1'000'000'000 + static_cast<std::int64_t>(tv.tv_usec) * 1000;
    };
    return ns(usage.ru_utime) + ns(usage.ru_stime);
}

// The path of a Go peer built by bench/CMakeLists.txt, or nullptr when `go` was not found.
// BENCH_GO_DIR is the build directory the Go programs are written to.
inline const char* go_peer_dir() {
#ifdef BENCH_GO_DIR
    return BENCH_GO_DIR;
#else
    return nullptr;
#endif
}

// Runs one Go peer (`go_<name>` in the build tree) with `args` and GOMAXPROCS=1, and returns the
// numbers it prints (for one repetition: nanoseconds per operation, and whatever else the peer
// documents). Empty, with the reason in `why`, if there is no Go peer or it failed. The Go
// programs time themselves, after their own warm-up pass; starting the process is not timed.
inline std::optional<std::vector<double>> run_go_values(const char* name, const std::string& args, std::string& why) {
    const char* dir = go_peer_dir();
    if (dir == nullptr) {
        why = "go was not found when the benchmarks were configured";
        return std::nullopt;
    }
    std::string path = std::string(dir) + "/go_" + name;
    if (access(path.c_str(), X_OK) != 0) {
        why = path + " is missing (build the target bench_go_" + name + ")";
        return std::nullopt;
    }
    std::string command = "GOMAXPROCS=1 '" + path + "' " + args;
    std::FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) {
        why = std::string("popen: ") + std::strerror(errno);
        return std::nullopt;
    }
    std::vector<double> values;
    double value = 0;
    while (std::fscanf(pipe, "%lf", &value) == 1) values.push_back(value);
    int status = pclose(pipe);
    if (values.empty() || status != 0) {
        why = command + " failed (status " + std::to_string(status) + ")";
        return std::nullopt;
    }
    return values;
}

// The first number a Go peer prints: nanoseconds per operation.
inline std::optional<double> run_go(const char* name, const std::string& args, std::string& why) {
    std::optional<std::vector<double>> values = run_go_values(name, args, why);
    if (!values) return std::nullopt;
    return values->front();
}

// One measured thing: a name and a function that runs it once and returns the time per operation
// (nanoseconds), or nullopt with a reason when it cannot run here (a peer that is absent).
struct variant {
    std::string name;
    std::function<std::optional<double>(long operations, std::string& why)> run;
    samples ns;
    std::string skipped;  // why it did not run; empty if it did
};

// Runs every variant `repetitions` times, round-robin (so that a noisy spell of the machine
// spreads over all of them), after one untimed pass of `warm_up` operations each. A variant that
// cannot run is dropped after its first refusal.
inline void run_round_robin(std::vector<variant>& variants, long operations, int repetitions, long warm_up) {
    for (variant& v : variants) {
        std::string why;
        if (!v.run(warm_up, why)) v.skipped = why.empty() ? "cannot run" : why;
    }
    for (int rep = 0; rep < repetitions; ++rep) {
        for (variant& v : variants) {
            if (!v.skipped.empty()) continue;
            std::string why;
            std::optional<double> ns = v.run(operations, why);
            if (!ns) {
                v.skipped = why.empty() ? "failed" : why;
                continue;
            }
            v.ns.add(*ns);
        }
    }
}

// Prints "name  median  best" rows; a skipped variant prints its reason instead.
inline void print_table(const std::vector<variant>& variants, const char* unit) {
    std::printf("\n%-52s %12s %12s\n", "variant", (std::string("median ") + unit).c_str(), "best");
    for (const variant& v : variants) {
        if (!v.skipped.empty() || v.ns.values.empty()) {
            std::printf("%-52s %12s   (%s)\n", v.name.c_str(), "skipped", v.skipped.c_str());
            continue;
        }
        std::printf("%-52s %12.1f %12.1f\n", v.name.c_str(), v.ns.median(), v.ns.best());
    }
}

inline const variant* find_variant(const std::vector<variant>& variants, const std::string& name) {
    for (const variant& v : variants) {
        if (v.name == name && v.skipped.empty() && !v.ns.values.empty()) return &v;
    }
    return nullptr;
}

// Prints "a / b = median ratio (best ratio)" if both ran.
inline void print_ratio(const std::vector<variant>& variants, const std::string& a, const std::string& b) {
    const variant* x = find_variant(variants, a);
    const variant* y = find_variant(variants, b);
    if (x == nullptr || y == nullptr) return;
    std::printf("  %5.2f (best/best %5.2f)  %s / %s\n", x->ns.median() / y->ns.median(), x->ns.best() / y->ns.best(),
                a.c_str(), b.c_str());
}

// Keeps the variants whose name contains `filter` (for callgrind runs of one variant).
inline void filter_variants(std::vector<variant>& variants, const char* filter) {
    std::erase_if(variants, [&](const variant& v) { return v.name.find(filter) == std::string::npos; });
}

// "machine: ..." line: the date, kernel and load, for the record.
inline void print_machine_line() {
    double load[3] = {0, 0, 0};
    if (getloadavg(load, 3) < 0) load[0] = load[1] = load[2] = -1;
    std::printf("load average %.2f %.2f %.2f at start\n", load[0], load[1], load[2]);
}

}  // namespace bench
