// Seed example 5 (client.py): the interactive client of the upper-casing echo server. It reads a
// line, sends it, and prints the reply as Python prints bytes:
//
//   >>:hello
//   Received b'HELLO'
//
// It works with piped standard input too (the tour feeds it that way), and fixes what the
// Python does wrong: an empty line is not sent (the Python would then wait forever for a reply
// to nothing), a reply that arrives in pieces is read whole (the Python reads once and falls out
// of step), and the end of input ends the program (the Python dies with EOFError).
//
//   echo_client [--host localhost] [--port 8888] [--timeout SECONDS]
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include <cogent/cogent.hpp>

#include "python_repr.hpp"

namespace {

[[noreturn]] void usage(const std::string& complaint) {
    std::fprintf(stderr, "echo_client: %s\nusage: echo_client [--host HOST] [--port N] [--timeout SECONDS]\n",
                 complaint.c_str());
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    std::string host = "localhost";
    unsigned long port = 8888;
    cogent::duration timeout = std::chrono::seconds(10);
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (i + 1 >= argc) usage("unknown option or missing value: " + std::string(arg));
        const char* value = argv[++i];
        char* end = nullptr;
        if (arg == "--host") {
            host = value;
        } else if (arg == "--port") {
            port = std::strtoul(value, &end, 10);
            if (*value == '\0' || *end != '\0' || port > 65535) usage("--port needs a number up to 65535");
        } else if (arg == "--timeout") {
            unsigned long seconds = std::strtoul(value, &end, 10);
            if (*value == '\0' || *end != '\0') usage("--timeout needs a number of seconds");
            timeout = std::chrono::seconds(seconds);
        } else {
            usage("unknown option: " + std::string(arg));
        }
    }

    try {
        cogent::tcp_stream s = cogent::connect(host, static_cast<std::uint16_t>(port), timeout);
        std::string line;
        for (;;) {
            std::cout << ">>:" << std::flush;
            if (!std::getline(std::cin, line)) break;
            if (line.empty()) continue;
            s.write_all(line, timeout);
            // The server answers every byte with one byte, so the whole reply is as long as the
            // message, however the network splits it.
            std::string reply(line.size(), '\0');
            std::error_code ec;
            std::size_t got = s.read_exact(reply, timeout, ec);
            if (ec == cogent::net_errc::end_of_stream || ec == std::errc::connection_reset) {
                std::cout << "Received " << cogent_examples::python_bytes_repr(std::string_view(reply).substr(0, got)) << '\n'
                          << "the server closed the connection\n";
                return 1;
            }
            if (ec) cogent::detail::throw_net_error(ec, "cogent: reading the reply");
            std::cout << "Received " << cogent_examples::python_bytes_repr(reply) << '\n';
        }
        std::cout << '\n';
    } catch (const std::exception& e) {
        std::cout << std::flush;
        std::fprintf(stderr, "echo_client: %s\n", e.what());
        return 1;
    }
    return 0;
}
