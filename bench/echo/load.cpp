// echo_load: a closed-loop load generator for the upper-casing echo servers of bench/echo/ and
// examples/echo_server. Each of C connections sends an M-byte lowercase message, waits for the whole
// reply, checks that it is the message upper-cased, and sends the next; round trips are timed on the
// steady clock. It shares a 2-core machine with the server it measures, so it is one thread on raw
// non-blocking sockets and a level-triggered epoll, doing as little as it can.
//
//   echo_load --port N [--host 127.0.0.1] [--connections 1] [--size 64] [--seconds 3]
//             [--warmup 0.5] [--server-pid PID]
//
// With --server-pid it reads the server's CPU time (utime + stime in /proc/PID/stat: all its
// threads) when the measurement starts and ends, and divides it by the messages echoed. It prints a
// sentence, then a line of key=value pairs for scripts (bench/echo/echo_compare.sh reads it):
//   echo_load: C=64 M=64 msgs=123456 msgs/s=41152 p50=1.52us p99=... p999=... server_cpu_per_msg=7.81us ...
// Exit status 1 on a wrong reply or a failed connection, 2 on a bad command line.
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

namespace {

struct options {
    std::string host = "127.0.0.1", port;
    int connections = 1;
    std::size_t size = 64;
    double seconds = 3, warmup = 0.5;
    long server_pid = -1;
};

[[noreturn]] void fail(const char* what, int err = 0) {
    std::fprintf(stderr, "echo_load: %s%s%s\n", what, err ? ": " : "", err ? std::strerror(err) : "");
    std::exit(1);
}

options parse(int argc, char** argv) {
    options o;
    bool ok = argc % 2 == 1;
    for (int i = 1; ok && i + 1 < argc; i += 2) {
        std::string name = argv[i], value = argv[i + 1];
        char* end = nullptr;
        double number = std::strtod(value.c_str(), &end);
        bool numeric = !value.empty() && *end == '\0';
        // clang-format off
        if (name == "--host") o.host = value;
        else if (name == "--port") o.port = value;
        else if (name == "--connections" && numeric) o.connections = static_cast<int>(number);
        else if (name == "--size" && numeric) o.size = static_cast<std::size_t>(number);
        else if (name == "--seconds" && numeric) o.seconds = number;
        else if (name == "--warmup" && numeric) o.warmup = number;
        else if (name == "--server-pid" && numeric) o.server_pid = static_cast<long>(number);
        else ok = false;
        // clang-format on
    }
    if (ok && !o.port.empty() && o.connections >= 1 && o.size >= 1 && o.seconds > 0 && o.warmup >= 0)
        return o;
    std::fprintf(stderr,
                 "usage: echo_load --port N [--host H] [--connections C] [--size M] [--seconds S] "
                 "[--warmup S] [--server-pid PID]\n");
    std::exit(2);
}

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// A whole process's CPU time in seconds: in user space (utime) and in the kernel on its behalf
// (stime). The split shows how much of a server's cost per message any user-space change can reach.
struct cpu_seconds {
    double user = 0;
    double system = 0;
    double total() const { return user + system; }
};

// Nothing if /proc/PID/stat cannot be read.
std::optional<cpu_seconds> process_cpu_seconds(long pid) {
    if (pid <= 0) return std::nullopt;
    std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    // The command name (field 2) may hold spaces and parentheses, so fields are counted from the
    // last ')': fields 3 (state) to 13 are skipped, utime and stime are fields 14 and 15.
    std::size_t close = stat.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    unsigned long long utime = 0, stime = 0;
    if (std::sscanf(stat.c_str() + close + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                    &utime, &stime) != 2)
        return std::nullopt;
    const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
    return cpu_seconds{static_cast<double>(utime) / tick, static_cast<double>(stime) / tick};
}

double own_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::uint64_t xorshift(std::uint64_t x) {
    x ^= x << 13;
    x ^= x >> 7;
    return x ^ (x << 17);
}

std::string microseconds(double ns) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2fus", ns / 1e3);
    return text;
}

// The nearest-rank percentile q of sorted latencies in ns.
std::string percentile(const std::vector<std::int64_t>& sorted, double q) {
    if (sorted.empty()) return "n/a";
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    return microseconds(static_cast<double>(sorted[std::max<std::size_t>(rank, 1) - 1]));
}

// One client connection. Its buffer holds the message, the reply expected, and the reply so far.
struct connection {
    int fd = -1;
    std::uint64_t rng = 0;
    std::vector<char> buf;
    std::size_t sent = 0, received = 0;
    std::int64_t started = 0;
    bool writing = false;  // registered for EPOLLOUT: a send was partial (large messages only)
};

