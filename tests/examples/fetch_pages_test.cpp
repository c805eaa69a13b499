// fetch_pages (examples/fetch_pages.cpp, seed example 3) run as a child process against the local
// page server (examples/http_page_server.hpp, in this process on a thread of its own), on every
// backend, in both of its forms (cogent::http::get, and blocking libcurl calls made cooperative
// by monkey::patch_all): it must print what gevent_fetch.py prints for each page, fetch the pages
// concurrently (every "GET url" line comes before the first page does, the server holding each
// answer for a second), or one by one with --sequential, and fail cleanly for a page it cannot
// get while still printing the others. Also the page_server program itself.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <ostream>
#include <string>
#include <vector>

#include "example_process.hpp"
#include "http_page_server.hpp"
#include "python_repr.hpp"

namespace {

using namespace example_test;

constexpr milliseconds patience = 60s;  // a run takes about a second when it works

struct fetch_run {
    std::optional<int> status;
    std::string output, errors;
    std::string describe() const {
        return "\n--- fetch_pages " + (status ? describe_status(*status) : "did not exit") + "\n--- stdout:\n" +
               output + "\n--- stderr:\n" + errors;
    }
};

fetch_run run_fetch(std::vector<std::string> args) {
    child_process fetch(example_path("fetch_pages"), std::move(args));
    fetch_run run;
    run.status = fetch.finish(patience);
    run.output = fetch.output();
    run.errors = fetch.errors();
    return run;
}

// What gevent_fetch.py's pa_web_page prints once its page has come.
std::string page_lines(const std::string& url, const std::string& body) {
    return cogent_examples::python_bytes_repr(body) + "\n" + std::to_string(body.size()) + " bytes received from " +
           url + ".\n";
}

std::size_t position(const std::string& text, const std::string& needle) {
    std::size_t at = text.find(needle);
    return at == std::string::npos ? text.size() : at;
}

struct form {
    const char* backend;
    bool patched;
};
// For gtest's test listing: "epoll, patched" rather than the struct's bytes.
void PrintTo(const form& f, std::ostream* out) { *out << f.backend << (f.patched ? ", patched" : ", http"); }

class FetchPages : public ::testing::TestWithParam<form> {
protected:
    void SetUp() override {
        // The child inherits the backend; the server in this process uses the default one.
        ::setenv("COGENT_BACKEND", GetParam().backend, 1);
        cogent_pages::page_server_options options;
        options.delay = std::chrono::milliseconds(1000);
        server_.emplace(options);
    }
    void TearDown() override { ::unsetenv("COGENT_BACKEND"); }

    std::vector<std::string> arguments(std::vector<std::string> rest) const {
        if (GetParam().patched) rest.insert(rest.begin(), "--patched");
        return rest;
    }

