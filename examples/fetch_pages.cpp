// Seed example 3 (gevent_fetch.py): one task per URL, joinall, each printing "GET url <url>",
// the page as Python prints bytes, and "<n> bytes received from <url>.". The fetches overlap, so
// the whole takes about as long as the slowest fetch, not the sum; the last line says both.
//
//   fetch_pages [--patched] [--sequential] [--delay-ms 200] [--timeout SECONDS] [URL ...]
//
// Two ways to write the fetch, as the seed offers gevent's two:
//   default     cogent::http::get(url): the cooperative HTTP client (libcurl's multi interface
//               driven by the hub), like gevent-aware code;
//   --patched   plain blocking code, libcurl's easy API (curl_easy_perform), made cooperative by
//               cogent::monkey::patch_all(), like the seed's monkey.patch_all() + urlopen().
// --sequential fetches one page after another, for comparison. Without URLs it starts a local
// page server (examples/http_page_server.hpp) answering each request after --delay-ms and
// fetches three of its pages: no internet is needed.
#include <curl/curl.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <cogent/cogent.hpp>
#include <cogent/http.hpp>
#include <cogent/monkey.hpp>

#include "command_line.hpp"
#include "http_page_server.hpp"
#include "python_repr.hpp"

namespace {

using seconds_f = std::chrono::duration<double>;

struct settings {
    bool patched = false;
    bool sequential = false;
    std::chrono::milliseconds delay{200};
    cogent::duration timeout = std::chrono::seconds(30);
    std::vector<std::string> urls;
};

const cogent_examples::command_line arguments(
    "fetch_pages",
    "fetch_pages [--patched] [--sequential] [--delay-ms N] [--timeout SECONDS] [URL ...]");

settings parse(int argc, char** argv) {
    settings s;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) arguments.fail(std::string(arg) + " needs a value");
            return argv[++i];
        };
        if (arg == "--patched") {
            s.patched = true;
        } else if (arg == "--sequential") {
            s.sequential = true;
        } else if (arg == "--delay-ms") {
            s.delay = std::chrono::milliseconds(arguments.number(value(), arg, 60'000));
        } else if (arg == "--timeout") {
            s.timeout = std::chrono::seconds(arguments.number(value(), arg, 3600));
        } else if (arg.starts_with("--")) {
            arguments.fail("unknown option '" + std::string(arg) + "'");
        } else {
            s.urls.emplace_back(arg);
        }
    }
    return s;
}

// libcurl's easy API, written as any blocking C program would write it. Inside a greenlet with
// patching on, its connect, poll, send and recv park the greenlet instead of the thread.
std::string blocking_curl_get(const std::string& url, cogent::duration timeout) {
    std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) throw std::runtime_error("curl_easy_init failed");
    std::string body;
    char error[CURL_ERROR_SIZE] = "";
    auto append = +[](char* data, std::size_t size, std::size_t count, void* into) -> std::size_t {
        static_cast<std::string*>(into)->append(data, size * count);
        return size * count;
    };
    long timeout_ms = timeout == cogent::forever
                          ? 0
                          : static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count());
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, append);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, timeout_ms);
    CURLcode result = curl_easy_perform(curl.get());
    if (result != CURLE_OK) {
        throw std::runtime_error(std::string(curl_easy_strerror(result)) + (*error ? std::string(" (") + error + ")" : ""));
    }
    return body;
}

// The seed's pa_web_page(url).
void fetch_page(const std::string& url, const settings& s) {
    std::printf("GET url %s\n", url.c_str());
    std::fflush(stdout);
    std::string data;
    if (s.patched) {
        data = blocking_curl_get(url, s.timeout);
    } else {
        cogent::http::options options;
        options.timeout = s.timeout;
        cogent::http::response response = cogent::http::get(url, options);
        response.raise_for_status();
        data = std::move(response.body);
    }
    std::printf("%s\n", cogent_examples::python_bytes_repr(data).c_str());
    std::printf("%zu bytes received from %s.\n", data.size(), url.c_str());
    std::fflush(stdout);
}

// Fetches every URL, concurrently or one by one; false if any failed (each failure said on stderr).
bool fetch_all(const settings& s) {
    auto fetch_reporting = [&s](const std::string& url) {
        try {
            fetch_page(url, s);
            return true;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "fetch_pages: %s: %s\n", url.c_str(), e.what());
            return false;
        }
    };
    bool all_fetched = true;
    if (s.sequential) {
        for (const std::string& url : s.urls) all_fetched = fetch_reporting(url) && all_fetched;
        return all_fetched;
    }
    // libcurl and OpenSSL need more stack than cogent's 64 KiB default.
    cogent::task_options options;
    options.stack_size = 512 * 1024;
    std::vector<cogent::task<bool>> tasks;
    for (const std::string& url : s.urls) tasks.push_back(cogent::spawn(options, fetch_reporting, url));
    cogent::joinall(std::vector<cogent::basic_task>(tasks.begin(), tasks.end()));
    for (auto& t : tasks) all_fetched = t.get() && all_fetched;
    return all_fetched;
}

}  // namespace

int main(int argc, char** argv) {
    settings s = parse(argc, argv);
    try {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("curl_global_init failed");
        // With no URLs, the local page server stands in for the seed's two web sites.
        std::optional<cogent_pages::page_server> server;
        if (s.urls.empty()) {
            cogent_pages::page_server_options options;
            options.delay = s.delay;
            server.emplace(options);
            s.urls = {server->url("/"), server->url("/page/100"), server->url("/page/200")};
        }
        if (s.patched) cogent::monkey::patch_all();
        auto start = std::chrono::steady_clock::now();
        bool all_fetched = cogent::run([&s] { return fetch_all(s); });
        double took = seconds_f(std::chrono::steady_clock::now() - start).count();
        std::printf("%zu pages %s in %.2f s (%s)\n", s.urls.size(),
                    s.sequential ? "fetched one after another" : "fetched concurrently", took,
                    s.patched ? "blocking libcurl calls made cooperative by monkey::patch_all" : "cogent::http::get");
        curl_global_cleanup();
        return all_fetched ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fetch_pages: %s\n", e.what());
        return 1;
    }
}
