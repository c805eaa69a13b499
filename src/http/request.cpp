// http::request: one easy handle set up from the options, handed to this thread's client, and
// waited for on a waiter in the caller's frame.
#include <sys/socket.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

#include "cogent/errors.hpp"
#include "cogent/hub.hpp"
#include "cogent/io_wait.hpp"
#include "cogent/waiter.hpp"
#include "http/client.hpp"
#include "http/receiver.hpp"

namespace cogent::http {
namespace {

using detail::receiver;

struct easy_deleter {
    void operator()(CURL* easy) const noexcept { ::curl_easy_cleanup(easy); }
};
struct list_deleter {
    void operator()(curl_slist* list) const noexcept { ::curl_slist_free_all(list); }
};

// The hub's backend must forget an fd before its number can be reused (see client.cpp).
int on_close_socket(void* /*user*/, curl_socket_t fd) {
    cogent::notify_close(fd);
    return ::close(fd);
}

long milliseconds_for_curl(duration d) {
    if (d == forever) return LONG_MAX;
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(d).count();
    return ms <= 0 ? 1 : (ms > LONG_MAX ? LONG_MAX : static_cast<long>(ms));
}

// An option that cannot be set is a curl without HTTP or TLS: a failure of the installation,
// reported with its reason instead of sending a request other than the one asked for.
template <class T>
void set(CURL* easy, CURLoption option, T value) {
    if (CURLcode rc = ::curl_easy_setopt(easy, option, value); rc != CURLE_OK) {
        throw std::runtime_error(std::string("cogent.http: curl_easy_setopt failed: ") + ::curl_easy_strerror(rc));
    }
}

curl_slist* append(curl_slist* list, const std::string& line) {
    curl_slist* grown = ::curl_slist_append(list, line.c_str());
    if (grown == nullptr) throw std::bad_alloc();
    return grown;
}

// "Name: value"; curl reads "Name:" as "do not send Name" (which is how an empty value removes
// one of curl's own headers).
std::string header_line(const headers::field& f) { return f.name + ": " + f.value; }

struct prepared {
    std::unique_ptr<CURL, easy_deleter> easy;
    std::unique_ptr<curl_slist, list_deleter> header_list;
};

prepared prepare(const std::string& method, const std::string& url, const headers& extra, std::string_view body,
                 const options& opts, receiver& r, char* error_buffer) {
    prepared p;
    p.easy.reset(::curl_easy_init());
    if (!p.easy) throw std::runtime_error("cogent.http: curl_easy_init failed");
    CURL* e = p.easy.get();
    set(e, CURLOPT_URL, url.c_str());
    set(e, CURLOPT_ERRORBUFFER, error_buffer);
    set(e, CURLOPT_NOSIGNAL, 1L);
    // A request given up while curl's resolver thread is still looking its host up would make
    // curl join that thread, blocking the hub until getaddrinfo returns (Curl_resolver_kill);
    // with this, curl leaves the thread to finish and free its memory by itself.
    set(e, CURLOPT_QUICK_EXIT, 1L);
    // Only the web: a redirect to file:// or gopher:// is refused, not followed.
    set(e, CURLOPT_PROTOCOLS_STR, "http,https");
    set(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    set(e, CURLOPT_FOLLOWLOCATION, opts.follow_redirects ? 1L : 0L);
    set(e, CURLOPT_MAXREDIRS, static_cast<long>(opts.max_redirects));
    set(e, CURLOPT_CONNECTTIMEOUT_MS, milliseconds_for_curl(opts.connect_timeout));
    set(e, CURLOPT_SSL_VERIFYPEER, opts.verify_peer ? 1L : 0L);
    set(e, CURLOPT_SSL_VERIFYHOST, opts.verify_host ? 2L : 0L);
    if (!opts.ca_file.empty()) set(e, CURLOPT_CAINFO, opts.ca_file.c_str());
    if (!opts.user_agent.empty()) set(e, CURLOPT_USERAGENT, opts.user_agent.c_str());
    if (opts.max_response_bytes <= static_cast<std::size_t>(LLONG_MAX)) {
        // A Content-Length over the limit fails before any of the body is read.
        set(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(opts.max_response_bytes));
    }
    set(e, CURLOPT_HEADERFUNCTION, &detail::on_header);
    set(e, CURLOPT_HEADERDATA, static_cast<void*>(&r));
    set(e, CURLOPT_WRITEFUNCTION, &detail::on_body);
    set(e, CURLOPT_WRITEDATA, static_cast<void*>(&r));
    set(e, CURLOPT_CLOSESOCKETFUNCTION, &on_close_socket);
    set(e, CURLOPT_CLOSESOCKETDATA, static_cast<void*>(nullptr));

    if (method == "GET") {
        set(e, CURLOPT_HTTPGET, 1L);
    } else if (method == "HEAD") {
        set(e, CURLOPT_NOBODY, 1L);
    } else {
        if (method != "POST") set(e, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    if (method == "POST" || method == "PUT" || (!body.empty() && method != "GET" && method != "HEAD")) {
        // The body is the caller's: request() does not return before curl is done with it.
        set(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
        set(e, CURLOPT_POSTFIELDS, body.empty() ? "" : body.data());
    }

    curl_slist* list = nullptr;
    bool expect_given = false;
    try {
        for (const headers* h : {&opts.headers, &extra}) {
            for (const headers::field& f : *h) {
                list = append(list, header_line(f));
                if (f.name.size() == 6 && ::strncasecmp(f.name.c_str(), "expect", 6) == 0) expect_given = true;
            }
        }
        // curl sends "Expect: 100-continue" before a large body and waits up to a second for the
        // server to say go on; most servers never do. Send the body at once, as requests does.
        if (!expect_given) list = append(list, "Expect:");
    } catch (...) {
        ::curl_slist_free_all(list);
        throw;
    }
    p.header_list.reset(list);
    set(e, CURLOPT_HTTPHEADER, list);
    return p;
}

// The request, reporting through `ec` and `detail` (curl's words, for the exception's message).
response perform(std::string_view method_view, std::string_view url_view, const headers& extra, std::string_view body,
                 const options& opts, std::error_code& ec, std::string& detail) {
    ec.clear();
    const std::string method(method_view);
    const std::string url(url_view);
    std::shared_ptr<detail::client> client = detail::client::for_this_thread();

    response out;
    receiver r;
    r.out = &out;
    r.limit = opts.max_response_bytes;
    char error_buffer[CURL_ERROR_SIZE] = {};
    prepared p = prepare(method, url, extra, body, opts, r, error_buffer);

    detail::transfer t;
    t.easy = p.easy.get();
    waiter w("http request");
    t.requester = &w;
    const clock::time_point deadline = deadline_after(opts.timeout);
    client->start(t);
    // However the wait ends (a kill, a timeout scope, our own deadline), the transfer leaves the
    // multi before its easy handle and the buffers its callbacks write to are destroyed.
    struct cancel_guard {
        detail::client& c;
        detail::transfer& t;
        ~cancel_guard() { c.cancel(t); }
    } guard{*client, t};

    while (!t.done && !t.failure) {
        if (w.wait_until(deadline) == wake_reason::timed_out && !t.done && !t.failure) {
            client->cancel(t);
            ec = std::make_error_code(std::errc::timed_out);
            detail = "timed out after " + std::to_string(milliseconds_for_curl(opts.timeout)) + " ms";
            return {};
        }
    }
    if (t.failure) std::rethrow_exception(t.failure);
    if (r.failure) std::rethrow_exception(r.failure);

    long connects = 0;
    ::curl_easy_getinfo(t.easy, CURLINFO_NUM_CONNECTS, &connects);
    client->stats().connections_opened += static_cast<std::size_t>(connects);
    ++client->stats().requests;

    if (t.result != CURLE_OK) {
        if (r.too_large || t.result == CURLE_FILESIZE_EXCEEDED) {
            ec = make_error_code(errc::response_too_large);
            detail = "the response is larger than max_response_bytes (" + std::to_string(opts.max_response_bytes) +
                     " bytes)";
        } else if (t.result == CURLE_OPERATION_TIMEDOUT) {
            ec = std::make_error_code(std::errc::timed_out);
            detail = error_buffer[0] != '\0' ? error_buffer : "timed out";
        } else {
            ec.assign(static_cast<int>(t.result), category());
            detail = error_buffer[0] != '\0' ? error_buffer : ::curl_easy_strerror(t.result);
        }
        return {};
    }
    detail::flush_field(r);  // a last field with no end of headers after it (never from a sound server)
    long status = 0;
    ::curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
    out.status = static_cast<int>(status);
    const char* effective = nullptr;
    ::curl_easy_getinfo(t.easy, CURLINFO_EFFECTIVE_URL, &effective);
    out.effective_url = effective != nullptr ? effective : url;
    return out;
}

}  // namespace

response request(std::string_view method, std::string_view url, const headers& request_headers,
                 std::string_view body, const options& opts, std::error_code& ec) {
    std::string detail;
    return perform(method, url, request_headers, body, opts, ec, detail);
}

response request(std::string_view method, std::string_view url, const headers& request_headers,
                 std::string_view body, const options& opts) {
    std::error_code ec;
    std::string detail;
    response out = perform(method, url, request_headers, body, opts, ec, detail);
    if (!ec) return out;
    std::string what = "cogent.http: " + std::string(method) + " " + std::string(url) + ": " + detail;
    if (ec == std::errc::timed_out) throw timeout_error(nullptr, what);
    throw error(ec, std::string(method), std::string(url), what);
}

client_stats stats() noexcept {
    if (!hub_started()) return {};
    try {
        return detail::client::for_this_thread()->stats();
    } catch (...) {
        return {};
    }
}

}  // namespace cogent::http
