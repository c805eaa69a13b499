// bench_socket_pingpong: what one request-response round trip over a loopback TCP connection
// costs in cogent's socket layer and hub, on the backend named in COGENT_BACKEND (epoll unless
// set). Two tasks in one thread: the client writes `size` bytes and reads them back, the server
// reads and writes them back. Every round trip is two sends, two receives and two parks, so it
// exercises the hot path of a busy connection (native io_uring operations, or readiness waits
// and retries) and little else. There is no peer: the program exists to count instructions
// (valgrind --tool=callgrind; see docs/benchmarks.md) and to time one version against another.
//
//   bench_socket_pingpong [round trips, default 100000] [message size, default 64]
#include <cogent/hub.hpp>
#include <cogent/task.hpp>
#include <cogent/tcp.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench_common.hpp"

int main(int argc, char** argv) {
    const long trips = argc > 1 ? std::atol(argv[1]) : 100000;
    const std::size_t size = argc > 2 ? static_cast<std::size_t>(std::atol(argv[2])) : 64;
    cogent::tcp_listener listener = cogent::tcp_listener::bind(cogent::endpoint::loopback(0));
    const std::uint16_t port = listener.local_endpoint().port();

    auto server = cogent::spawn([&] {
        cogent::tcp_stream peer = listener.accept(std::chrono::seconds(10));
        peer.set_nodelay(true);
        std::string buffer(size, '\0');
        for (long i = 0; i < trips; ++i) {
            peer.read_exact({buffer.data(), size}, std::chrono::seconds(10));
            peer.write_all(buffer, std::chrono::seconds(10));
        }
    });
    cogent::tcp_stream client = cogent::tcp_stream::connect(cogent::endpoint::loopback(port), std::chrono::seconds(10));
    client.set_nodelay(true);
    std::string message(size, 'x');
    std::string reply(size, '\0');
    const std::int64_t start = bench::now_ns();
    for (long i = 0; i < trips; ++i) {
        client.write_all(message, std::chrono::seconds(10));
        client.read_exact({reply.data(), size}, std::chrono::seconds(10));
    }
    const std::int64_t elapsed = bench::now_ns() - start;
    server.get();
    std::printf("bench_socket_pingpong %s: %ld round trips of %zu bytes, %.2f us per round trip\n",
                std::string(cogent::to_string(cogent::current_backend())).c_str(), trips, size,
                static_cast<double>(elapsed) / 1e3 / static_cast<double>(trips));
    return 0;
}
