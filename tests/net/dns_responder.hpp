// A small DNS server for the resolver's tests: UDP on 127.0.0.1 at an ephemeral port, answering
// from a table. It runs on a std::thread with blocking sockets, so it works the same under every
// backend and leaves nothing in the hub (the tests' fixture checks the hub is clean).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace cogent_test {

class dns_responder {
public:
    enum class reply { answer, nxdomain, servfail, refused, drop };
    struct rule {
        reply kind = reply::answer;
        std::vector<std::string> a;          // IPv4 addresses, in the order to answer them
        std::vector<std::string> aaaa;       // IPv6 addresses
        std::chrono::milliseconds delay{0};  // before answering (it holds up every other question)
    };
    // A name with these addresses (none of a family means "no data" for it).
    static rule addresses(std::vector<std::string> a, std::vector<std::string> aaaa = {},
                          std::chrono::milliseconds delay = {}) {
        rule r;
        r.a = std::move(a);
        r.aaaa = std::move(aaaa);
        r.delay = delay;
        return r;
    }
    // A name answered with an error, or not at all.
    static rule fails(reply kind) {
        rule r;
        r.kind = kind;
        return r;
    }

    // Names are matched without regard to case and without a trailing dot; names not in the
    // table get NXDOMAIN.
    explicit dns_responder(std::map<std::string, rule> table) : table_(std::move(table)) {
        socket_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (socket_ < 0 || ::pipe2(stop_, O_CLOEXEC) != 0) fail("dns_responder socket");
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t size = sizeof address;
        if (::bind(socket_, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
            ::getsockname(socket_, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
            fail("dns_responder bind");
        }
        port_ = ntohs(address.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~dns_responder() {
        if (thread_.joinable()) {
            (void)!::write(stop_[1], "x", 1);
            thread_.join();
        }
        for (int fd : {socket_, stop_[0], stop_[1]}) {
            if (fd >= 0) ::close(fd);
        }
    }
    dns_responder(const dns_responder&) = delete;
    dns_responder& operator=(const dns_responder&) = delete;

    // For resolve_options::name_servers.
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    // How many questions have arrived (answered or not).
    int questions() const { return questions_.load(); }

private:
    [[noreturn]] void fail(const char* what) {
        const int error = errno;
        for (int fd : {socket_, stop_[0], stop_[1]}) {
            if (fd >= 0) ::close(fd);
        }
        throw std::system_error(error, std::generic_category(), what);
    }

    void serve() {
        std::uint8_t query[512];
        for (;;) {
            pollfd fds[] = {{socket_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
            if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
            if (fds[1].revents != 0) return;
            if ((fds[0].revents & POLLIN) == 0) continue;
            sockaddr_storage from{};
            socklen_t from_size = sizeof from;
            const ssize_t n =
                ::recvfrom(socket_, query, sizeof query, 0, reinterpret_cast<sockaddr*>(&from), &from_size);
            if (n < 12) continue;
            ++questions_;
            std::vector<std::uint8_t> response;
            std::chrono::milliseconds delay{0};
            if (!respond(query, static_cast<std::size_t>(n), response, delay)) continue;
            if (delay.count() > 0) std::this_thread::sleep_for(delay);
            (void)::sendto(socket_, response.data(), response.size(), 0, reinterpret_cast<sockaddr*>(&from),
                           from_size);
        }
    }

    // Builds the response to one question; false to send nothing (malformed, or a drop rule).
    bool respond(const std::uint8_t* q, std::size_t n, std::vector<std::uint8_t>& out,
                 std::chrono::milliseconds& delay) {
        if ((q[4] << 8 | q[5]) != 1) return false;  // exactly one question, as resolvers send
        std::string name;
        std::size_t at = 12;
        while (at < n && q[at] != 0) {
            const std::size_t length = q[at];
            if (length > 63 || at + 1 + length >= n) return false;
            if (!name.empty()) name += '.';
            for (std::size_t i = 0; i < length; ++i)
                name += static_cast<char>(std::tolower(q[at + 1 + i]));
            at += 1 + length;
        }
        if (at + 5 > n) return false;
        const std::size_t question_end = at + 5;  // the zero label, QTYPE, QCLASS
        const unsigned qtype = q[at + 1] << 8 | q[at + 2];

        rule r;
        r.kind = reply::nxdomain;
        if (auto found = table_.find(name); found != table_.end()) r = found->second;
        if (r.kind == reply::drop) return false;
        delay = r.delay;
        const unsigned rcode = r.kind == reply::nxdomain   ? 3
                               : r.kind == reply::servfail ? 2
                               : r.kind == reply::refused  ? 5
                                                           : 0;

        // Records of the asked type (1 = A, 28 = AAAA); none means "no data" for the name.
        std::vector<std::vector<std::uint8_t>> records;
        if (r.kind == reply::answer) {
            const bool v6 = qtype == 28;
            if (qtype == 1 || v6) {
                for (const std::string& text : v6 ? r.aaaa : r.a) {
                    std::vector<std::uint8_t> data(v6 ? 16 : 4);
                    if (::inet_pton(v6 ? AF_INET6 : AF_INET, text.c_str(), data.data()) == 1)
                        records.push_back(data);
                }
            }
        }

        out.assign(q, q + question_end);  // the header (rewritten below) and the question
        out[2] = static_cast<std::uint8_t>(0x80 | (q[2] & 0x79) | 0x04);  // QR, the opcode and RD, AA
        out[3] = static_cast<std::uint8_t>(0x80 | rcode);                 // RA, RCODE
        put16(out, 6, records.size());
        put16(out, 8, 0);
        put16(out, 10, 0);
        for (const auto& data : records) {
            append16(out, 0xC00C);  // the name: a pointer to the question's
            append16(out, qtype);
            append16(out, 1);  // class IN
            append16(out, 0);  // a TTL of 60 s
            append16(out, 60);
            append16(out, data.size());
            out.insert(out.end(), data.begin(), data.end());
        }
        return true;
    }

    static void put16(std::vector<std::uint8_t>& out, std::size_t at, std::size_t value) {
        out[at] = static_cast<std::uint8_t>(value >> 8);
        out[at + 1] = static_cast<std::uint8_t>(value);
    }
    static void append16(std::vector<std::uint8_t>& out, std::size_t value) {
        out.push_back(static_cast<std::uint8_t>(value >> 8));
        out.push_back(static_cast<std::uint8_t>(value));
    }

    const std::map<std::string, rule> table_;
    int socket_ = -1;
    int stop_[2] = {-1, -1};
    std::uint16_t port_ = 0;
    std::atomic<int> questions_{0};
    std::thread thread_;
};

}  // namespace cogent_test
