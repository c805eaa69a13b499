// Requests that fail: timeouts (the request's own, and a timeout scope around it), refused
// connections, responses over the size limit, URLs curl will not fetch. Each names the URL,
// and none leaves a socket behind.
#include <gtest/gtest.h>

#include "cogent/tcp.hpp"
#include "cogent/timeout.hpp"
#include "http_test_support.hpp"

namespace {

using namespace std::chrono_literals;
namespace http = cogent::http;
using cogent_test::http_test;
using cogent_test::patience;

TEST_F(http_test, TimeoutThrowsTimeoutErrorNamingTheUrlAndClosesTheConnection) {
    cogent_test::silent_server server;
    const std::string url = server.url("/never");
    const auto start = std::chrono::steady_clock::now();
    const std::string what = cogent_test::message_of<cogent::timeout_error>([&] { http::get(url, {.timeout = 200ms}); });
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_NE(what.find("GET " + url), std::string::npos) << what;
    EXPECT_GE(took, 200ms);
    EXPECT_LT(took, 5s);  // generous: the point is that it does not wait for the server
    // The connection is closed, not kept for reuse: the server sees it end.
    EXPECT_TRUE(server.closed_by_client());
}

TEST_F(http_test, TimeoutInTheErrorCodeForm) {
    cogent_test::silent_server server;
    std::error_code ec;
    http::response r = http::get(server.url(), {.timeout = 100ms}, ec);
    EXPECT_EQ(ec, std::errc::timed_out);
    EXPECT_EQ(r.status, 0);
    EXPECT_TRUE(server.closed_by_client());
}

TEST_F(http_test, TimeoutScopeAroundARequestEndsIt) {
    cogent_test::silent_server server;
    {
        cogent::timeout scope(150ms);
        try {
            http::get(server.url());
            ADD_FAILURE() << "the request outlived its timeout scope";
        } catch (const cogent::timeout_error& e) {
            EXPECT_TRUE(scope.raised(e));
        }
    }
    EXPECT_TRUE(server.closed_by_client());
}

TEST_F(http_test, ConnectTimeoutIsATimeout) {
    // A listener whose backlog is full, and that never accepts: the kernel drops further SYNs,
    // so a new connection neither succeeds nor is refused.
    cogent::listen_options tiny;
    tiny.backlog = 0;
    cogent::tcp_listener listener = cogent::tcp_listener::bind(cogent::endpoint::loopback(0), tiny);
    std::vector<cogent::tcp_stream> filling;
    for (int i = 0; i < 3; ++i) {
        std::error_code ec;
        cogent::tcp_stream s = cogent::tcp_stream::connect(listener.local_endpoint(), 200ms, ec);
        if (ec) break;
        filling.push_back(std::move(s));
    }
    const std::string url = "http://127.0.0.1:" + std::to_string(listener.local_endpoint().port()) + "/";
    const auto start = std::chrono::steady_clock::now();
    const std::string what = cogent_test::message_of<cogent::timeout_error>(
        [&] { http::get(url, {.timeout = patience, .connect_timeout = 300ms}); });
    EXPECT_LT(std::chrono::steady_clock::now() - start, patience / 2);  // the connect timeout, not the total
    EXPECT_NE(what.find(url), std::string::npos) << what;
}

TEST_F(http_test, ConnectionRefusedNamesTheUrl) {
    std::uint16_t port;
    {
        cogent::tcp_listener listener = cogent_test::loopback_listener();
        port = listener.local_endpoint().port();
    }  // closed: nobody listens there now
    const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/page/1";
    try {
        http::get(url, {.timeout = patience});
        ADD_FAILURE() << "a request to a closed port succeeded";
    } catch (const http::error& e) {
        EXPECT_EQ(e.code(), http::errc::couldnt_connect) << e.what();
        EXPECT_EQ(e.url(), url);
        EXPECT_NE(std::string(e.what()).find("cogent.http: GET " + url + ": "), std::string::npos) << e.what();
    }
}

TEST_F(http_test, UnknownHostNamesTheUrl) {
    // RFC 2606's .invalid never resolves. Here the lookup fails at once; where the name servers
    // are unreachable and silent it could only time out, which this test is not about.
    const std::string url = "http://nosuch.invalid/";
    try {
        http::get(url, {.timeout = std::chrono::seconds(5)});
        ADD_FAILURE() << "a request to " << url << " succeeded";
    } catch (const http::error& e) {
        EXPECT_EQ(e.code(), http::errc::couldnt_resolve_host) << e.what();
        EXPECT_NE(std::string(e.what()).find("GET " + url), std::string::npos) << e.what();
    } catch (const cogent::timeout_error&) {
        GTEST_SKIP() << "the name servers here do not answer";
    }
}

TEST_F(http_test, ResponseOverMaxResponseBytesIsAnError) {
    cogent_pages::page_server server;
    http::options opts{.timeout = patience, .max_response_bytes = 20'000};
    EXPECT_EQ(http::get(server.url("/page/19000"), opts).body.size(), 19'000u);
    std::error_code ec;
    http::get(server.url("/page/20001"), opts, ec);
    EXPECT_EQ(ec, http::errc::response_too_large);
    const std::string what = cogent_test::message_of<http::error>([&] { http::get(server.url("/page/1000000"), opts); });
    EXPECT_NE(what.find("max_response_bytes"), std::string::npos) << what;
    // The header fields are held to it too (here about 100 bytes of them, and no body).
    http::options tiny{.timeout = patience, .max_response_bytes = 40};
    http::get(server.url("/page/1"), tiny, ec);
    EXPECT_EQ(ec, http::errc::response_too_large);
}

TEST_F(http_test, OnlyHttpAndHttpsAreFetched) {
    std::error_code ec;
    http::get("file:///etc/passwd", {.timeout = patience}, ec);
    EXPECT_EQ(ec, http::errc::unsupported_protocol);
    http::get("http://[::1", {.timeout = patience}, ec);
    EXPECT_EQ(ec, http::errc::url_malformat);
}

}  // namespace
