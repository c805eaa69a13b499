// The cogent echo server (examples/echo_server.cpp, seed example 4 done with a greenlet per
// connection), run as a child process on each of cogent's backends and driven over plain
// non-blocking sockets: many clients at once, the log lines, a graceful stop on SIGTERM and
// SIGINT, --idle-timeout, --max-connections, clients that reset; and its refusal of bad options.
// Every wait is bounded by poll() with a timeout; the child is killed and reaped whatever happens
// (example_process.hpp). The tests' names end with the backend: "Backends/EchoServer.X/epoll_et".
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "example_process.hpp"

namespace {

using namespace example_test;

constexpr milliseconds patience = 10s;  // for what takes a second or so when it works

class echo_server : public child_process {
public:
    explicit echo_server(std::vector<std::string> args)
        : child_process(example_path("echo_server"), std::move(args)) {}
};

// Why the server cannot start on `backend`, from what it says on stderr; empty if it can. Asked
// once per backend and remembered.
std::string refusal(const std::string& backend) {
    static std::map<std::string, std::string> known;
    if (auto it = known.find(backend); it != known.end()) return it->second;
    echo_server probe({"--port", "0", "--backend", backend, "--quiet"});
    std::string why;
    if (probe.wait_for_port() == 0) {
        std::optional<int> status = probe.finish(step_timeout);
        why = probe.errors() + (status ? "(" + describe_status(*status) + ")" : "(still running)");
    }
    return known[backend] = why;
}

class EchoServer : public ::testing::TestWithParam<std::string> {
protected:
    // io_uring may be refused here (by the kernel, a seccomp filter, a sysctl): the server then
    // exits saying so, and its tests are skipped. Any other backend failing to start is a failure.
    void SetUp() override {
        if (backend() != "io_uring") return;
        std::string why = refusal(backend());
        if (why.empty()) return;
        if (why.find("io_uring") != std::string::npos &&
            (why.find("unavailable") != std::string::npos || why.find("refused") != std::string::npos)) {
            GTEST_SKIP() << "io_uring is refused here: " << why;
        }
        FAIL() << "echo_server does not start on io_uring: " << why;
    }

    const std::string& backend() const { return GetParam(); }

    // --port 0 --backend <the backend>, then `extra`.
    std::vector<std::string> args(std::initializer_list<std::string> extra = {}) const {
        std::vector<std::string> all{"--port", "0", "--backend", backend()};
        all.insert(all.end(), extra);
        return all;
    }

