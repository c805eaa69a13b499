// bench_backend_scaling: does a backend's cost grow with the number of fds it watches? The seed
// claims select's and poll's do and epoll's does not; this measures it for every backend.
//
// For each backend and each N, in a fresh thread (a hub is per thread, so each gets its own, made
// by cogent::start_hub({.backend = kind})):
//   - N idle fds: N tasks, each parked in cogent::wait_readable on its own eventfd that is never
//     written (an eventfd rather than a pipe: one fd per idle waiter, so 10,000 of them fit the
//     descriptor limit);
//   - one active connection: a socketpair, and two greenlets bouncing a byte over it (the
//     thread's main greenlet writes a byte and waits for the echo; an echo task waits, reads and
//     writes it back). Nothing else is ever ready, so each hop parks its sender and the hub polls
//     the backend with all N + 2 fds watched to find the other side's wake-up: two polls per round
//     trip. The data is always there when the hub polls, so the poll never sleeps; what it costs
//     is the backend's work.
// Reported per backend and N: the round trip's latency (median and 90th percentile of every round
// trip timed), and the thread's CPU time (getrusage RUSAGE_THREAD, user + system) over the round
// trips divided by the wake-ups (two per round trip). The CPU figure includes each hop's own read
// and write calls; what grows with N is the backend's.
//
// select handles fds below FD_SETSIZE (1024) only, so its N stops at 1,000 (fewer if the process
// already has more than a few fds open). The soft RLIMIT_NOFILE is raised to the hard limit.
// A backend that cannot be made here (make_backend throws backend_error) is skipped, with why.
//
//   bench_backend_scaling [output .dat file, default backend_scaling.dat] [max seconds per point,
//                         default 2] [backends, comma-separated, default all] [Ns, comma-separated]
// The .dat file has one block per backend (gnuplot's `index`), plotted by
// bench/plot_backend_scaling.sh.
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cogent/errors.hpp>
#include <cogent/hub.hpp>
#include <cogent/io_wait.hpp>
#include <cogent/sleep.hpp>
#include <cogent/task.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "bench_common.hpp"
#include "hub_bench.hpp"

namespace {

constexpr long warm_up_round_trips = 200;
constexpr long max_round_trips = 20'000;
constexpr long min_round_trips = 200;

struct point {
    cogent::backend_kind kind;
    long requested = 0;
    long idle = 0;  // how many idle fds it really had
    std::string skipped;
    long round_trips = 0;
    double rt_median_ns = 0;
    double rt_p90_ns = 0;
    double cpu_per_wake_ns = 0;
    double setup_ms = 0;
};

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "bench_backend_scaling: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}

// Reads one byte, parking until the fd is readable. Waits only after a read has returned EAGAIN,
// as the edge-triggered backend requires.
char read_byte(int fd) {
    for (;;) {
        char c = 0;
        ssize_t n = ::read(fd, &c, 1);
        if (n == 1) return c;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
            cogent::wait_readable(fd);
            continue;
        }
        die("read");
    }
}

void write_byte(int fd, char c) {
    // A socket buffer holding at most one byte in flight is never full.
    if (::write(fd, &c, 1) != 1) die("write");
}

