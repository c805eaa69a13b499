// Many requests on one thread at once, requests killed mid-transfer, connections kept alive and
// reused, and each thread's client ending with its thread.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "cogent/hub.hpp"
#include "cogent/task.hpp"
#include "http_test_support.hpp"

namespace {

using namespace std::chrono_literals;
namespace http = cogent::http;
using cogent_test::http_test;
using cogent_test::patience;

TEST_F(http_test, ConcurrentRequestsOverlap) {
    cogent_pages::page_server_options slow;
    slow.delay = 200ms;
    cogent_pages::page_server server(slow);
    constexpr int count = 60;
    std::vector<cogent::task<http::response>> requests;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < count; ++i) {
        requests.push_back(cogent::spawn([&server, i] { return http::get(server.url("/page/" + std::to_string(i)), {.timeout = 30s}); }));
    }
    for (int i = 0; i < count; ++i) {
        const http::response& r = requests[i].get(30s);
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.body, cogent_pages::page_body(static_cast<std::size_t>(i)));
    }
    const auto took = std::chrono::steady_clock::now() - start;
    // One after another they would take count x 200 ms = 12 s; together, about 200 ms.
    EXPECT_LT(took, 6s);
}

TEST_F(http_test, OtherGreenletsRunWhileARequestWaits) {
    cogent_pages::page_server server;
    int ticks = 0;
    auto ticker = cogent::spawn([&] {
        for (;;) {
            cogent::sleep(10ms);
            ++ticks;
        }
    });
    EXPECT_EQ(http::get(server.url("/delay/500"), {.timeout = patience}).status, 200);
    ticker.kill();
    EXPECT_GE(ticks, 3);  // the hub went on while the request was parked
}

TEST_F(http_test, KilledRequestLeavesNothingBehind) {
    cogent_pages::page_server server;
    cogent_test::silent_server hung;
    auto doomed = cogent::spawn([&] { return http::get(hung.url(), {.timeout = patience}); });
    auto other = cogent::spawn([&] { return http::get(server.url("/delay/100"), {.timeout = patience}); });
    cogent::sleep(50ms);  // both are in flight
    EXPECT_TRUE(doomed.kill(nullptr, true, patience));
    EXPECT_TRUE(doomed.killed());
    // The killed request's connection is closed; the other request is unharmed.
    EXPECT_TRUE(hung.closed_by_client());
    EXPECT_EQ(other.get(patience).status, 200);
    EXPECT_EQ(http::get(server.url("/page/3"), {.timeout = patience}).body, cogent_pages::page_body(3));
}

TEST_F(http_test, ConnectionsAreKeptAliveAndReused) {
    cogent_pages::page_server server;
    const http::client_stats before = http::stats();
    for (int i = 0; i < 5; ++i) EXPECT_EQ(http::get(server.url("/page/100"), {.timeout = patience}).status, 200);
    const http::client_stats after = http::stats();
    EXPECT_EQ(after.requests - before.requests, 5u);
    EXPECT_EQ(after.connections_opened - before.connections_opened, 1u);
    EXPECT_EQ(server.connections(), 1u);  // counted as it accepts, before it answers
}

TEST_F(http_test, EachThreadHasItsOwnClientWhichEndsWithIt) {
    cogent_pages::page_server server;
    (void)cogent::current_backend();  // this thread's hub (and its fds) first: it stays
    const std::size_t before = cogent_test::open_fd_count();
    std::vector<std::thread> threads;
    std::atomic<int> succeeded{0};
    for (int t = 0; t < 3; ++t) {
        threads.emplace_back([&] {
            cogent::run([&] {
                for (int i = 0; i < 3; ++i) {
                    if (http::get(server.url("/page/50"), {.timeout = patience}).body == cogent_pages::page_body(50)) ++succeeded;
                }
            });
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(succeeded.load(), 9);
    EXPECT_EQ(server.connections(), 3u);  // one per thread, each reused
    // The threads' hubs, clients and kept-alive connections are gone with them.
    EXPECT_LE(cogent_test::settle_fds(before), before);
}

TEST_F(http_test, ThreadEndingWithARequestInFlightCleansUp) {
    cogent_test::silent_server hung;  // served by this thread's hub once the other thread is joined
    const std::string url = hung.url();
    std::thread([&] {
        cogent::spawn([&] { http::get(url); });
        cogent::sleep(100ms);  // the request is in flight; the thread ends under it
    }).join();
    EXPECT_TRUE(hung.closed_by_client());
}

}  // namespace
