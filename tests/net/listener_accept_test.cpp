// Accepting on every backend, with io_uring's multishot accept in mind (docs/backends.md): a
// burst of connections is accepted whole with the right peers, connections that arrived while
// nobody accepted are not leaked when the listener closes, and an accept that times out or is
// killed leaves the listener usable. The same burst once more on io_uring with one accept per
// submission (COGENT_IO_URING_MULTISHOT_ACCEPT=0), so that both ways stay tested.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "cogent/errors.hpp"
#include "cogent/sleep.hpp"
#include "cogent/tcp.hpp"
#include "net/net_test_support.hpp"

namespace {

using cogent_test::patience;
using namespace std::chrono_literals;

class ListenerAccept : public cogent_test::hub_test {};

// Connects `count` clients (the kernel completes each handshake from the backlog, before any
// accept), each sending its index; accepts them all and checks that every connection is
// there once, with its own peer address and data.
void connect_burst_and_accept(cogent::tcp_listener& listener, int count) {
    std::vector<cogent::tcp_stream> clients;
    for (int i = 0; i < count; ++i) {
        clients.push_back(cogent::tcp_stream::connect(listener.local_endpoint(), patience));
        clients.back().write_all(std::to_string(i) + ";", patience);
    }
    std::vector<bool> seen(static_cast<std::size_t>(count), false);
    for (int n = 0; n < count; ++n) {
        cogent::endpoint peer;
        cogent::tcp_stream s = listener.accept(peer, patience);
        std::string text;
        char c;
        while (s.read_some({&c, 1}, patience) == 1 && c != ';') text += c;
        const int i = std::stoi(text);
        ASSERT_GE(i, 0);
        ASSERT_LT(i, count);
        EXPECT_FALSE(seen[static_cast<std::size_t>(i)]) << "connection " << i << " accepted twice";
        seen[static_cast<std::size_t>(i)] = true;
        EXPECT_EQ(peer, clients[static_cast<std::size_t>(i)].local_endpoint()) << "connection " << i;
    }
    EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](bool b) { return b; }));
}

TEST_F(ListenerAccept, ABurstOfConnectionsIsAcceptedWholeWithTheirPeers) {
    cogent::tcp_listener listener = cogent_test::loopback_listener();
    // One accept first, so that a multishot accept is armed when the burst comes.
    auto first = cogent::spawn([&] { return listener.accept(patience); });
    cogent::tcp_stream one = cogent::tcp_stream::connect(listener.local_endpoint(), patience);
    first.get(patience);
    connect_burst_and_accept(listener, 150);  // more than the multishot's queue holds
}

// Connections the multishot accept took while nobody was accepting are closed with the
// listener: their clients see the end, and no fd is left behind.
TEST_F(ListenerAccept, ClosingWithConnectionsNotYetAcceptedLeaksNothing) {
    cogent::yield();  // the hub's own fds (made on first use) are there before the count
    const std::size_t fds_before = cogent_test::open_fd_count();
    {
        cogent::tcp_listener listener = cogent_test::loopback_listener();
        auto first = cogent::spawn([&] { return listener.accept(patience); });
        cogent::tcp_stream one = cogent::tcp_stream::connect(listener.local_endpoint(), patience);
        cogent::tcp_stream accepted = std::move(first.get(patience));
        std::vector<cogent::tcp_stream> clients;
        for (int i = 0; i < 10; ++i) clients.push_back(cogent::tcp_stream::connect(listener.local_endpoint(), patience));
        cogent::sleep(50ms);  // the hub polls: a multishot accept takes them now
        listener.close();
        for (cogent::tcp_stream& client : clients) {
            char c;
            std::error_code ec;
            const std::size_t n = client.read_some({&c, 1}, patience, ec);
            // End of stream (closed after being accepted) or a reset (never accepted): not a timeout.
            EXPECT_TRUE(n == 0 || ec) << "a connection the closed listener held is still open";
            EXPECT_NE(ec, std::errc::timed_out);
        }
    }
    EXPECT_EQ(cogent_test::open_fd_count(), fds_before);
}

TEST_F(ListenerAccept, AnAcceptThatTimesOutOrIsKilledLeavesTheListenerUsable) {
    cogent::tcp_listener listener = cogent_test::loopback_listener();
    std::error_code ec;
    cogent::endpoint peer;
    EXPECT_FALSE(listener.accept(peer, 20ms, ec).is_open());
    EXPECT_EQ(ec, std::errc::timed_out);

    auto killed = cogent::spawn([&] { return listener.accept(patience); });
    cogent::yield();
    killed.kill(nullptr, true, patience);
    EXPECT_TRUE(killed.killed());

    cogent::tcp_stream client = cogent::tcp_stream::connect(listener.local_endpoint(), patience);
    cogent::tcp_stream accepted = listener.accept(peer, patience);
    EXPECT_EQ(peer, client.local_endpoint());
}

// io_uring accepting one connection per submission, on a thread of its own (the setting is read
// when a hub is made).
TEST_F(ListenerAccept, OnIoUringABurstIsAcceptedWithSingleShotAcceptsToo) {
    if (cogent::current_backend() != cogent::backend_kind::io_uring) GTEST_SKIP() << "io_uring only";
    ::setenv("COGENT_IO_URING_MULTISHOT_ACCEPT", "0", 1);
    bool failed = false;
    std::thread other([&failed] {
        cogent::hub_options options;
        options.backend = cogent::backend_kind::io_uring;
        cogent::start_hub(options);
        cogent::tcp_listener listener = cogent_test::loopback_listener();
        connect_burst_and_accept(listener, 100);
        failed = ::testing::Test::HasFailure();
    });
    other.join();
    ::unsetenv("COGENT_IO_URING_MULTISHOT_ACCEPT");
    EXPECT_FALSE(failed);
}

}  // namespace