// One (backend, N) measurement; runs in its own thread, which owns its hub.
void measure(point& p, double max_seconds) {
    try {
        // Not start_hub({.backend = p.kind}): g++ -Wextra warns of the members left out.
        cogent::hub_options options;
        options.backend = p.kind;
        cogent::start_hub(options);
    } catch (const cogent::backend_error& e) {
        p.skipped = e.what();
        return;
    }
    std::int64_t setup_start = bench::now_ns();

    // The idle fds. select cannot watch an fd at or above FD_SETSIZE: stop short of it, leaving
    // room for the socketpair.
    std::vector<int> idle_fds;
    idle_fds.reserve(static_cast<std::size_t>(p.requested));
    for (long i = 0; i < p.requested; ++i) {
        int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0) die("eventfd");
        if (p.kind == cogent::backend_kind::select && fd >= FD_SETSIZE - 2) {
            ::close(fd);
            break;
        }
        idle_fds.push_back(fd);
    }
    p.idle = static_cast<long>(idle_fds.size());
    std::vector<cogent::task<void>> idlers;
    idlers.reserve(idle_fds.size());
    for (int fd : idle_fds) {
        idlers.push_back(cogent::spawn([fd] {
            std::uint64_t value;
            if (::read(fd, &value, sizeof value) >= 0 || errno != EAGAIN) die("idle eventfd read");
            std::error_code ec;
            cogent::wait_readable(fd, cogent::forever, ec);  // woken only by notify_close at the end
        }));
    }

    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) != 0) die("socketpair");
    auto echo = cogent::spawn([fd = pair[1]] {
        for (;;) {
            char c = read_byte(fd);
            if (c == 0) return;
            write_byte(fd, c);
        }
    });
    cogent::yield();  // every idler and the echo task run once and park
    p.setup_ms = static_cast<double>(bench::now_ns() - setup_start) / 1e6;

    for (long i = 0; i < warm_up_round_trips; ++i) {
        write_byte(pair[0], 'x');
        read_byte(pair[0]);
    }
    std::vector<std::int64_t> latencies;
    latencies.reserve(max_round_trips);
    std::int64_t deadline = bench::now_ns() + static_cast<std::int64_t>(max_seconds * 1e9);
    std::int64_t cpu_start = bench::thread_cpu_ns();
    for (long i = 0; i < max_round_trips; ++i) {
        std::int64_t t0 = bench::now_ns();
        write_byte(pair[0], 'x');
        read_byte(pair[0]);
        std::int64_t t1 = bench::now_ns();
        latencies.push_back(t1 - t0);
        if (t1 > deadline && i + 1 >= min_round_trips) break;
    }
    std::int64_t cpu = bench::thread_cpu_ns() - cpu_start;

    write_byte(pair[0], 0);  // the echo task ends
    echo.join();
    for (int fd : idle_fds) cogent::notify_close(fd);
    for (auto& t : idlers) t.join();
    for (int fd : idle_fds) ::close(fd);
    cogent::notify_close(pair[0]);
    cogent::notify_close(pair[1]);
    ::close(pair[0]);
    ::close(pair[1]);

    p.round_trips = static_cast<long>(latencies.size());
    std::sort(latencies.begin(), latencies.end());
    p.rt_median_ns = static_cast<double>(latencies[latencies.size() / 2]);
    p.rt_p90_ns = static_cast<double>(latencies[latencies.size() * 9 / 10]);
    p.cpu_per_wake_ns = static_cast<double>(cpu) / static_cast<double>(2 * p.round_trips);
}

std::vector<std::string> split(const std::string& text) {
    std::vector<std::string> parts;
    std::stringstream in(text);
    std::string part;
    while (std::getline(in, part, ',')) {
        if (!part.empty()) parts.push_back(part);
    }
    return parts;
}

}  // namespace