class load {
public:
    explicit load(const options& o) : o_(o), conns_(static_cast<std::size_t>(o.connections)) {}

    void connect_all() {
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* ai = nullptr;
        int rc = getaddrinfo(o_.host.c_str(), o_.port.c_str(), &hints, &ai);
        if (rc != 0) fail(gai_strerror(rc));
        epfd_ = epoll_create1(EPOLL_CLOEXEC);
        if (epfd_ < 0) fail("epoll_create1", errno);
        for (std::size_t i = 0; i < conns_.size(); ++i) {
            connection& c = conns_[i];
            // Blocking connects, one at a time: simple, and the server's backlog never overflows.
            c.fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (c.fd < 0) fail("socket", errno);
            if (connect(c.fd, ai->ai_addr, ai->ai_addrlen) < 0) fail("connect", errno);
            int one = 1;
            setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
            c.rng = 0x9E3779B97F4A7C15ULL * (i + 1);
            c.buf.resize(3 * o_.size);
            epoll_event ev{.events = EPOLLIN, .data = {.u64 = i}};
            if (epoll_ctl(epfd_, EPOLL_CTL_ADD, c.fd, &ev) < 0) fail("epoll_ctl", errno);
        }
        freeaddrinfo(ai);
    }

    void run() {
        std::int64_t start = now_ns();
        std::int64_t warm_end = start + static_cast<std::int64_t>(o_.warmup * 1e9);
        std::int64_t end = warm_end + static_cast<std::int64_t>(o_.seconds * 1e9);
        for (std::size_t i = 0; i < conns_.size(); ++i)
            send_next(i, start);
        std::vector<epoll_event> events(1024);
        bool measuring = false;
        for (;;) {
            std::int64_t now = now_ns();
            if (!measuring && now >= warm_end) {
                // Everything before this instant was warm-up: the window starts here.
                measuring = true;
                begin_ = now;
                latencies_.clear();
                latencies_.reserve(1 << 20);
                server_cpu0_ = process_cpu_seconds(o_.server_pid);
                own_cpu0_ = own_cpu_seconds();
            }
            if (measuring && now >= end) {
                end_ = now;
                server_cpu1_ = process_cpu_seconds(o_.server_pid);
                own_cpu1_ = own_cpu_seconds();
                return;
            }
            std::int64_t next = measuring ? end : warm_end;
            int timeout_ms = static_cast<int>((next - now + 999'999) / 1'000'000);
            int n = epoll_wait(epfd_, events.data(), static_cast<int>(events.size()), timeout_ms);
            if (n < 0 && errno != EINTR) fail("epoll_wait", errno);
            for (int k = 0; k < n; ++k) {
                std::size_t i = events[k].data.u64;
                if (events[k].events & EPOLLOUT) send_more(i);
                if (events[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) receive(i, measuring);
            }
        }
    }

    int report() const {
        std::vector<std::int64_t> sorted = latencies_;
        std::sort(sorted.begin(), sorted.end());
        double window = static_cast<double>(end_ - begin_) / 1e9, msgs = static_cast<double>(sorted.size());
        std::string p50 = percentile(sorted, 0.5), p99 = percentile(sorted, 0.99);
        std::string p999 = percentile(sorted, 0.999);
        const bool measured = server_cpu0_ && server_cpu1_;
        double server = measured ? server_cpu1_->total() - server_cpu0_->total() : -1;
        double server_kernel = measured ? server_cpu1_->system - server_cpu0_->system : -1;
        std::string per_msg = server >= 0 && msgs > 0 ? microseconds(server / msgs * 1e9) : "n/a";
        std::string kernel_per_msg = server >= 0 && msgs > 0 ? microseconds(server_kernel / msgs * 1e9) : "n/a";
        std::string share = server >= 0 ? std::to_string(std::lround(100 * server / window)) + "%" : "n/a";
        // The shares of a core tell whether the server was saturated, and whether echo_load was.
        std::printf(
            "%d connections x %zu bytes, %.2f s: %.0f round trips (%.0f/s), latency p50 %s p99 %s p99.9 %s, "
            "server CPU %s per message (%s in the kernel; %s of a core; echo_load %.0f%%)\n",
            o_.connections, o_.size, window, msgs, msgs / window, p50.c_str(), p99.c_str(), p999.c_str(),
            per_msg.c_str(), kernel_per_msg.c_str(), share.c_str(), 100 * (own_cpu1_ - own_cpu0_) / window);
        std::printf(
            "echo_load: C=%d M=%zu msgs=%.0f msgs/s=%.0f p50=%s p99=%s p999=%s server_cpu_per_msg=%s "
            "server_kernel_per_msg=%s mismatches=%llu\n",
            o_.connections, o_.size, msgs, msgs / window, p50.c_str(), p99.c_str(), p999.c_str(),
            per_msg.c_str(), kernel_per_msg.c_str(), static_cast<unsigned long long>(mismatches_));
        std::fflush(stdout);
        int status = 0;
        if (server < 0 && o_.server_pid > 0) {
            // The server's CPU per message is what the comparison is about: a run that could not
            // measure it has failed, whatever else it measured.
            std::fprintf(stderr,
                         "echo_load: cannot read the server's CPU time from /proc/%ld/stat at the %s of the "
                         "window (did the server exit?)\n",
                         o_.server_pid, server_cpu0_ ? "end" : "start");
            status = 1;
        }
        if (mismatches_ != 0) {
            std::fprintf(stderr, "echo_load: %llu replies were not the message upper-cased\n",
                         static_cast<unsigned long long>(mismatches_));
            status = 1;
        }
        return status;
    }

private:
    // Makes a new lowercase message (and the reply it should get) and starts sending it. The
    // letters come from an xorshift generator, one 64-bit step for eight of them.
    void send_next(std::size_t i, std::int64_t now) {
        connection& c = conns_[i];
        char* message = c.buf.data();
        char* expected = message + o_.size;
        for (std::size_t k = 0; k < o_.size; ++k) {
            if (k % 8 == 0) c.rng = xorshift(c.rng);
            unsigned byte = static_cast<unsigned>(c.rng >> (8 * (k % 8))) & 0xFF;
            message[k] = static_cast<char>('a' + (byte * 26 >> 8));
            expected[k] = static_cast<char>(message[k] - ('a' - 'A'));
        }
        c.sent = c.received = 0;
        c.started = now;
        send_more(i);
    }

    void send_more(std::size_t i) {
        connection& c = conns_[i];
        while (c.sent < o_.size) {
            ssize_t n = send(c.fd, c.buf.data() + c.sent, o_.size - c.sent, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) break;
                fail("send", errno);
            }
            c.sent += static_cast<std::size_t>(n);
        }
        // EPOLLOUT only while part of a message waits to go, as level-triggered epoll requires.
        bool want = c.sent < o_.size;
        if (want != c.writing) {
            epoll_event ev{.events = EPOLLIN | (want ? EPOLLOUT : 0u), .data = {.u64 = i}};
            if (epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev) < 0) fail("epoll_ctl", errno);
            c.writing = want;
        }
    }

    void receive(std::size_t i, bool measuring) {
        connection& c = conns_[i];
        char* reply = c.buf.data() + 2 * o_.size;
        ssize_t n = recv(c.fd, reply + c.received, o_.size - c.received, 0);
        if (n == 0) fail("the server closed a connection");
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
            fail("recv", errno);
        }
        c.received += static_cast<std::size_t>(n);
        if (c.received < o_.size) return;
        if (c.sent < o_.size) fail("the server replied with more than it was sent");
        std::int64_t now = now_ns();
        if (std::memcmp(reply, c.buf.data() + o_.size, o_.size) != 0) ++mismatches_;
        if (measuring) latencies_.push_back(now - c.started);
        send_next(i, now);
    }

    options o_;
    std::vector<connection> conns_;
    int epfd_ = -1;
    std::vector<std::int64_t> latencies_;  // of the messages completed in the window, in ns
    std::int64_t begin_ = 0, end_ = 0;
    std::optional<cpu_seconds> server_cpu0_, server_cpu1_;
    double own_cpu0_ = 0, own_cpu1_ = 0;
    std::uint64_t mismatches_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
    options o = parse(argc, argv);
    // Asked to measure a server it cannot see (a wrong pid, another PID namespace, /proc not
    // mounted): say so now, before any load is made, and fail.
    if (o.server_pid > 0 && !process_cpu_seconds(o.server_pid)) {
        std::fprintf(stderr, "echo_load: cannot read /proc/%ld/stat, so the server's CPU time cannot be measured\n",
                     o.server_pid);
        return 2;
    }
    // A thousand connections need more fds than the usual soft limit of 1024: take the hard one.
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
    load l(o);
    l.connect_all();
    l.run();
    return l.report();
}
