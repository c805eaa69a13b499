// An HTTP client whose requests park the calling greenlet (gevent + requests, or Beast's client
// on Asio): libcurl's multi interface driven by this thread's hub, so one thread runs any number
// of requests at once, and connections are kept alive and reused between them.
//
//   cogent::http::response r = cogent::http::get("https://example.com/", {.timeout = 10s});
//   if (r.status == 200) consume(r.body);
//   auto ct = r.headers.get("content-type");   // case-insensitive; std::optional
//
// It is a library of its own (cogent_http, which links libcurl): programs that make no HTTP
// request do not load libcurl. cogent.hpp does not include this header for the same reason.
//
// Errors: a request that could not be completed throws http::error (a std::system_error in the
// "cogent.http" category, whose code is curl's, compared with http::errc), its message naming
// the method, the URL and curl's own explanation:
//   "cogent.http: GET http://127.0.0.1:9/: Failed to connect to 127.0.0.1 port 9 after 0 ms:
//    Couldn't connect to server".
// A request whose timeout (or connect_timeout) passes throws cogent::timeout_error, as every
// cogent call does, its message naming the method and URL. A status of 404 or 500 is not an
// error: it is a response (call raise_for_status() to make it one). The std::error_code& forms
// report the same codes (std::errc::timed_out for a timeout) and throw nothing for them.
//
// Why timeouts are not http::error: the rest of cogent throws timeout_error for every timeout,
// so that one handler (or a cogent::timeout scope) covers them all; a class deriving from both
// would reach std::exception twice, and `catch (const std::exception&)` would then miss it.
#pragma once

#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "cogent/time.hpp"

namespace cogent::http {

// The errors a request can end with, for comparisons (`ec == http::errc::couldnt_connect`).
// Their values are libcurl's CURLcode values, so a code not named here is still curl's.
enum class errc {
    unsupported_protocol = 1,        // not http:// or https://
    url_malformat = 3,
    couldnt_resolve_host = 6,
    couldnt_connect = 7,             // refused, unreachable
    http_returned_error = 22,        // raise_for_status(): the status was 400 or more
    send_error = 55,
    receive_error = 56,              // the connection was reset or closed mid-response
    ssl_connect_error = 35,          // the TLS handshake failed
    too_many_redirects = 47,         // more than options::max_redirects
    got_nothing = 52,                // the server closed the connection without answering
    peer_failed_verification = 60,   // the server's certificate is untrusted or not for this host
    response_too_large = 63,         // the body is longer than options::max_response_bytes
};

const std::error_category& category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

// Header fields in the order they came, repeated names kept (Set-Cookie), looked up without
// regard to case, as HTTP says names are compared.
class headers {
public:
    struct field {
        std::string name;
        std::string value;
    };

    headers() = default;
    headers(std::initializer_list<field> fields) : fields_(fields) {}

    void add(std::string name, std::string value) { fields_.push_back({std::move(name), std::move(value)}); }
    // Replaces every field called `name` with one of `value`.
    void set(std::string_view name, std::string value);
    void erase(std::string_view name) noexcept;

    // The first value of `name`; nullopt if there is none. The view is valid while the field is.
    std::optional<std::string_view> get(std::string_view name) const noexcept;
    std::vector<std::string_view> get_all(std::string_view name) const;
    bool contains(std::string_view name) const noexcept { return get(name).has_value(); }

    std::size_t size() const noexcept { return fields_.size(); }
    bool empty() const noexcept { return fields_.empty(); }
    auto begin() const noexcept { return fields_.begin(); }
    auto end() const noexcept { return fields_.end(); }

private:
    std::vector<field> fields_;
};

struct options {
    // The whole request: connecting, sending, following redirects and reading the last body.
    // Default forever, as every cogent call; a cogent::timeout scope around the call works too.
    duration timeout = forever;
    // Establishing each connection (TCP and TLS). A finite default, so that an unreachable host
    // fails by itself even when no total timeout is given (curl's own default is 300 s).
    duration connect_timeout = std::chrono::seconds(30);
    // Follow 301, 302, 303, 307 and 308 responses (POST becomes GET on 301-303, as browsers and
    // requests do), at most max_redirects times; more is errc::too_many_redirects. Off: the
    // redirect is the response.
    bool follow_redirects = true;
    int max_redirects = 10;
    // Check the server's certificate chain (against ca_file if given, else the system's CAs) and
    // that it is for the host in the URL. Turning either off is for tests only.
    bool verify_peer = true;
    bool verify_host = true;
    std::string ca_file{};
    // Sent with the request (a name given here replaces curl's own header of that name; an empty
    // value removes it).
    http::headers headers{};
    std::string user_agent = "cogent-http/0.1";
    // A body longer than this is errc::response_too_large (told by Content-Length before the
    // body is read, or as soon as the body grows past it); so are header fields longer than
    // this in all. Memory stays bounded by it.
    std::size_t max_response_bytes = std::size_t{64} << 20;
};

struct response {
    int status = 0;            // of the last response (after redirects)
    std::string reason;        // its reason phrase ("Not Found"); HTTP/2 has none
    http::headers headers;     // of the last response
    std::string body;
    std::string effective_url; // the URL of the last response (after redirects)

    // 200 to 299.
    bool ok() const noexcept { return status >= 200 && status < 300; }
    // Throws http::error (errc::http_returned_error) naming the URL if the status is 400 or more.
    void raise_for_status() const;
};

// The exception of a failed request. code() is in the "cogent.http" category (compare it with
// http::errc) for curl's errors.
class error : public std::system_error {
public:
    error(std::error_code code, std::string method, std::string url, const std::string& what);
    const std::string& method() const noexcept { return method_; }
    const std::string& url() const noexcept { return url_; }

private:
    std::string method_;
    std::string url_;
};

// Sends `method` to `url` ("http://" or "https://") with `request_headers` (after
// options.headers) and `body` (sent when non-empty, or always for POST and PUT), and waits for
// the whole response, parking the calling greenlet. A kill or an expired timeout scope is
// raised through both forms, as at any blocking call, and leaves nothing behind.
response request(std::string_view method, std::string_view url, const http::headers& request_headers = {},
                 std::string_view body = {}, const options& opts = {});
response request(std::string_view method, std::string_view url, const http::headers& request_headers,
                 std::string_view body, const options& opts, std::error_code& ec);

inline response get(std::string_view url, const options& opts = {}) { return request("GET", url, {}, {}, opts); }
inline response get(std::string_view url, const options& opts, std::error_code& ec) {
    return request("GET", url, {}, {}, opts, ec);
}
inline response post(std::string_view url, std::string_view body, const http::headers& request_headers = {},
                     const options& opts = {}) {
    return request("POST", url, request_headers, body, opts);
}
inline response put(std::string_view url, std::string_view body, const http::headers& request_headers = {},
                    const options& opts = {}) {
    return request("PUT", url, request_headers, body, opts);
}

// What this thread's client has done: connections opened (curl's count, which a reused
// connection does not increase) and requests completed. For tests and monitoring.
struct client_stats {
    std::size_t connections_opened = 0;
    std::size_t requests = 0;
};
client_stats stats() noexcept;

}  // namespace cogent::http

template <>
struct std::is_error_code_enum<cogent::http::errc> : std::true_type {};
