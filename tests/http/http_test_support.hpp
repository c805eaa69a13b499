// Helpers for the HTTP client's suite: the local page server, the hub's clean-up checks, and
// waiting (generously) for fds to be given back.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include "cogent/http.hpp"
#include "cogent/sleep.hpp"
#include "cogent/task.hpp"
#include "cogent/tcp.hpp"
#include "http_page_server.hpp"
#include "hub/core_test_support.hpp"
#include "net/net_test_support.hpp"

namespace cogent_test {

// Each test runs on the test's thread, whose hub (and HTTP client) persists between tests; the
// hub_test checks run after each (no greenlet left alive, no fd left watched).
using http_test = hub_test;

// Waits until the process has at most `expected` fds open, up to `patience`. The server's side
// of a connection our client closed goes a moment later, on the server's own thread.
inline std::size_t settle_fds(std::size_t expected) {
    const auto until = std::chrono::steady_clock::now() + patience;
    std::size_t now = open_fd_count();
    while (now > expected && std::chrono::steady_clock::now() < until) {
        cogent::sleep(std::chrono::milliseconds(10));
        now = open_fd_count();
    }
    return now;
}

// A server that accepts one connection, reads the request and never answers: a hung server.
// It runs as a task of the current hub. closed_by_client() says whether the client closed the
// connection (end of stream, or a reset) within `patience`: a client that gave up on a request
// must not leave the connection open behind it.
class silent_server {
public:
    silent_server() : listener_(loopback_listener()) {
        reader_ = cogent::spawn([this] {
            cogent::tcp_stream s = listener_.accept(patience);
            std::vector<char> buffer(4096);
            std::error_code ec;
            while (s.read_some(buffer, patience, ec) > 0) {
            }
            return !ec || ec == std::errc::connection_reset;
        });
    }
    std::string url(const std::string& path = "/") const {
        return "http://127.0.0.1:" + std::to_string(listener_.local_endpoint().port()) + path;
    }
    bool closed_by_client() { return reader_.get(patience * 2); }

private:
    cogent::tcp_listener listener_;
    cogent::task<bool> reader_;
};

// The message of the exception fn() throws, and whether it threw one of type E.
template <class E, class F>
std::string message_of(F&& fn) {
    try {
        fn();
    } catch (const E& e) {
        return e.what();
    }
    ADD_FAILURE() << "no exception of the expected type was thrown";
    return {};
}

}  // namespace cogent_test
