// N GET requests to the local page server (examples/http_page_server.hpp), both through libcurl:
//   - cogent::http::get from N greenlets at once, on one thread;
//   - the same N one after another with curl_easy_perform on one reused easy handle (the peer:
//     a program without an event loop);
// first with a delay before every answer (the overlap: N x delay serially, about one delay
// together), then without (the cost per request of the hub-driven multi against the plain easy
// interface, both over one kept-alive connection, cogent's requests made one after another).
//
//   bench_http_get [N = 100] [delay ms = 50]
#include <curl/curl.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cogent/http.hpp"
#include "cogent/task.hpp"
#include "http_page_server.hpp"

namespace {

using steady = std::chrono::steady_clock;

double seconds_since(steady::time_point start) {
    return std::chrono::duration<double>(steady::now() - start).count();
}

std::size_t discard(char*, std::size_t size, std::size_t count, void*) { return size * count; }

double curl_easy_serial(const std::string& url, int n) {
    CURL* easy = curl_easy_init();
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &discard);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    const auto start = steady::now();
    for (int i = 0; i < n; ++i) {
        long status = 0;
        if (curl_easy_perform(easy) != CURLE_OK ||
            (curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status), status != 200)) {
            std::fprintf(stderr, "curl_easy_perform failed\n");
            std::exit(1);
        }
    }
    const double took = seconds_since(start);
    curl_easy_cleanup(easy);
    return took;
}

double cogent_concurrent(const std::string& url, int n) {
    return cogent::run([&] {
        const auto start = steady::now();
        std::vector<cogent::task<int>> requests;
        for (int i = 0; i < n; ++i) {
            requests.push_back(cogent::spawn([&] { return cogent::http::get(url, {.timeout = std::chrono::seconds(60)}).status; }));
        }
        for (auto& r : requests) {
            if (r.get() != 200) std::exit(1);
        }
        return seconds_since(start);
    });
}

double cogent_serial(const std::string& url, int n) {
    return cogent::run([&] {
        const auto start = steady::now();
        for (int i = 0; i < n; ++i) {
            if (cogent::http::get(url, {.timeout = std::chrono::seconds(60)}).status != 200) std::exit(1);
        }
        return seconds_since(start);
    });
}

}  // namespace

int main(int argc, char** argv) {
    const int n = argc > 1 ? std::atoi(argv[1]) : 100;
    const int delay_ms = argc > 2 ? std::atoi(argv[2]) : 50;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    {
        cogent_pages::page_server_options options;
        options.delay = std::chrono::milliseconds(delay_ms);
        cogent_pages::page_server server(options);
        const std::string url = server.url("/page/1000");
        const double together = cogent_concurrent(url, n);
        const double serial = curl_easy_serial(url, n);
        std::printf("%d GETs, %d ms delay each: cogent::http::get, %d at once %.3f s; curl_easy_perform serially "
                    "%.3f s (%.1fx)\n",
                    n, delay_ms, n, together, serial, serial / together);
    }
    {
        cogent_pages::page_server server;
        const std::string url = server.url("/page/1000");
        cogent_serial(url, 10);  // warm: the connection made, the driver's stack mapped
        curl_easy_serial(url, 10);
        const int many = n * 10;
        const double ours = cogent_serial(url, many);
        const double theirs = curl_easy_serial(url, many);
        std::printf("%d GETs one after another, no delay: cogent::http::get %.1f us each; curl_easy_perform %.1f us "
                    "each (%.2fx)\n",
                    many, ours / many * 1e6, theirs / many * 1e6, ours / theirs);
    }
}
