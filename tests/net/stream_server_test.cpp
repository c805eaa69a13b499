// The stream server on every backend: a greenlet per connection, limits, graceful stop, errors.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "cogent/errors.hpp"
#include "cogent/event.hpp"
#include "cogent/sleep.hpp"
#include "cogent/stream_server.hpp"
#include "cogent/tcp.hpp"
#include "cogent/unix.hpp"
#include "net/net_test_support.hpp"

// Whether AddressSanitizer is on: g++ says so with a macro, clang through __has_feature.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COGENT_TEST_CLANG_ASAN 1
#endif
#endif
#ifndef COGENT_TEST_CLANG_ASAN
#define COGENT_TEST_CLANG_ASAN 0
#endif

namespace {

using cogent_test::patience;
using cogent_test::payload;
using cogent_test::upper;
using cogent_test::upper_echo;
using namespace std::chrono_literals;



// Sends `message` and checks the upper-cased reply.
bool round_trip(cogent::stream_socket& s, const std::string& message) {
    s.write_all(message, patience);
    std::string reply(message.size(), '\0');
    s.read_exact(reply, patience);
    return reply == upper(message);
}

class StreamServer : public cogent_test::hub_test {};

TEST_F(StreamServer, ServesManyClientsAtOnceInOrder) {
    cogent::stream_server server(cogent::endpoint::loopback(0), upper_echo);
    server.start();
    std::vector<cogent::task<bool>> clients;
    for (int i = 0; i < 50; ++i) {
        clients.push_back(cogent::spawn([&, i] {
            cogent::tcp_stream s = cogent::tcp_stream::connect(server.local_endpoint(), patience);
            bool good = true;
            for (int round = 0; round < 10; ++round) good = good && round_trip(s, payload(1 + 97 * round + i, i));
            return good;
        }));
    }
    for (auto& c : clients) EXPECT_TRUE(c.get(patience));
    EXPECT_EQ(server.accepted_count(), 50u);
    EXPECT_EQ(server.stop(patience), 0u);
}

TEST_F(StreamServer, GivesTheHandlerThePeerAndClosesTheStreamAfterIt) {
    cogent::endpoint seen;
    cogent::stream_server server(cogent::endpoint::loopback(0),
                                 [&](cogent::stream_socket& s, const cogent::endpoint& peer) {
                                     seen = peer;
                                     s.write_all("bye", patience);
                                 });
    server.start();
    cogent::tcp_stream client = cogent::tcp_stream::connect(server.local_endpoint(), patience);
    std::string all(3, '\0');
    client.read_exact(all, patience);
    char c;
    EXPECT_EQ(client.read_some({&c, 1}, patience), 0u);  // closed after the handler
    EXPECT_EQ(seen, client.local_endpoint());
    server.stop();
}

TEST_F(StreamServer, ServesUnixDomainAddresses) {
    std::string path = "/tmp/cogent-server-" + std::to_string(::getpid());
    cogent::stream_server server(cogent::endpoint::unix_path(path), upper_echo);
    server.start();
    cogent::unix_stream client = cogent::unix_stream::connect(cogent::endpoint::unix_path(path), patience);
    EXPECT_TRUE(round_trip(client, "unix"));
    server.stop();
    EXPECT_NE(::access(path.c_str(), F_OK), 0);  // the path is removed
}

TEST_F(StreamServer, MaxConnectionsHoldsTheRestInTheBacklog) {
    int running = 0, most = 0;
    cogent::event release;
    cogent::server_options options;
    options.max_connections = 2;
    cogent::stream_server server(
        cogent::endpoint::loopback(0),
        [&](cogent::stream_socket& s, const cogent::endpoint&) {
            most = std::max(most, ++running);
            release.wait(patience);
            s.write_all("served", patience);
            --running;
        },
        options);
    server.start();
    std::vector<cogent::tcp_stream> clients;
    for (int i = 0; i < 5; ++i) clients.push_back(cogent::tcp_stream::connect(server.local_endpoint(), patience));
    cogent::sleep(50ms);  // the server has had every chance to accept more than it may
    EXPECT_EQ(server.connection_count(), 2u);
    EXPECT_EQ(server.accepted_count(), 2u);
    release.set();
    for (auto& c : clients) {
        std::string reply(6, '\0');
        c.read_exact(reply, patience);
        EXPECT_EQ(reply, "served");
    }
    EXPECT_EQ(most, 2);
    server.stop();
}

TEST_F(StreamServer, StopWaitsForHandlersWithinTheGraceAndKillsTheRest) {
    cogent::stream_server server(cogent::endpoint::loopback(0), [](cogent::stream_socket& s, const cogent::endpoint&) {
        char c;
        s.read_some({&c, 1});  // no timeout: only stop() ends it
    });
    server.start();
    cogent::tcp_stream a = cogent::tcp_stream::connect(server.local_endpoint(), patience);
    cogent::tcp_stream b = cogent::tcp_stream::connect(server.local_endpoint(), patience);
    while (server.connection_count() < 2) cogent::sleep(1ms);
    auto waiting = cogent::spawn([&] { return server.serve_forever(patience); });
    a.write_all("x", patience);  // one handler finishes in time
    EXPECT_EQ(server.stop(100ms), 1u);
    EXPECT_TRUE(waiting.get(patience));  // serve_forever returned
    EXPECT_TRUE(server.stopped());
    std::error_code ec;
    cogent::tcp_stream::connect(server.local_endpoint(), patience, ec);
    EXPECT_EQ(ec, std::errc::connection_refused);
    EXPECT_EQ(server.stop(), 0u);  // again: nothing
}

TEST_F(StreamServer, AFailingHandlerIsReportedAndTheServerGoesOn) {
    cogent_test::recorded_errors errors;
    int calls = 0;
    cogent::stream_server server(cogent::endpoint::loopback(0), [&](cogent::stream_socket& s, const cogent::endpoint&) {
        if (++calls == 1) throw std::runtime_error("handler bug");
        s.write_all("ok", patience);
    });
    server.start();
    { cogent::tcp_stream first = cogent::tcp_stream::connect(server.local_endpoint(), patience); }
    cogent::tcp_stream second = cogent::tcp_stream::connect(server.local_endpoint(), patience);
    std::string reply(2, '\0');
    second.read_exact(reply, patience);
    EXPECT_EQ(reply, "ok");
    server.stop();
    ASSERT_EQ(errors.entries.size(), 1u);
    EXPECT_NE(errors.message(0).find("handler bug"), std::string::npos);
}

TEST_F(StreamServer, ConnectionResetsAndIdleTimeoutsEndQuietly) {
    cogent_test::recorded_errors errors;
    cogent::event done;
    int ended = 0;
    cogent::stream_server server(cogent::endpoint::loopback(0), [&](cogent::stream_socket& s, const cogent::endpoint&) {
        struct count_end {
            int& ended;
            cogent::event& done;
            ~count_end() {
                if (++ended == 2) done.set();
            }
        } guard{ended, done};
        std::vector<char> buffer(1024);
        while (s.read_some(buffer, 50ms) > 0) {
        }
    });
    server.start();
    cogent::tcp_stream resetting = cogent::tcp_stream::connect(server.local_endpoint(), patience);
    cogent::tcp_stream idle = cogent::tcp_stream::connect(server.local_endpoint(), patience);
    resetting.write_all("partial message", patience);
    resetting.set_linger(std::chrono::seconds(0));
    resetting.close();
    EXPECT_TRUE(done.wait(patience));
    char c;
    EXPECT_EQ(idle.read_some({&c, 1}, patience), 0u);  // the server closed the idle connection
    server.stop();
    EXPECT_TRUE(errors.entries.empty()) << errors.message(0);
}

TEST_F(StreamServer, BadArgumentsAreClearErrors) {
    EXPECT_THROW(cogent::stream_server(cogent::endpoint(), upper_echo), std::invalid_argument);
    EXPECT_THROW(cogent::stream_server(cogent::endpoint::loopback(0), nullptr), std::invalid_argument);
    cogent::stream_server server(cogent::endpoint::loopback(0), upper_echo);
    server.start();
    server.stop();
    EXPECT_THROW(server.start(), std::logic_error);
}

// In a child process whose fd limit is low: accepting fails with EMFILE until connections end.
// The server warns once, does not spin, and serves every client in the end.
TEST_F(StreamServer, SurvivesRunningOutOfFds) {
#if defined(__SANITIZE_ADDRESS__) || COGENT_TEST_CLANG_ASAN
    // UBSan's vptr check opens a pipe to see whether memory is readable; in a process out of fds,
    // the condition this test makes, that fails and UBSan reports a false error and stops.
    GTEST_SKIP() << "not under the sanitizers, which need fds of their own";
#endif
    int report[2];
    ASSERT_EQ(::pipe(report), 0);
    int errors[2];
    ASSERT_EQ(::pipe(errors), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // A fresh thread gets a hub of its own; the parent's (copied) hub is never touched.
        ::dup2(errors[1], 2);
        std::thread([&] {
            cogent::stream_server server(cogent::endpoint::loopback(0), upper_echo);
            unsigned short port = server.local_endpoint().port();
            rlimit low{cogent_test::open_fd_count() + 4, 4096};  // room for about 4 connections
            ::setrlimit(RLIMIT_NOFILE, &low);
            ssize_t ignored = ::write(report[1], &port, sizeof port);
            (void)ignored;
            server.serve_forever(60s);
        }).join();
        ::_exit(0);
    }
    ::close(report[1]);
    ::close(errors[1]);
    unsigned short port = 0;
    ASSERT_EQ(::read(report[0], &port, sizeof port), static_cast<ssize_t>(sizeof port));
    // Twelve clients at once: the first few are served, the rest wait while accept fails.
    std::vector<cogent::task<bool>> clients;
    for (int i = 0; i < 12; ++i) {
        clients.push_back(cogent::spawn([port, i] {
            try {
                cogent::tcp_stream s = cogent::tcp_stream::connect(cogent::endpoint::loopback(port), patience);
                bool good = round_trip(s, payload(100, i));
                cogent::sleep(200ms);  // hold the server's fd a while
                return good;
            } catch (const std::exception& e) {
                ADD_FAILURE() << "client " << i << ": " << e.what();
                return false;
            }
        }));
    }
    bool all_served = true;
    for (auto& c : clients) all_served = c.get(3 * patience) && all_served;
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    std::string text;
    char buffer[4096];
    for (ssize_t n; (n = ::read(errors[0], buffer, sizeof buffer)) > 0;) text.append(buffer, n);
    ::close(errors[0]);
    ::close(report[0]);
    std::size_t warnings = 0;
    for (std::size_t at = text.find("retrying with back-off"); at != std::string::npos;
         at = text.find("retrying with back-off", at + 1)) {
        ++warnings;
    }
    EXPECT_TRUE(all_served) << "the server said:\n" << text;
    EXPECT_GE(warnings, 1u) << text;
    EXPECT_NE(text.find("Too many open files"), std::string::npos) << text;
    // One warning per episode: at most one per client that had to wait.
    EXPECT_LE(warnings, 12u) << text;
}

}  // namespace
