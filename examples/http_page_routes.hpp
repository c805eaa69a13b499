// The page server's insides: parsing one HTTP/1.1 request head, and the routes that answer it.
// Kept apart from the connection loop (http_page_connection.cpp) so that each reads on its own.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cogent_pages::detail {

struct request {
    std::string method;
    std::string target;
    int minor_version = 1;  // HTTP/1.<minor>
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, in order
    std::string body;

    // The first header of that (lower-case) name, if any.
    std::optional<std::string_view> header(std::string_view name) const;
    // Whether the client asks to keep the connection open after this request (HTTP/1.1 does
    // unless "Connection: close"; HTTP/1.0 only with "Connection: keep-alive").
    bool keep_alive() const;
};

struct response {
    int status = 200;
    std::string content_type = "text/plain";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // beyond the usual ones
    std::chrono::milliseconds delay{0};  // to wait before sending it (/delay)
};

// Parses "METHOD target HTTP/1.x" and the header lines of `head` (the bytes before the blank
// line, without it). Returns the status to refuse it with (400, 505), or 0 when it is fine.
int parse_head(std::string_view head, request& into);

// The answer to a parsed request (see http_page_server.hpp for the routes).
response route(const request& r);

// "OK", "Not Found", ...; "Unknown" for a code it does not know.
const char* reason_phrase(int status) noexcept;

// The bytes of the response's status line and headers (Content-Length always; Connection as
// `keep_alive` says), ending with the blank line. A HEAD answer uses it too, without the body.
std::string format_head(const response& r, bool keep_alive);

}  // namespace cogent_pages::detail
