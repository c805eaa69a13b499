// The HTTP client's everyday work: a GET's status, headers and body; POST and PUT with a body and
// headers; statuses that are responses, not errors; the header container.
#include <gtest/gtest.h>

#include <curl/curl.h>

#include "http_test_support.hpp"

namespace {

using namespace std::chrono_literals;
namespace http = cogent::http;
using cogent_test::http_test;
using cogent_test::patience;

TEST_F(http_test, GetReturnsStatusHeadersAndBody) {
    cogent_pages::page_server server;
    http::response r = http::get(server.url("/page/1000"), {.timeout = patience});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.reason, "OK");
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.body, cogent_pages::page_body(1000));
    EXPECT_EQ(r.effective_url, server.url("/page/1000"));
    ASSERT_TRUE(r.headers.get("Content-Length"));
    EXPECT_EQ(*r.headers.get("Content-Length"), "1000");
    EXPECT_EQ(r.headers.get("content-length"), r.headers.get("CONTENT-LENGTH"));
    EXPECT_EQ(r.headers.get("server").value_or(""), "cogent-page-server");
}

TEST_F(http_test, NotFoundIsAResponseAndRaiseForStatusMakesItAnError) {
    cogent_pages::page_server server;
    const std::string url = server.url("/no/such/page");
    http::response r = http::get(url, {.timeout = patience});
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.reason, "Not Found");
    EXPECT_FALSE(r.ok());
    EXPECT_NE(r.body.find("/no/such/page"), std::string::npos);
    try {
        r.raise_for_status();
        ADD_FAILURE() << "raise_for_status did not throw for a 404";
    } catch (const http::error& e) {
        EXPECT_EQ(e.code(), http::errc::http_returned_error);
        EXPECT_EQ(e.url(), url);
        EXPECT_NE(std::string(e.what()).find(url), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("404"), std::string::npos) << e.what();
    }
}

TEST_F(http_test, ServerErrorsAreResponses) {
    cogent_pages::page_server server;
    http::response r = http::get(server.url("/status/503"), {.timeout = patience});
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.body, "Service Unavailable\n");
    EXPECT_THROW(r.raise_for_status(), http::error);
    http::response fine = http::get(server.url("/status/204"), {.timeout = patience});
    EXPECT_EQ(fine.status, 204);
    EXPECT_NO_THROW(fine.raise_for_status());
}

TEST_F(http_test, PostSendsItsBodyAndHeaders) {
    cogent_pages::page_server server;
    http::response r = http::post(server.url("/echo"), "{\"n\": 1}", {{"Content-Type", "application/json"}},
                                  {.timeout = patience});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "{\"n\": 1}");
    EXPECT_EQ(r.headers.get("content-type").value_or(""), "application/json");
}

TEST_F(http_test, PutSendsALargeBodyAtOnce) {
    cogent_pages::page_server server;
    // Over curl's threshold for "Expect: 100-continue" (1 MiB), which the client turns off, and
    // over what one socket write takes: the body must arrive whole, in order.
    const std::string body = cogent_test::payload(3 << 20);
    http::response r = http::put(server.url("/echo"), body, {{"Content-Type", "text/plain"}}, {.timeout = patience});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.size(), body.size());
    EXPECT_TRUE(r.body == body);
    EXPECT_EQ(r.headers.get("content-type").value_or(""), "text/plain");
}

TEST_F(http_test, RequestCarriesTheOptionsHeadersAndUserAgent) {
    cogent_pages::page_server server;
    http::options opts;
    opts.timeout = patience;
    opts.headers = {{"X-Request-Id", "abc-123"}};
    opts.user_agent = "cogent-test/1";
    http::response r = http::request("GET", server.url("/headers"), {{"X-Other", "two"}}, {}, opts);
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("x-request-id: abc-123\n"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("x-other: two\n"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("user-agent: cogent-test/1\n"), std::string::npos) << r.body;
}

TEST_F(http_test, HeadHasHeadersButNoBody) {
    cogent_pages::page_server server;
    http::response r = http::request("HEAD", server.url("/page/500"), {}, {}, {.timeout = patience});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.headers.get("content-length").value_or(""), "500");
    EXPECT_TRUE(r.body.empty());
}

TEST(http_headers, LookupIgnoresCaseAndKeepsRepeatedFields) {
    http::headers h;
    h.add("Set-Cookie", "a=1");
    h.add("Content-Type", "text/plain");
    h.add("set-cookie", "b=2");
    EXPECT_EQ(h.size(), 3u);
    EXPECT_EQ(h.get("SET-COOKIE").value_or(""), "a=1");
    EXPECT_EQ(h.get_all("Set-Cookie"), (std::vector<std::string_view>{"a=1", "b=2"}));
    EXPECT_TRUE(h.contains("content-type"));
    EXPECT_FALSE(h.get("Content-Length"));
    h.set("SET-cookie", "c=3");
    EXPECT_EQ(h.get_all("set-cookie"), (std::vector<std::string_view>{"c=3"}));
    EXPECT_EQ(h.begin()->name, "Content-Type");  // the others keep their order
    h.erase("content-type");
    EXPECT_EQ(h.size(), 1u);
}

// The client relies on it to keep name lookups off the hub's thread (see docs/net.md); a libcurl
// without it would still work, but each lookup would block every greenlet of the thread.
TEST(http_curl, ResolvesNamesOnAThreadOfItsOwn) {
    const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
    EXPECT_NE(info->features & CURL_VERSION_ASYNCHDNS, 0) << "libcurl " << info->version;
}

}  // namespace