int main(int argc, char** argv) {
    std::string dat_path = argc > 1 ? argv[1] : "backend_scaling.dat";
    double max_seconds = argc > 2 ? std::atof(argv[2]) : 2.0;
    std::vector<cogent::backend_kind> kinds = {cogent::backend_kind::select, cogent::backend_kind::poll,
                                               cogent::backend_kind::epoll, cogent::backend_kind::epoll_et,
                                               cogent::backend_kind::io_uring};
    if (argc > 3) {
        kinds.clear();
        for (const std::string& name : split(argv[3])) {
            std::optional<cogent::backend_kind> kind = cogent::parse_backend(name);
            if (!kind) {
                std::fprintf(stderr, "%s: no backend called %s\n", argv[0], name.c_str());
                return 2;
            }
            kinds.push_back(*kind);
        }
    }
    std::vector<long> ns = {10, 100, 1000, 10000};
    if (argc > 4) {
        ns.clear();
        for (const std::string& n : split(argv[4])) ns.push_back(std::atol(n.c_str()));
    }
    if (max_seconds <= 0 || kinds.empty() || ns.empty()) {
        std::fprintf(stderr, "usage: %s [out.dat] [max seconds per point] [backends,...] [N,...]\n", argv[0]);
        return 2;
    }

    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
    getrlimit(RLIMIT_NOFILE, &limit);

    bench::print_machine_line();
    std::printf("bench_backend_scaling: N idle fds + 1 socketpair ping-pong; RLIMIT_NOFILE %llu; up to %ld round trips "
                "or %.1f s per point\n",
                static_cast<unsigned long long>(limit.rlim_cur), max_round_trips, max_seconds);
    std::printf("\n%-9s %6s %6s %8s %13s %13s %16s %10s\n", "backend", "N", "idle", "trips", "RT median us",
                "RT p90 us", "CPU/wake-up us", "setup ms");
    std::fflush(stdout);

    std::vector<point> points;
    for (cogent::backend_kind kind : kinds) {
        for (long n : ns) {
            if (kind == cogent::backend_kind::select && n >= FD_SETSIZE) {
                std::printf("%-9s %6ld   skipped: select only watches fds below FD_SETSIZE (%d)\n",
                            cogent::to_string(kind), n, FD_SETSIZE);
                continue;
            }
            point p{kind, n, 0, {}, 0, 0, 0, 0, 0};
            if (static_cast<rlim_t>(n) + 64 > limit.rlim_cur) {
                p.skipped = "RLIMIT_NOFILE is too low";
            } else {
                std::thread worker([&p, max_seconds] { measure(p, max_seconds); });
                worker.join();
            }
            if (!p.skipped.empty()) {
                std::printf("%-9s %6ld   skipped: %s\n", cogent::to_string(kind), n, p.skipped.c_str());
                std::fflush(stdout);
                points.push_back(p);
                break;  // the same reason holds for every N
            }
            std::printf("%-9s %6ld %6ld %8ld %13.2f %13.2f %16.2f %10.1f\n", cogent::to_string(kind), n, p.idle,
                        p.round_trips, p.rt_median_ns / 1e3, p.rt_p90_ns / 1e3, p.cpu_per_wake_ns / 1e3, p.setup_ms);
            std::fflush(stdout);
            points.push_back(p);
        }
    }

    // The .dat file: a block per backend that ran, its first line the backend's name (gnuplot's
    // columnheader), then "idle_fds rt_median_us rt_p90_us cpu_per_wakeup_us".
    std::FILE* dat = std::fopen(dat_path.c_str(), "w");
    if (dat == nullptr) die(dat_path.c_str());
    std::fprintf(dat, "# bench_backend_scaling: idle fds, round-trip median and p90 (us), CPU per wake-up (us)\n");
    bool first_block = true;
    for (cogent::backend_kind kind : kinds) {
        bool any = false;
        for (const point& p : points) any = any || (p.kind == kind && p.skipped.empty());
        if (!any) continue;
        if (!first_block) std::fprintf(dat, "\n\n");
        first_block = false;
        std::fprintf(dat, "%s rt_median_us rt_p90_us cpu_per_wakeup_us\n", cogent::to_string(kind));
        for (const point& p : points) {
            if (p.kind != kind || !p.skipped.empty()) continue;
            std::fprintf(dat, "%ld %.3f %.3f %.3f\n", p.idle, p.rt_median_ns / 1e3, p.rt_p90_ns / 1e3,
                         p.cpu_per_wake_ns / 1e3);
        }
    }
    std::fclose(dat);
    std::printf("\nwrote %s\n", dat_path.c_str());
    return 0;
}
