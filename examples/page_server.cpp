// The local web server fetch_pages (the seed's example 3) fetches from, since the tour and the
// tests cannot reach the internet: fixed pages, each answered after a configurable delay so the
// overlap of concurrent fetches shows.
//
//   page_server [--port 0] [--host 127.0.0.1] [--delay-ms 0] [--backend NAME]
//               [--tls-cert CHAIN.pem --tls-key KEY.pem] [--log]
//
// Prints "page_server listening on <url>" once it accepts (with the port chosen when --port is
// 0), then serves until SIGINT or SIGTERM. Routes: see http_page_server.hpp.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <cogent/cogent.hpp>

#include "command_line.hpp"
#include "http_page_server.hpp"

namespace {

const cogent_examples::command_line arguments(
    "page_server",
    "page_server [--port N] [--host ADDRESS] [--delay-ms N] "
    "[--backend select|poll|epoll|epoll_et|io_uring] [--tls-cert FILE --tls-key FILE] [--log]");

}  // namespace

int main(int argc, char** argv) {
    cogent_pages::page_server_options options;
    std::string certificate;
    std::string key;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) arguments.fail(std::string(arg) + " needs a value");
            return argv[++i];
        };
        if (arg == "--port") {
            options.port = static_cast<std::uint16_t>(arguments.number(value(), arg, 65535));
        } else if (arg == "--host") {
            options.host = value();
        } else if (arg == "--delay-ms") {
            options.delay = std::chrono::milliseconds(arguments.number(value(), arg, 600'000));
        } else if (arg == "--backend") {
            const char* name = value();
            options.backend = cogent::parse_backend(name);
            if (!options.backend) arguments.fail(std::string("unknown backend '") + name + "'");
        } else if (arg == "--tls-cert") {
            certificate = value();
        } else if (arg == "--tls-key") {
            key = value();
        } else if (arg == "--log") {
            options.log = true;
        } else {
            arguments.fail("unknown option '" + std::string(arg) + "'");
        }
    }
    if (certificate.empty() != key.empty()) arguments.fail("--tls-cert and --tls-key go together");

    // The server runs on a thread of its own; block the stop signals before it starts so that
    // only this thread's wait_signal receives them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    try {
        if (!certificate.empty()) {
            cogent::tls_server_options tls;
            tls.certificate_chain_file = certificate;
            tls.private_key_file = key;
            options.tls = cogent::tls_context::server(tls);
        }
        cogent_pages::page_server server(options);
        std::printf("page_server listening on %s\n", server.url().c_str());
        std::fflush(stdout);
        int signal = cogent::wait_signal({SIGINT, SIGTERM});
        std::printf("page_server: %s, stopping after %zu responses\n", signal == SIGINT ? "SIGINT" : "SIGTERM",
                    server.responses());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "page_server: %s\n", e.what());
        return 1;
    }
    return 0;
}
