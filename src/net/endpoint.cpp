// Endpoints: parsing and printing numeric socket addresses.
#include "cogent/endpoint.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <charconv>
#include <cstddef>
#include <cstring>
#include <ostream>
#include <stdexcept>

namespace cogent {
namespace {

[[noreturn]] void invalid(std::string_view text, const char* why) {
    throw std::invalid_argument("cogent: '" + std::string(text) + "' is not a valid endpoint: " + why);
}

std::uint16_t parse_port(std::string_view all, std::string_view digits) {
    unsigned value = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() || value > 65535) {
        invalid(all, "the port must be a number from 0 to 65535");
    }
    return static_cast<std::uint16_t>(value);
}

}  // namespace

endpoint::endpoint() noexcept : storage_{}, size_(0) {
    storage_.ss_family = AF_UNSPEC;
}

endpoint::endpoint(const sockaddr* address, socklen_t size) : endpoint() {
    if (address == nullptr || size > capacity() || size < static_cast<socklen_t>(sizeof(sa_family_t))) {
        throw std::invalid_argument("cogent: an endpoint needs a sockaddr of 2 to " + std::to_string(capacity()) +
                                    " bytes, not " + std::to_string(size));
    }
    std::memcpy(&storage_, address, size);
    size_ = size;
}

endpoint endpoint::ip(std::string_view address, std::uint16_t port) {
    return parse_ip(address, port, address);
}

// `whole` is the text the caller was given, for the error message.
endpoint endpoint::parse_ip(std::string_view address, std::uint16_t port, std::string_view whole) {
    std::string text(address);
    endpoint e;
    if (text.find(':') == std::string::npos) {
        auto* v4 = reinterpret_cast<sockaddr_in*>(&e.storage_);
        if (::inet_pton(AF_INET, text.c_str(), &v4->sin_addr) != 1) invalid(whole, "not a numeric IPv4 address");
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        e.size_ = sizeof(sockaddr_in);
        return e;
    }
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&e.storage_);
    std::string host = text;
    if (auto percent = text.find('%'); percent != std::string::npos) {
        host = text.substr(0, percent);
        std::string zone = text.substr(percent + 1);
        unsigned index = ::if_nametoindex(zone.c_str());
        if (index == 0) {
            auto [end, error] = std::from_chars(zone.data(), zone.data() + zone.size(), index);
            if (zone.empty() || error != std::errc() || end != zone.data() + zone.size()) {
                invalid(whole, "the zone after '%' is neither an interface nor a number");
            }
        }
        v6->sin6_scope_id = index;
    }
    if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) != 1) invalid(whole, "not a numeric IPv6 address");
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    e.size_ = sizeof(sockaddr_in6);
    return e;
}

endpoint endpoint::loopback(std::uint16_t port, int family) {
    if (family == AF_INET6) return ip("::1", port);
    if (family != AF_INET) throw std::invalid_argument("cogent: loopback endpoints are AF_INET or AF_INET6");
    return ip("127.0.0.1", port);
}

endpoint endpoint::any(std::uint16_t port, int family) {
    if (family == AF_INET6) return ip("::", port);
    if (family != AF_INET) throw std::invalid_argument("cogent: wildcard endpoints are AF_INET or AF_INET6");
    return ip("0.0.0.0", port);
}

endpoint endpoint::unix_path(std::string_view path) {
    endpoint e;
    auto* un = reinterpret_cast<sockaddr_un*>(&e.storage_);
    if (path.empty()) invalid(path, "a Unix-domain path cannot be empty");
    // A path needs its terminating zero inside sun_path; an abstract name does not have one.
    const bool abstract = path.front() == '@';
    if (path.size() + (abstract ? 0 : 1) > sizeof un->sun_path) invalid(path, "too long for a Unix-domain socket");
    if (path.find('\0') != std::string_view::npos) invalid(path, "it contains a zero byte");
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, path.data(), path.size());
    if (abstract) un->sun_path[0] = '\0';
    e.size_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (abstract ? 0 : 1));
    return e;
}

endpoint endpoint::parse(std::string_view text) {
    if (text.empty()) invalid(text, "it is empty");
    if (text.front() == '/' || text.front() == '@' || text.front() == '.') return unix_path(text);
    if (text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            invalid(text, "write IPv6 endpoints as [address]:port");
        }
        return parse_ip(text.substr(1, close - 1), parse_port(text, text.substr(close + 2)), text);
    }
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) invalid(text, "write IP endpoints as address:port");
    if (text.find(':') != colon) invalid(text, "write IPv6 endpoints as [address]:port");
    return parse_ip(text.substr(0, colon), parse_port(text, text.substr(colon + 1)), text);
}

std::uint16_t endpoint::port() const noexcept {
    if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
    return 0;
}

void endpoint::set_port(std::uint16_t port) noexcept {
    if (family() == AF_INET) reinterpret_cast<sockaddr_in*>(&storage_)->sin_port = htons(port);
    if (family() == AF_INET6) reinterpret_cast<sockaddr_in6*>(&storage_)->sin6_port = htons(port);
}

std::string endpoint::address() const {
    char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 2] = {};
    switch (family()) {
        case AF_INET:
            ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, text, sizeof text);
            return text;
        case AF_INET6: {
            const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
            ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
            std::string result = text;
            if (v6->sin6_scope_id != 0) result.append("%").append(std::to_string(v6->sin6_scope_id));
            return result;
        }
        case AF_UNIX: {
            const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
            const std::size_t offset = offsetof(sockaddr_un, sun_path);
            if (size_ <= offset) return "";  // an unnamed socket (socketpair, unbound client)
            std::size_t length = size_ - offset;
            if (un->sun_path[0] == '\0') return std::string("@").append(un->sun_path + 1, length - 1);
            return std::string(un->sun_path, strnlen(un->sun_path, length));
        }
        default: return "";
    }
}

// Built by appending: g++ 12 at -O3 wrongly warns (-Wrestrict, GCC bug 105329) about
// `"literal" + std::string` here.
std::string endpoint::to_string() const {
    switch (family()) {
        case AF_INET: return address().append(":").append(std::to_string(port()));
        case AF_INET6: return std::string("[").append(address()).append("]:").append(std::to_string(port()));
        default: return address();
    }
}

void endpoint::resize(socklen_t size) {
    if (size > capacity()) throw std::invalid_argument("cogent: endpoint size " + std::to_string(size) + " is too large");
    size_ = size;
}

bool operator==(const endpoint& a, const endpoint& b) noexcept {
    return a.size_ == b.size_ && std::memcmp(&a.storage_, &b.storage_, a.size_) == 0;
}

std::ostream& operator<<(std::ostream& out, const endpoint& e) {
    return out << e.to_string();
}

}  // namespace cogent
