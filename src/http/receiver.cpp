// The response's status line, header fields and body, as curl hands them over.
#include "http/receiver.hpp"

#include <string_view>

namespace cogent::http::detail {
namespace {

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
    return s;
}

}  // namespace

// A field is kept aside until the next line, which may continue it (obsolete line folding).
void flush_field(receiver& r) {
    if (r.field_name.empty()) return;
    r.out->headers.add(std::move(r.field_name), std::move(r.field_value));
    r.field_name.clear();
    r.field_value.clear();
}

// curl hands each header line of each response (the redirects' and 1xx ones' included) with its
// CRLF. A status line starts a new response: what came before belonged to another one.
std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* r = static_cast<receiver*>(user);
    const std::size_t n = size * count;
    const bool status_line = std::string_view(data, n).starts_with("HTTP/");
    // Each response of a redirect chain (or a 100 Continue before the last) has the whole bound.
    if (status_line) r->header_bytes = 0;
    r->header_bytes += n;
    // The header fields are held to the same bound as the body, so that a server cannot send
    // endless ones either (curl only bounds each line).
    if (r->header_bytes > r->limit) {
        r->too_large = true;
        return 0;
    }
    try {
        std::string_view line(data, n);
        if (status_line) {
            r->field_name.clear();
            r->out->headers = {};
            r->out->body.clear();
            r->out->reason.clear();
            // "HTTP/1.1 404 Not Found": the reason is what follows the code.
            if (std::size_t code = line.find(' '); code != std::string_view::npos) {
                if (std::size_t reason = line.find(' ', code + 1); reason != std::string_view::npos) {
                    r->out->reason = std::string(trim(line.substr(reason + 1)));
                }
            }
        } else if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
            if (!r->field_name.empty()) r->field_value.append(" ").append(trim(line));
        } else {
            flush_field(*r);
            if (std::size_t colon = line.find(':'); colon != std::string_view::npos) {
                r->field_name = std::string(trim(line.substr(0, colon)));
                r->field_value = std::string(trim(line.substr(colon + 1)));
            }
        }
    } catch (...) {
        r->failure = std::current_exception();
        return 0;
    }
    return n;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* r = static_cast<receiver*>(user);
    const std::size_t n = size * count;
    if (n > r->limit - r->out->body.size()) {
        r->too_large = true;
        return 0;  // curl stops the transfer (CURLE_WRITE_ERROR)
    }
    try {
        r->out->body.append(data, n);
    } catch (...) {
        r->failure = std::current_exception();
        return 0;
    }
    return n;
}

}  // namespace cogent::http::detail
