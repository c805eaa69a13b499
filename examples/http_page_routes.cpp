// Parsing a request head and answering it (see http_page_routes.hpp).
#include "http_page_routes.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>

#include "http_page_server.hpp"

namespace cogent_pages {

std::string page_body(std::size_t n) {
    // Lines of 64 bytes naming their number, so a body cut short or shuffled shows at once.
    std::string body;
    body.reserve(n);
    for (std::size_t line = 0; body.size() < n; ++line) {
        std::string text = "cogent page line " + std::to_string(line) + " ";
        text.append(63 - std::min<std::size_t>(text.size(), 63), '.');
        text.push_back('\n');
        body.append(text, 0, std::min(text.size(), n - body.size()));
    }
    return body;
}

namespace detail {
namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
    return text;
}

// The number after `prefix` in `path`, if path is exactly prefix + digits and it fits `max`.
std::optional<std::uint64_t> number_after(std::string_view path, std::string_view prefix, std::uint64_t max) {
    if (!path.starts_with(prefix)) return std::nullopt;
    std::string_view digits = path.substr(prefix.size());
    std::uint64_t value = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() || value > max) {
        return std::nullopt;
    }
    return value;
}

response text(int status, std::string body) {
    response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

}  // namespace

std::optional<std::string_view> request::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (key == name) return std::string_view(value);
    }
    return std::nullopt;
}

bool request::keep_alive() const {
    std::string connection = lower(header("connection").value_or(""));
    if (minor_version == 0) return connection.find("keep-alive") != std::string::npos;
    return connection.find("close") == std::string::npos;
}

int parse_head(std::string_view head, request& into) {
    std::size_t line_end = head.find("\r\n");
    std::string_view line = head.substr(0, line_end);
    std::size_t first_space = line.find(' ');
    std::size_t second_space = line.find(' ', first_space == std::string_view::npos ? 0 : first_space + 1);
    if (first_space == 0 || first_space == std::string_view::npos || second_space == std::string_view::npos) return 400;
    into.method = std::string(line.substr(0, first_space));
    into.target = std::string(line.substr(first_space + 1, second_space - first_space - 1));
    std::string_view version = line.substr(second_space + 1);
    if (into.target.empty() || into.target.front() != '/') return 400;
    if (version == "HTTP/1.1") {
        into.minor_version = 1;
    } else if (version == "HTTP/1.0") {
        into.minor_version = 0;
    } else {
        return version.starts_with("HTTP/") ? 505 : 400;
    }
    while (line_end != std::string_view::npos) {
        std::size_t start = line_end + 2;
        line_end = head.find("\r\n", start);
        line = head.substr(start, line_end == std::string_view::npos ? std::string_view::npos : line_end - start);
        if (line.empty()) continue;
        std::size_t colon = line.find(':');
        if (colon == 0 || colon == std::string_view::npos) return 400;
        into.headers.emplace_back(lower(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
    }
    return 0;
}

response route(const request& r) {
    std::string_view path = r.target;
    path = path.substr(0, path.find('?'));
    const bool reads = r.method == "GET" || r.method == "HEAD";
    if (path == "/echo") {
        if (r.method != "POST" && r.method != "PUT") return text(405, "POST or PUT to /echo\n");
        response echo = text(200, r.body);
        echo.content_type = std::string(r.header("content-type").value_or("application/octet-stream"));
        return echo;
    }
    if (!reads) return text(405, "this page only answers GET and HEAD\n");
    if (path == "/") {
        response index = text(200,
                              "<html><head><title>cogent page server</title></head><body>\n"
                              "<h1>cogent page server</h1>\n<p>Pages: /page/N, /delay/MS, /status/CODE, "
                              "/redirect/N, /headers, /echo.</p>\n</body></html>\n");
        index.content_type = "text/html";
        return index;
    }
    if (auto n = number_after(path, "/page/", 64u << 20)) return text(200, page_body(*n));
    if (auto ms = number_after(path, "/delay/", 60'000)) {
        response delayed = text(200, "delayed " + std::to_string(*ms) + " ms\n");
        delayed.delay = std::chrono::milliseconds(*ms);
        return delayed;
    }
    if (auto code = number_after(path, "/status/", 599)) {
        if (*code < 200) return text(400, "status codes from 200 to 599\n");
        return text(static_cast<int>(*code), std::string(reason_phrase(static_cast<int>(*code))) + "\n");
    }
    if (auto n = number_after(path, "/redirect/", 1000)) {
        if (*n == 0) return text(200, "redirects done\n");
        response redirect = text(302, "see elsewhere\n");
        redirect.headers.emplace_back("Location", "/redirect/" + std::to_string(*n - 1));
        return redirect;
    }
    if (path == "/headers") {
        std::string listing;
        for (const auto& [name, value] : r.headers) listing += name + ": " + value + "\n";
        return text(200, std::move(listing));
    }
    return text(404, "no page at " + std::string(path) + "\n");
}

const char* reason_phrase(int status) noexcept {
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 418: return "I'm a teapot";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

std::string format_head(const response& r, bool keep_alive) {
    std::string head = "HTTP/1.1 ";
    head.append(std::to_string(r.status)).append(" ").append(reason_phrase(r.status)).append("\r\n");
    head.append("Server: cogent-page-server\r\n");
    head.append("Content-Type: ").append(r.content_type).append("\r\n");
    // A HEAD answer announces the length the GET would have.
    head.append("Content-Length: ").append(std::to_string(r.body.size())).append("\r\n");
    head.append(keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
    for (const auto& [name, value] : r.headers) head.append(name).append(": ").append(value).append("\r\n");
    head.append("\r\n");
    return head;
}

}  // namespace detail
}  // namespace cogent_pages
