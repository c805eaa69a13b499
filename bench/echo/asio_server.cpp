// The Asio peer of bench/echo/echo_compare.sh: the echo service written the way standalone Asio
// recommends for C++20, one coroutine per connection (asio::awaitable, co_spawn, use_awaitable)
// on a single io_context run by one thread. Every byte comes back upper-cased (ASCII a-z only).
//
//   asio_server --port N     (0: an ephemeral port; binds 127.0.0.1)
//
// Once listening it prints "listening on port <N>" and nothing else; SIGTERM or SIGINT ends it.
#include <array>
#include <asio.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

using asio::ip::tcp;

// Errors are returned through redirect_error rather than thrown: every connection ends with one
// (EOF or a reset), and an exception per connection would be measured at C=1000.
asio::awaitable<void> session(tcp::socket socket) {
    // The buffer lives in the coroutine's frame, one allocation per connection.
    std::array<char, 16 * 1024> buf;
    asio::error_code ec;
    for (;;) {
        std::size_t n =
            co_await socket.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
        for (std::size_t i = 0; i < n; ++i) {
            if (buf[i] >= 'a' && buf[i] <= 'z') buf[i] = static_cast<char>(buf[i] - ('a' - 'A'));
        }
        co_await asio::async_write(socket, asio::buffer(buf, n),
                                   asio::redirect_error(asio::use_awaitable, ec));
        if (ec) break;
    }
}

asio::awaitable<void> listener(tcp::acceptor acceptor) {
    asio::error_code ec;
    for (;;) {
        tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            // Out of fds and the like: the connection waits in the backlog and the loop tries
            // again (spinning until an fd is free; the comparison never runs out of them).
            if (ec == asio::error::operation_aborted) co_return;
            continue;
        }
        // Replies go out as soon as they are made, as Go does for every TCP connection.
        socket.set_option(tcp::no_delay(true), ec);
        asio::co_spawn(acceptor.get_executor(), session(std::move(socket)), asio::detached);
    }
}

int parse_port(int argc, char** argv) {
    int port = 0;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            char* end = nullptr;
            long value = std::strtol(argv[++i], &end, 10);
            if (*end == '\0' && value >= 0 && value <= 65535) {
                port = static_cast<int>(value);
                continue;
            }
        }
        std::fprintf(stderr, "usage: %s [--port N]\n", argv[0]);
        std::exit(2);
    }
    return port;
}

}  // namespace

int main(int argc, char** argv) {
    int port = parse_port(argc, argv);
    try {
        // The concurrency hint 1 tells Asio that one thread runs the context, so it can skip the
        // locking it would otherwise do around its queues.
        asio::io_context io(1);
        tcp::endpoint endpoint(asio::ip::address_v4::loopback(), static_cast<unsigned short>(port));
        tcp::acceptor acceptor(io);
        acceptor.open(endpoint.protocol());
        acceptor.set_option(tcp::acceptor::reuse_address(true));
        acceptor.bind(endpoint);
        // A deep backlog, so that a thousand clients connecting at once are not refused.
        acceptor.listen(4096);

        std::printf("listening on port %u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
        std::fflush(stdout);

        asio::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&](const asio::error_code&, int) { io.stop(); });
        asio::co_spawn(io, listener(std::move(acceptor)), asio::detached);
        io.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "asio_server: %s\n", e.what());
        return 1;
    }
    return 0;
}