    // "Terminated: stopped after 3 connections on the epoll backend".
    std::string stop_line(const char* signal_name, std::size_t connections) const {
        return std::string(signal_name) + ": stopped after " + std::to_string(connections) +
               " connections on the " + backend() + " backend";
    }
};

TEST_P(EchoServer, FiftyConcurrentClientsGetEveryByteBackUpperCasedInOrder) {
    echo_server server(args({"--quiet"}));
    int port = server.wait_for_port();
    ASSERT_NE(port, 0) << server.describe();
    echo_load load;  // 50 clients, 200 messages each of 1..4000 bytes, in 1..4 send() calls
    load.alphabet = every_byte();  // binary: only a..z change
    load.seed = 4;
    run_echo_load(port, server, load);
}

TEST_P(EchoServer, LogsLikeTheSeed) {
    echo_server server(args());
    int port = server.wait_for_port();
    ASSERT_NE(port, 0) << server.describe();
    unique_fd client = connect_to(port);
    ASSERT_GE(client.get(), 0);
    std::string address = "('127.0.0.1', " + std::to_string(local_port(client.get())) + ")";
    ASSERT_TRUE(send_all(client.get(), "hello"));
    EXPECT_EQ(receive(client.get(), 5, step_timeout), "HELLO");
    client.reset();
    ASSERT_TRUE(server.wait_for_lines("conn closed\n", 1)) << server.describe();
    server.signal(SIGTERM);
    std::optional<int> status = server.finish(patience);
    ASSERT_TRUE(status.has_value()) << "still running after SIGTERM" << server.describe();
    EXPECT_TRUE(exited_with(status, 0)) << describe_status(*status) << server.describe();
    EXPECT_EQ(server.output(), "listening on port " + std::to_string(port) + "\n" +  //
                                   "got new conn " + address + "\n" +                //
                                   "recv data from [" + address + "]:[hello]:\n" +  //
                                   "conn closed\n" +                                 //
                                   stop_line("Terminated", 1) + "\n");
    EXPECT_EQ(server.errors(), "");
}

TEST_P(EchoServer, StopsOnSigtermNamingItsBackend) {
    echo_server server(args({"--quiet"}));
    int port = server.wait_for_port();
    ASSERT_NE(port, 0) << server.describe();
    unique_fd staying;
    for (int i = 0; i < 3; ++i) {
        unique_fd client = connect_to(port);
        ASSERT_GE(client.get(), 0);
        ASSERT_TRUE(round_trip(client.get(), "client " + std::to_string(i))) << server.describe();
        if (i == 1) staying = std::move(client);  // the others leave before the signal
    }
    server.signal(SIGTERM);
    // The connection still open is closed, after a grace period for it to end by itself.
    ending how = ending::none;
    EXPECT_EQ(receive(staying.get(), 1, patience, &how), "");
    EXPECT_NE(how, ending::none) << "the open connection was not closed" << server.describe();
    std::optional<int> status = server.finish(patience);
    ASSERT_TRUE(status.has_value()) << "still running after SIGTERM" << server.describe();
    EXPECT_TRUE(exited_with(status, 0)) << describe_status(*status) << server.describe();
    EXPECT_NE(server.output().find("\n" + stop_line("Terminated", 3)), std::string::npos)
        << server.describe();
}

TEST_P(EchoServer, StopsOnSigintNamingItsBackend) {
    echo_server server(args({"--quiet"}));
    int port = server.wait_for_port();
    ASSERT_NE(port, 0) << server.describe();
    {
        // A client served first: the signal also ends a server that has done some work.
        unique_fd client = connect_to(port);
        ASSERT_TRUE(round_trip(client.get(), "are you listening?")) << server.describe();
    }
    server.signal(SIGINT);
    std::optional<int> status = server.finish(patience);
    ASSERT_TRUE(status.has_value()) << "still running after SIGINT" << server.describe();
    EXPECT_TRUE(exited_with(status, 0)) << describe_status(*status) << server.describe();
    EXPECT_TRUE(server.output().ends_with("\n" + stop_line("Interrupt", 1) + "\n")) << server.describe();
}

TEST_P(EchoServer, IdleTimeoutClosesAnIdleClient) {
    echo_server server(args({"--quiet", "--idle-timeout", "1"}));
    int port = server.wait_for_port();
    ASSERT_NE(port, 0) << server.describe();
    unique_fd talked = connect_to(port), silent = connect_to(port);
    ASSERT_GE(silent.get(), 0);
    ASSERT_TRUE(round_trip(talked.get(), "then silence")) << server.describe();
    for (unique_fd* client : {&talked, &silent}) {
        ending how = ending::none;
        EXPECT_EQ(receive(client->get(), 1, patience, &how), "");
        EXPECT_EQ(how, ending::eof) << "an idle client was not closed within " << patience.count() << " ms"
                                    << server.describe();
    }
    EXPECT_TRUE(server.running()) << server.describe();
    unique_fd newcomer = connect_to(port);
    EXPECT_TRUE(round_trip(newcomer.get(), "newcomer")) << server.describe();
}

TEST_P(EchoServer, WaitsAtMaxConnectionsUntilAConnectionEnds) {
    echo_server server(args({"--quiet", "--max-connections", "2"}));
    int port = server.wait_for_port();
    ASSERT_NE(port, 0) << server.describe();
    unique_fd first = connect_to(port), second = connect_to(port);
    ASSERT_TRUE(round_trip(first.get(), "one")) << server.describe();
    ASSERT_TRUE(round_trip(second.get(), "two")) << server.describe();
    unique_fd third = connect_to(port);  // the kernel completes the handshake: it waits in the backlog
    ASSERT_GE(third.get(), 0);
    ASSERT_TRUE(send_all(third.get(), "three"));
    EXPECT_EQ(receive(third.get(), 5, 300ms), "");  // not served while two are
    EXPECT_TRUE(round_trip(second.get(), "two again")) << server.describe();
    first.reset();
    EXPECT_EQ(receive(third.get(), 5, patience), "THREE") << server.describe();
    EXPECT_TRUE(round_trip(second.get(), "two still")) << server.describe();
}

TEST_P(EchoServer, ClientsThatResetDoNotHurtTheServer) {
    echo_server server(args({"--quiet"}));
    int port = server.wait_for_port();
    ASSERT_NE(port, 0) << server.describe();
    unique_fd steady_client = connect_to(port);
    ASSERT_TRUE(round_trip(steady_client.get(), "before")) << server.describe();
    for (int i = 0; i < 9; ++i) {
        unique_fd client = connect_to(port);
        ASSERT_GE(client.get(), 0);
        if (i % 3 >= 1) {
            ASSERT_TRUE(round_trip(client.get(), "mid-conversation")) << server.describe();
        }
        if (i % 3 == 2) {
            // Sends plenty and reads none of it, so the server is still writing when the reset comes.
            ASSERT_TRUE(send_all(client.get(), std::string(200'000, 'r')));
        }
        linger abort_on_close{1, 0};  // close() then sends a reset instead of a FIN
        setsockopt(client.get(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    }
    EXPECT_TRUE(round_trip(steady_client.get(), "after")) << server.describe();
    unique_fd newcomer = connect_to(port);
    EXPECT_TRUE(round_trip(newcomer.get(), "newcomer")) << server.describe();
    EXPECT_TRUE(server.running()) << server.describe();
    // Still itself: it stops cleanly, having counted everyone, and complained of nothing.
    server.signal(SIGTERM);
    std::optional<int> status = server.finish(patience);
    ASSERT_TRUE(status.has_value()) << "still running after SIGTERM" << server.describe();
    EXPECT_TRUE(exited_with(status, 0)) << describe_status(*status) << server.describe();
    EXPECT_NE(server.output().find(stop_line("Terminated", 11)), std::string::npos) << server.describe();
    EXPECT_EQ(server.errors(), "");
}

std::string backend_name(const ::testing::TestParamInfo<std::string>& backend) { return backend.param; }
INSTANTIATE_TEST_SUITE_P(Backends, EchoServer,
                         ::testing::Values("select", "poll", "epoll", "epoll_et", "io_uring"), backend_name);

TEST(EchoServerOptions, BadOptionsExitWithStatus2AndTheUsage) {
    struct bad_case {
        std::vector<std::string> args;
        std::string complaint;
    };
    const std::vector<bad_case> cases = {
        {{"--backend", "kqueue"}, "unknown backend 'kqueue'"},
        {{"--backend"}, "--backend needs a value"},
        {{"--port", "70000"}, "--port must be at most 65535"},
        {{"--port", "eighty"}, "--port needs a number"},
        {{"--port", "80x"}, "--port needs a number"},
        {{"--port", ""}, "--port needs a number"},
        {{"--port"}, "--port needs a value"},
        {{"--max-connections", "many"}, "--max-connections needs a number"},
        {{"--idle-timeout", "1.5"}, "--idle-timeout needs a number"},
        {{"--verbose"}, "unknown option '--verbose'"},
    };
    for (const bad_case& c : cases) {
        std::string command = "echo_server";
        for (const std::string& arg : c.args) command += " '" + arg + "'";
        SCOPED_TRACE(command);
        echo_server server(c.args);
        std::optional<int> status = server.finish(patience);
        ASSERT_TRUE(status.has_value()) << "still running" << server.describe();
        EXPECT_TRUE(exited_with(status, 2)) << describe_status(*status) << server.describe();
        EXPECT_TRUE(server.errors().starts_with("echo_server: ")) << server.describe();
        EXPECT_NE(server.errors().find(c.complaint), std::string::npos) << server.describe();
        EXPECT_NE(server.errors().find("\nusage: echo_server [--port N]"), std::string::npos)
            << server.describe();
        EXPECT_EQ(server.output(), "");
    }
}

// A script that starts the server, waits for "listening on port", and stops it at once, expects
// the graceful stop: the server blocks SIGINT and SIGTERM before it prints that line, so a signal
// sent at once waits for its wait_signal() instead of killing it.
TEST(EchoServerSignals, StopsCleanlyOnASignalSentAsSoonAsItListens) {
    for (int attempt = 0; attempt < 20; ++attempt) {
        echo_server server({"--port", "0", "--quiet"});
        ASSERT_NE(server.wait_for_port(), 0) << server.describe();
        server.signal(SIGTERM);
        std::optional<int> status = server.finish(patience);
        ASSERT_TRUE(status.has_value()) << "still running after SIGTERM" << server.describe();
        ASSERT_TRUE(exited_with(status, 0)) << "attempt " << attempt << ": " << describe_status(*status)
                                            << server.describe();
        EXPECT_NE(server.output().find("Terminated: stopped after 0 connections"), std::string::npos);
    }
}

}  // namespace
