// bench_accept_rate: connections accepted per second on io_uring, with the listener's multishot
// accept (one armed accept, each connection a completion) against one accept submitted per
// connection (COGENT_IO_URING_MULTISHOT_ACCEPT=0), in the same run.
//
// One thread per measurement, with a hub of its own (the setting is read when the hub is made).
// In it, `clients` tasks connect over loopback TCP in a loop, each waiting for its connection to
// be reset, while one task accepts and resets each connection at once (SO_LINGER 0, so that
// neither side is left in TIME_WAIT and the run cannot run out of ports). Clients and server
// share the thread, so the CPU time per connection (user and system, of that thread: steadier than
// elapsed time on a busy machine) is the whole exchange's; the difference between the two lines is
// the accept's. The multishot accept asks getpeername(2) for each peer, which a
// single-shot accept gets written for free; that is part of what is compared.
//
//   bench_accept_rate [connections, default 20000] [clients, default 8] [mode: both|multishot|single]
//
// A single mode runs once without repetitions: for instruction counts under callgrind.
#include <cogent/hub.hpp>
#include <cogent/task.hpp>
#include <cogent/tcp.hpp>

#include <stdlib.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "bench_common.hpp"

namespace {

// The calling thread's CPU time (user and system) in nanoseconds: on a loaded machine a steadier
// measure than elapsed time, and it includes the kernel's share of each system call.
std::int64_t thread_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// CPU nanoseconds per connection, on a fresh thread whose io_uring hub accepts the way
// `multishot` says.
double run(bool multishot, long connections, int clients) {
    ::setenv("COGENT_IO_URING_MULTISHOT_ACCEPT", multishot ? "1" : "0", 1);
    double per_connection = 0;
    std::thread thread([&] {
        cogent::hub_options options;
        options.backend = cogent::backend_kind::io_uring;
        cogent::start_hub(options);
        const auto patience = std::chrono::seconds(10);
        cogent::tcp_listener listener = cogent::tcp_listener::bind(cogent::endpoint::loopback(0));
        const cogent::endpoint address = listener.local_endpoint();
        const std::int64_t start = thread_cpu_ns();
        auto server = cogent::spawn([&] {
            for (long i = 0; i < connections; ++i) {
                cogent::endpoint peer;
                cogent::tcp_stream s = listener.accept(peer, patience);
                s.set_linger(std::chrono::seconds(0));
            }
        });
        std::vector<cogent::task<void>> connectors;
        for (int c = 0; c < clients; ++c) {
            connectors.push_back(cogent::spawn([&, c] {
                const long mine = connections / clients + (c < connections % clients ? 1 : 0);
                for (long i = 0; i < mine; ++i) {
                    // The server may accept and reset the connection before the connect has
                    // seen it complete: that connect fails with ECONNRESET, and counts.
                    std::error_code ec;
                    cogent::tcp_stream s = cogent::tcp_stream::connect(address, patience, ec);
                    if (ec && ec != std::errc::connection_reset) throw std::system_error(ec, "connect");
                    char byte;
                    if (!ec) s.read_some({&byte, 1}, patience, ec);  // the server's reset, or its end
                }
            }));
        }
        server.get();
        for (auto& t : connectors) t.get();
        per_connection = static_cast<double>(thread_cpu_ns() - start) / static_cast<double>(connections);
    });
    thread.join();
    return per_connection;
}

}  // namespace

int main(int argc, char** argv) {
    const long connections = argc > 1 ? std::atol(argv[1]) : 20000;
    const int clients = argc > 2 ? std::atoi(argv[2]) : 8;
    const std::string mode = argc > 3 ? argv[3] : "both";
    if (mode != "both") {
        const double ns = run(mode == "multishot", connections, clients);
        std::printf("bench_accept_rate %s: %ld connections, %d clients: %.2f us of CPU per connection\n", mode.c_str(),
                    connections, clients, ns / 1e3);
        return 0;
    }
    bench::samples multishot, single;
    for (int repetition = 0; repetition < 5; ++repetition) {
        multishot.add(run(true, connections, clients));
        single.add(run(false, connections, clients));
    }
    std::printf("bench_accept_rate: %ld connections, %d clients, 5 repetitions: CPU time per connection (best, median)\n",
                connections, clients);
    std::printf("  multishot accept  : %.2f us  %.2f us\n", multishot.best() / 1e3, multishot.median() / 1e3);
    std::printf("  single-shot accept: %.2f us  %.2f us\n", single.best() / 1e3, single.median() / 1e3);
    std::printf("  multishot / single-shot (best): %.3f\n", multishot.best() / single.best());
    return 0;
}
