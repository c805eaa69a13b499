// Helpers for the net suite: connected pairs, payloads, and counting open fds.
#pragma once

#include <dirent.h>

#include <cctype>
#include <cstddef>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "cogent/task.hpp"
#include "cogent/tcp.hpp"
#include "hub/core_test_support.hpp"

namespace cogent_test {

using namespace std::chrono_literals;
inline constexpr auto patience = std::chrono::seconds(10);  // how long what must happen may take

// A listener on 127.0.0.1 with a free port.
inline cogent::tcp_listener loopback_listener() {
    return cogent::tcp_listener::bind(cogent::endpoint::loopback(0));
}

// A connected TCP pair over loopback: {client, server side}.
inline std::pair<cogent::tcp_stream, cogent::tcp_stream> tcp_pair() {
    cogent::tcp_listener listener = loopback_listener();
    auto accepted = cogent::spawn([&] { return listener.accept(patience); });
    cogent::tcp_stream client = cogent::tcp_stream::connect(listener.local_endpoint(), patience);
    return {std::move(client), std::move(accepted.get(patience))};
}

// `size` bytes of lower-case letters, digits and punctuation, the same for the same seed.
inline std::string payload(std::size_t size, unsigned seed = 1) {
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789 .,;:!?-";
    std::mt19937 random(seed);
    std::uniform_int_distribution<std::size_t> pick(0, sizeof alphabet - 2);
    std::string text(size, ' ');
    for (char& c : text) c = alphabet[pick(random)];
    return text;
}

// ASCII upper case, as the seed's server replies.
inline std::string upper(std::string text) {
    for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return text;
}

// The seed's service as a stream_server handler: every chunk comes back upper-cased.
inline void upper_echo(cogent::stream_socket& s, const cogent::endpoint&) {
    std::vector<char> buffer(4096);  // not on the greenlet's 64 KiB stack
    while (std::size_t n = s.read_some(buffer, patience)) s.write_all(upper(std::string(buffer.data(), n)), patience);
}

// How many fds this process has open.
inline std::size_t open_fd_count() {
    std::size_t count = 0;
    if (DIR* dir = ::opendir("/proc/self/fd")) {
        while (::readdir(dir) != nullptr) ++count;
        ::closedir(dir);
    }
    return count;
}

// The error code of the std::system_error fn() throws; none if it returns.
template <class F>
std::error_code error_of(F&& fn) {
    try {
        fn();
        return {};
    } catch (const std::system_error& e) {
        return e.code();
    }
}

}  // namespace cogent_test
