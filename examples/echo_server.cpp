// Seed example 4, the cogent way: the select() server's service (every message comes back
// upper-cased) written as straight-line blocking code, one greenlet per connection, on any of
// cogent's backends. Compare select_echo_server.cpp, the seed's hand-made select() loop.
//
//   echo_server [--port 8888] [--host localhost] [--backend select|poll|epoll|epoll_et|io_uring]
//               [--max-connections N] [--idle-timeout SECONDS] [--quiet]
//
// It prints "listening on port <N>" once it accepts, logs connections and messages like the
// seed (unless --quiet), and stops gracefully on SIGINT or SIGTERM.
#include <signal.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include <cogent/cogent.hpp>

namespace {

struct settings {
    std::string host = "localhost";
    unsigned port = 8888;
    std::optional<cogent::backend_kind> backend;
    std::size_t max_connections = 0;
    cogent::duration idle_timeout = cogent::forever;
    bool quiet = false;
};

[[noreturn]] void usage(const char* complaint) {
    std::fprintf(stderr,
                 "echo_server: %s\nusage: echo_server [--port N] [--host ADDRESS] "
                 "[--backend select|poll|epoll|epoll_et|io_uring] [--max-connections N] [--idle-timeout SECONDS] "
                 "[--quiet]\n",
                 complaint);
    std::exit(2);
}

unsigned long number(const char* text, const char* option) {
    char* end = nullptr;
    errno = 0;
    unsigned long value = std::strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0') usage((std::string(option) + " needs a number").c_str());
    return value;
}

settings parse(int argc, char** argv) {
    settings s;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) usage((std::string(arg) + " needs a value").c_str());
            return argv[++i];
        };
        if (arg == "--port") {
            s.port = static_cast<unsigned>(number(value(), "--port"));
            if (s.port > 65535) usage("--port must be at most 65535");
        } else if (arg == "--host") {
            s.host = value();
        } else if (arg == "--backend") {
            const char* name = value();
            s.backend = cogent::parse_backend(name);
            if (!s.backend) usage((std::string("unknown backend '") + name + "'").c_str());
        } else if (arg == "--max-connections") {
            s.max_connections = number(value(), "--max-connections");
        } else if (arg == "--idle-timeout") {
            unsigned long seconds = number(value(), "--idle-timeout");  // 0: none, like --max-connections
            s.idle_timeout = seconds == 0 ? cogent::forever : std::chrono::seconds(seconds);
        } else if (arg == "--quiet") {
            s.quiet = true;
        } else {
            usage((std::string("unknown option '") + std::string(arg) + "'").c_str());
        }
    }
    return s;
}

// How Python prints a socket address: ('127.0.0.1', 54321).
std::string python_address(const cogent::endpoint& e) {
    return "('" + e.address() + "', " + std::to_string(e.port()) + ")";
}

}  // namespace

int main(int argc, char** argv) {
    const settings options = parse(argc, argv);
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each log line shows at once, in pipes too
    // Blocked from the start, so that a signal sent as soon as "listening" shows waits for
    // wait_signal below instead of killing the process before it gets there.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    ::pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    const bool quiet = options.quiet;
    const cogent::duration idle = options.idle_timeout;
    // The whole service: read what the client sent, send it back upper-cased, until it leaves.
    // A read that waits longer than --idle-timeout ends the connection (timeout_error, which the
    // server treats as the quiet end of a connection).
    auto handle = [quiet, idle](cogent::stream_socket& conn, const cogent::endpoint& peer) {
        if (!quiet) std::printf("got new conn %s\n", python_address(peer).c_str());
        // Printed however the connection ends: the client leaving, a reset, or the idle timeout.
        struct log_close {
            bool quiet;
            ~log_close() {
                if (!quiet) std::printf("conn closed\n");  // the seed's server never noticed a clean close
            }
        } closing{quiet};
        char data[1024];
        while (std::size_t n = conn.read_some(data, idle)) {
            if (!quiet) std::printf("recv data from [%s]:[%.*s]:\n", python_address(peer).c_str(), static_cast<int>(n), data);
            for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(data[i])));
            conn.write_all(std::string_view(data, n));
        }
    };

    cogent::server_options server_options;
    server_options.max_connections = options.max_connections;
    try {
        cogent::hub_options hub;
        hub.backend = options.backend;
        cogent::start_hub(hub);
        // A name (localhost) or a number; the first address it resolves to.
        cogent::resolve_options numeric_or_name;
        numeric_or_name.family = AF_INET;
        cogent::endpoint address =
            cogent::resolve(options.host, std::to_string(options.port), std::chrono::seconds(10), numeric_or_name).front();
        cogent::stream_server server(address, handle, server_options);
        server.start();
        std::printf("listening on port %u\n", static_cast<unsigned>(server.local_endpoint().port()));
        std::fflush(stdout);
        int signal = cogent::wait_signal({SIGINT, SIGTERM});
        std::size_t killed = server.stop(std::chrono::seconds(1));
        std::printf("%s: stopped after %zu connections on the %s backend%s\n", strsignal(signal),
                    server.accepted_count(), cogent::to_string(cogent::current_backend()),
                    killed > 0 ? (", closing " + std::to_string(killed) + " still open").c_str() : "");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "echo_server: %s\n", e.what());
        return 1;
    }
    return 0;
}
