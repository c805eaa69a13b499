// The "cogent.http" error category (curl's codes and curl's words for them), http::error, and
// raise_for_status.
#include <curl/curl.h>

#include <string>

#include "cogent/http.hpp"

namespace cogent::http {
namespace {

class http_error_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "cogent.http"; }
    std::string message(int value) const override {
        // Our one addition to curl's meaning: a body cut off by max_response_bytes is reported
        // with curl's "maximum file size exceeded" code, which says the same of Content-Length.
        if (value == static_cast<int>(errc::response_too_large)) {
            return "the response is larger than options::max_response_bytes";
        }
        if (value == static_cast<int>(errc::http_returned_error)) return "the server answered with an error status";
        return ::curl_easy_strerror(static_cast<CURLcode>(value));
    }
};

}  // namespace

const std::error_category& category() noexcept {
    static const http_error_category instance;
    return instance;
}

error::error(std::error_code code, std::string method, std::string url, const std::string& what)
    : std::system_error(code, what), method_(std::move(method)), url_(std::move(url)) {}

void response::raise_for_status() const {
    if (status < 400) return;
    std::string what = "cogent.http: " + effective_url + ": HTTP " + std::to_string(status);
    if (!reason.empty()) what += " " + reason;
    // The method is not kept in a response; the URL is what a reader of the message needs.
    throw error(make_error_code(errc::http_returned_error), "", effective_url, what);
}

}  // namespace cogent::http
