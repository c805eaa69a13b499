// A socket address: IPv4, IPv6 (with scope id), or a Unix-domain path (or a Linux abstract name,
// written with a leading '@'). A value type that holds any sockaddr the kernel gives back.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

namespace cogent {

class endpoint {
public:
    // No address (family AF_UNSPEC).
    endpoint() noexcept;
    // Copies `size` bytes of `address`; throws std::invalid_argument if they cannot be a sockaddr.
    endpoint(const sockaddr* address, socklen_t size);

    // Numeric forms only (names are for cogent::resolve): "127.0.0.1:8080", "[::1]:8080",
    // "[fe80::1%eth0]:80", "/run/app.sock", "@abstract". Throws std::invalid_argument naming the
    // text and what is wrong with it.
    static endpoint parse(std::string_view text);
    // A numeric IPv4 or IPv6 address ("::1", "fe80::1%eth0") and a port; throws std::invalid_argument.
    static endpoint ip(std::string_view address, std::uint16_t port);
    // 127.0.0.1 or ::1.
    static endpoint loopback(std::uint16_t port, int family = AF_INET);
    // 0.0.0.0 or ::, for listening on every interface.
    static endpoint any(std::uint16_t port, int family = AF_INET);
    // A Unix-domain socket path; a leading '@' makes it a Linux abstract name. Throws
    // std::invalid_argument if it is empty or does not fit in sockaddr_un.
    static endpoint unix_path(std::string_view path);

    int family() const noexcept { return storage_.ss_family; }
    bool is_ip() const noexcept { return family() == AF_INET || family() == AF_INET6; }
    // The port of an IP endpoint, 0 otherwise.
    std::uint16_t port() const noexcept;
    void set_port(std::uint16_t port) noexcept;
    // "127.0.0.1", "::1", "fe80::1%2", "/run/app.sock", "@name"; empty for no address.
    std::string address() const;
    // What parse() reads: "127.0.0.1:80", "[::1]:80", "/run/app.sock", "@name".
    std::string to_string() const;

    const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
    sockaddr* data() noexcept { return reinterpret_cast<sockaddr*>(&storage_); }
    socklen_t size() const noexcept { return size_; }
    static constexpr socklen_t capacity() noexcept { return sizeof(sockaddr_storage); }
    // After the kernel filled data() (accept, recvfrom, getsockname): how much it wrote.
    void resize(socklen_t size);

    friend bool operator==(const endpoint& a, const endpoint& b) noexcept;

private:
    static endpoint parse_ip(std::string_view address, std::uint16_t port, std::string_view whole);

    sockaddr_storage storage_;
    socklen_t size_;
};

std::ostream& operator<<(std::ostream& out, const endpoint& e);

}  // namespace cogent
