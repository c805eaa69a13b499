// The hooks' proofs, timed: N greenlets (default 100) each doing one blocking thing with
// unmodified code, on the backend COGENT_BACKEND names, with patching on; beside each, the peer
// figure: the same code with patching off, one call after another.
//   curl   curl_easy_perform of a page that the local server delays by 200 ms
//   posix  hand-written socket/connect/send/recv against the same server
//   sleep  sleep(1)
// The serial runs are measured for a tenth of N (at least 3 calls) and scaled to N, since they
// cost N times the delay (100 sleeps of 1 s would take 100 s); the scaled figure is labelled so.
// Also reports how much stack curl + OpenSSL touched in a greenlet (resident pages of a 1 MiB
// stack after an HTTPS fetch), which is what greenlets calling curl must be given.
#include <curl/curl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "cogent/hub.hpp"
#include "cogent/monkey.hpp"
#include "cogent/task.hpp"
#include "http_page_server.hpp"
#include "net/test_certificates.hpp"

namespace {

std::size_t discard(char*, std::size_t size, std::size_t count, void*) { return size * count; }

bool curl_fetch(const std::string& url, const std::string& ca_file = {}) {
    CURL* easy = curl_easy_init();
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    if (!ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, ca_file.c_str());
    bool ok = curl_easy_perform(easy) == CURLE_OK;
    curl_easy_cleanup(easy);
    return ok;
}

bool posix_fetch(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    const char request[] = "GET /page/10 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    ok = ok && ::send(fd, request, sizeof request - 1, 0) == static_cast<ssize_t>(sizeof request - 1);
    char buffer[512];
    ssize_t n;
    std::size_t total = 0;
    while (ok && (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) total += static_cast<std::size_t>(n);
    ::close(fd);
    return ok && total > 0;
}

constexpr std::size_t curl_stack = 256 * 1024;

// Seconds for `count` calls of `call`, each in its own greenlet, all at once.
double together(int count, const std::function<bool()>& call) {
    int failures = 0;
    std::int64_t start = bench::now_ns();
    cogent::run([&] {
        std::vector<cogent::basic_task> tasks;
        cogent::task_options options;
        options.stack_size = curl_stack;
        for (int i = 0; i < count; ++i) tasks.push_back(cogent::spawn(options, [&] { failures += !call(); }));
        cogent::joinall(tasks);
    });
    double seconds = static_cast<double>(bench::now_ns() - start) / 1e9;
    if (failures != 0) std::printf("  (%d calls failed)\n", failures);
    return seconds;
}

// Seconds for `count` calls one after another, with patching off (plain libc).
double serially(int count, const std::function<bool()>& call) {
    cogent::monkey::unpatch_all();
    std::int64_t start = bench::now_ns();
    for (int i = 0; i < count; ++i) call();
    double seconds = static_cast<double>(bench::now_ns() - start) / 1e9;
    cogent::monkey::patch_all();
    return seconds;
}

void report(const char* name, int n, const std::function<bool()>& call) {
    int serial_count = std::max(3, n / 10);
    double parallel = together(n, call);
    double serial = serially(serial_count, call);
    std::printf("%-6s %3d greenlets: %7.3f s   serial: %7.3f s (%d measured: %.3f s, scaled to %d)\n", name, n,
                parallel, serial * n / serial_count, serial_count, serial, n);
}

// KiB of a 1 MiB greenlet stack that an HTTPS fetch through curl touched.
std::size_t curl_stack_use(const std::string& url, const std::string& ca_file) {
    std::size_t used = 0;
    cogent::run([&] {
        cogent::task_options options;
        options.stack_size = 1 << 20;
        cogent::spawn(options, [&] {
            char marker;
            long page = ::sysconf(_SC_PAGESIZE);
            auto top = (reinterpret_cast<std::uintptr_t>(&marker) + static_cast<std::uintptr_t>(page)) &
                       ~(static_cast<std::uintptr_t>(page) - 1);
            std::uintptr_t bottom = top - (1 << 20) + 2 * static_cast<std::uintptr_t>(page);
            if (!curl_fetch(url, ca_file)) std::printf("  (the HTTPS fetch failed)\n");
            std::vector<unsigned char> resident((top - bottom) / static_cast<std::size_t>(page));
            if (::mincore(reinterpret_cast<void*>(bottom), top - bottom, resident.data()) == 0) {
                for (unsigned char r : resident) used += (r & 1) ? static_cast<std::size_t>(page) : 0;
            }
        }).get();
    });
    return used / 1024;
}

}  // namespace

int main(int argc, char** argv) {
    int n = argc > 1 ? std::atoi(argv[1]) : 100;
    cogent::monkey::patch_all();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    std::printf("backend %s, %d greenlets, 200 ms server delay\n", cogent::to_string(cogent::current_backend()), n);

    cogent_pages::page_server_options options;
    options.delay = std::chrono::milliseconds(200);
    cogent_pages::page_server server(options);
    const std::string url = server.url("/page/100");
    report("curl", n, [&] { return curl_fetch(url); });
    report("posix", n, [&] { return posix_fetch(server.port()); });
    report("sleep", n, [] { return ::sleep(1) == 0; });

    cogent_test::test_certificates certificates;
    cogent::tls_server_options tls;
    tls.certificate_chain_file = certificates.server_chain_file;
    tls.private_key_file = certificates.server_key_file;
    cogent_pages::page_server_options secure;
    secure.tls = cogent::tls_context::server(tls);
    cogent_pages::page_server https(secure);
    std::printf("stack touched by one HTTPS curl_easy_perform in a greenlet: %zu KiB\n",
                curl_stack_use(https.url("/page/100"), certificates.ca_file));
    curl_global_cleanup();
}