    std::optional<cogent_pages::page_server> server_;
};

TEST_P(FetchPages, PrintsEachPageLikeTheSeedAndFetchesThemTogether) {
    const std::vector<std::string> urls = {server_->url("/page/5"), server_->url("/page/300"), server_->url("/")};
    fetch_run run = run_fetch(arguments(urls));
    ASSERT_TRUE(exited_with(run.status, 0)) << run.describe();
    EXPECT_NE(run.output.find(page_lines(urls[0], cogent_pages::page_body(5))), std::string::npos) << run.describe();
    EXPECT_NE(run.output.find(page_lines(urls[1], cogent_pages::page_body(300))), std::string::npos) << run.describe();
    EXPECT_NE(run.output.find("bytes received from " + urls[2] + ".\n"), std::string::npos) << run.describe();
    EXPECT_NE(run.output.find("b'<html>"), std::string::npos) << run.describe();
    // Concurrent: every fetch has started before the first page (held a second by the server) came.
    std::size_t first_page = position(run.output, "bytes received from");
    for (const std::string& url : urls) {
        EXPECT_LT(position(run.output, "GET url " + url + "\n"), first_page) << url << run.describe();
    }
    EXPECT_NE(run.output.find("3 pages fetched concurrently in "), std::string::npos) << run.describe();
    EXPECT_EQ(server_->responses(), 3u);
}

TEST_P(FetchPages, SequentialFetchesOneAfterAnother) {
    const std::vector<std::string> urls = {server_->url("/page/10"), server_->url("/page/20")};
    std::vector<std::string> args = arguments(urls);
    args.insert(args.begin(), "--sequential");
    fetch_run run = run_fetch(args);
    ASSERT_TRUE(exited_with(run.status, 0)) << run.describe();
    std::string expected = "GET url " + urls[0] + "\n" + page_lines(urls[0], cogent_pages::page_body(10)) +
                           "GET url " + urls[1] + "\n" + page_lines(urls[1], cogent_pages::page_body(20));
    EXPECT_EQ(run.output.substr(0, expected.size()), expected) << run.describe();
    EXPECT_NE(run.output.find("2 pages fetched one after another in "), std::string::npos) << run.describe();
}

TEST_P(FetchPages, APageThatCannotBeFetchedIsReportedAndTheOthersStillCome) {
    // Port 1 on the loopback refuses; /status/404 is an error page, which the seed's urlopen
    // raises for too.
    const std::string refused = "http://127.0.0.1:1/";
    const std::string missing = server_->url("/status/404");
    const std::string good = server_->url("/page/7");
    fetch_run run = run_fetch(arguments({refused, missing, good}));
    ASSERT_TRUE(exited_with(run.status, 1)) << run.describe();
    EXPECT_NE(run.errors.find("fetch_pages: " + refused + ": "), std::string::npos) << run.describe();
    EXPECT_NE(run.errors.find("fetch_pages: " + missing + ": "), std::string::npos) << run.describe();
    EXPECT_NE(run.errors.find("404"), std::string::npos) << run.describe();
    EXPECT_NE(run.output.find(page_lines(good, cogent_pages::page_body(7))), std::string::npos) << run.describe();
}

std::string form_name(const ::testing::TestParamInfo<form>& info) {
    return std::string(info.param.backend) + (info.param.patched ? "_patched" : "_http");
}

INSTANTIATE_TEST_SUITE_P(EveryBackend, FetchPages,
                         ::testing::Values(form{"select", false}, form{"poll", false}, form{"epoll", false},
                                           form{"epoll_et", false}, form{"io_uring", false}, form{"select", true},
                                           form{"poll", true}, form{"epoll", true}, form{"epoll_et", true},
                                           form{"io_uring", true}),
                         form_name);

TEST(FetchPagesAlone, WithoutUrlsItServesItsOwnPages) {
    fetch_run run = run_fetch({"--delay-ms", "100"});
    ASSERT_TRUE(exited_with(run.status, 0)) << run.describe();
    std::size_t gets = 0;
    for (std::size_t at = run.output.find("GET url http://127.0.0.1:"); at != std::string::npos;
         at = run.output.find("GET url http://127.0.0.1:", at + 1)) {
        ++gets;
    }
    EXPECT_EQ(gets, 3u) << run.describe();
    EXPECT_NE(run.output.find("100 bytes received from http://127.0.0.1:"), std::string::npos) << run.describe();
}

TEST(FetchPagesAlone, RefusesAnUnknownOption) {
    fetch_run run = run_fetch({"--fast"});
    EXPECT_TRUE(exited_with(run.status, 2)) << run.describe();
    EXPECT_NE(run.errors.find("unknown option '--fast'"), std::string::npos) << run.describe();
}

TEST(PageServer, ServesAPageAndStopsOnSigterm) {
    child_process server(example_path("page_server"), {"--port", "0"});
    std::string prefix = "page_server listening on http://127.0.0.1:";
    ASSERT_TRUE(server.wait_until([&] { return server.output().find("/\n") != std::string::npos; }))
        << server.describe();
    ASSERT_EQ(server.output().rfind(prefix, 0), 0u) << server.describe();
    int port = std::stoi(server.output().substr(prefix.size()));
    unique_fd client = connect_to(port);
    ASSERT_GE(client.get(), 0);
    std::string request = "GET /page/12 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    ASSERT_TRUE(send_all(client.get(), request));
    ending how = ending::none;
    std::string reply = receive(client.get(), 1 << 20, step_timeout, &how);
    EXPECT_EQ(how, ending::eof);
    EXPECT_EQ(reply.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << reply;
    EXPECT_NE(reply.find("Content-Length: 12\r\n"), std::string::npos) << reply;
    EXPECT_EQ(reply.substr(reply.size() - 12), cogent_pages::page_body(12)) << reply;
    server.signal(SIGTERM);
    EXPECT_TRUE(exited_with(server.finish(patience), 0)) << server.describe();
}

}  // namespace
