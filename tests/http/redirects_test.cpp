// Redirects: followed by default, bounded by max_redirects, or handed back when following is off.
#include <gtest/gtest.h>

#include "http_test_support.hpp"

namespace {

namespace http = cogent::http;
using cogent_test::http_test;
using cogent_test::patience;

TEST_F(http_test, RedirectsAreFollowedToTheLastResponse) {
    cogent_pages::page_server server;
    http::response r = http::get(server.url("/redirect/3"), {.timeout = patience});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "redirects done\n");  // not the 302s' bodies before it
    EXPECT_EQ(r.effective_url, server.url("/redirect/0"));
    EXPECT_FALSE(r.headers.contains("Location"));  // the last response's headers only
}

TEST_F(http_test, MoreRedirectsThanAllowedIsAnErrorNamingTheUrl) {
    cogent_pages::page_server server;
    const std::string url = server.url("/redirect/5");
    try {
        http::get(url, {.timeout = patience, .max_redirects = 2});
        ADD_FAILURE() << "five redirects were followed with max_redirects = 2";
    } catch (const http::error& e) {
        EXPECT_EQ(e.code(), http::errc::too_many_redirects) << e.what();
        EXPECT_EQ(e.method(), "GET");
        EXPECT_NE(std::string(e.what()).find("GET " + url), std::string::npos) << e.what();
    }
    std::error_code ec;
    http::get(url, {.timeout = patience, .max_redirects = 2}, ec);
    EXPECT_EQ(ec, http::errc::too_many_redirects);
    // Exactly as many as allowed is fine.
    EXPECT_EQ(http::get(url, {.timeout = patience, .max_redirects = 5}).status, 200);
}

TEST_F(http_test, WithoutFollowingTheRedirectIsTheResponse) {
    cogent_pages::page_server server;
    http::response r = http::get(server.url("/redirect/3"), {.timeout = patience, .follow_redirects = false});
    EXPECT_EQ(r.status, 302);
    EXPECT_EQ(r.headers.get("location").value_or(""), "/redirect/2");
    EXPECT_EQ(r.body, "see elsewhere\n");
    EXPECT_NO_THROW(r.raise_for_status());
}

}  // namespace
