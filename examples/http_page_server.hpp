// A small local HTTP/1.1 server of fixed pages, for fetch_pages (the seed's example 3), the tour,
// and the tests of the HTTP client and the hooks. No internet is reachable where those run, so
// they fetch from this instead; a configurable delay before every response makes the overlap of
// concurrent fetches visible (n fetches take about one delay, not n).
//
// It is a cogent stream_server (a greenlet per connection) running on a thread of its own with a
// hub of its own, so that a test or program can block its own thread, or its own hub, in any
// way it likes (a plain blocking curl call included) and still be answered.
//
// Routes (GET and HEAD unless said otherwise):
//   /                 a short HTML page
//   /page/<n>         a text body of exactly n bytes (page_body(n)), n up to 64 MiB
//   /delay/<ms>       answers after <ms> more milliseconds (up to 60 s)
//   /status/<code>    that status (100-599, not 1xx), with a short body
//   /redirect/<n>     302 to /redirect/<n-1>; /redirect/0 answers 200
//   /headers          the request's headers, one "name: value" per line, names lower-cased
//   POST|PUT /echo    the request's body, with its Content-Type
//   anything else     404 (or 405 for a method a route does not take)
// Requests may carry a Content-Length body (up to 16 MiB); "Transfer-Encoding: chunked" bodies
// are refused with 411. Connections are kept alive as HTTP/1.1 says, closed after 30 s idle.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <cogent/hub.hpp>
#include <cogent/tls.hpp>

namespace cogent_pages {

struct page_server_options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;                 // 0: an ephemeral port (see port())
    std::chrono::milliseconds delay{0};     // before every response
    cogent::tls_context tls{};              // empty: plain HTTP; a server context: HTTPS
    std::optional<cogent::backend_kind> backend{};  // of the server's hub; unset: the default
    bool log = false;                       // one line per request on stdout
};

// The body /page/<n> sends: lines of printable text, exactly n bytes, the same every time.
std::string page_body(std::size_t n);

class page_server {
public:
    // Starts the thread and returns once the server accepts connections. Throws what listening
    // throws (std::system_error: address in use, ...) and std::invalid_argument for a bad host.
    explicit page_server(page_server_options options = {});
    // Stops the server (handlers get a second to finish) and joins its thread.
    ~page_server();
    page_server(const page_server&) = delete;
    page_server& operator=(const page_server&) = delete;

    std::uint16_t port() const noexcept;
    // "http://127.0.0.1:<port><path>", or https:// for a TLS server; an IPv6 host in brackets.
    std::string url(std::string_view path = "/") const;
    // Responses sent (counted as each starts to go out, so a client that has one has been
    // counted), and connections accepted, since it started.
    std::size_t responses() const noexcept;
    std::size_t connections() const noexcept;

    struct state;

private:
    std::unique_ptr<state> state_;
};

}  // namespace cogent_pages
