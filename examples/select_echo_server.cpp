// Seed example 4 (select_server.py): an echo server that answers every message upper-cased,
// serving all its clients from one thread with select(). It does not use cogent at all: it is the
// seed's model of I/O multiplexing, the loop that cogent's hub runs for you underneath tasks.
//
// Like the Python, it keeps a list of inputs (sockets to read), a list of outputs (sockets with
// replies waiting) and a message queue per connection. Unlike the Python, it closes a connection
// whose client has gone (the seed keeps it, and select() then reports it readable forever: the
// loop spins at 100% CPU), and it copes with what a real server meets: partial sends, EINTR,
// running out of descriptors, and descriptors too large for select().
//
//   select_echo_server [--port N] [--quiet] [--max-conns N|none]
//
// --port 0 picks a free port; the first line printed is always "listening on port <N>". --quiet
// leaves out the line per message received. SIGINT and SIGTERM end the server (exit status 0).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace {

using steady = std::chrono::steady_clock;

// A client that sends faster than it reads would make its queue grow without bound; past this
// many bytes of unsent replies (about what the kernel's socket buffers hold) we stop reading from
// it until it catches up.
constexpr std::size_t max_queued_bytes = 4 * 1024 * 1024;
// How long to stop accepting after accept() fails for want of descriptors or memory.
constexpr auto accept_backoff = std::chrono::milliseconds(100);

// Set by SIGINT and SIGTERM. These signals are blocked except inside pselect(), so one can only
// arrive while we wait; the wait then fails with EINTR and the loop sees the flag at once. (With
// plain select(), a signal landing just before the call would wait for the next wake-up.)
volatile std::sig_atomic_t stop_requested = 0;
void request_stop(int) { stop_requested = 1; }

// Each line goes out at once, so that logs show up promptly when stdout is a pipe.
void log_line(const std::string& line) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

// An address as Python prints one: ('127.0.0.1', 54321).
std::string python_address(const sockaddr_in& address) {
    char host[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &address.sin_addr, host, sizeof host);
    return "('" + std::string(host) + "', " + std::to_string(ntohs(address.sin_port)) + ")";
}

bool set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

struct connection {
    std::string peer;                 // the client's address, for the logs
    std::deque<std::string> replies;  // upper-cased data not sent yet, oldest first
    std::size_t queued_bytes = 0;     // the total size of replies
    bool closing = false;             // the client has finished sending: close once replies are out
};

struct echo_server {
    int listener = -1;
    bool quiet = false;
    std::optional<std::size_t> max_conns;
    std::vector<int> inputs;                // sockets to watch for reading; the listener first
    std::vector<int> outputs;               // sockets with replies waiting to be sent
    std::map<int, connection> connections;  // what the seed keeps in msg_queues, by descriptor
    steady::time_point accepts_paused_until{};
    bool warned_about_accept = false;

    int run(const sigset_t& wait_mask) {
        inputs.push_back(listener);
        while (!stop_requested) {
            // select() takes bit sets, rebuilt from the lists every round as select.select() does.
            // FD_SET on a descriptor >= FD_SETSIZE would write past the set: accept_one() refuses
            // such descriptors.
            fd_set readable, writable;
            FD_ZERO(&readable);
            FD_ZERO(&writable);
            int max_fd = -1;
            auto watch = [&max_fd](int fd, fd_set& set) {
                FD_SET(fd, &set);
                max_fd = std::max(max_fd, fd);
            };
            steady::time_point now = steady::now();
            bool paused = now < accepts_paused_until;
            bool accepting = !paused && (!max_conns || connections.size() < *max_conns);
            for (int fd : inputs) {
                // While we do not accept, new clients wait in the kernel's backlog.
                bool wanted = fd == listener ? accepting : connections.at(fd).queued_bytes < max_queued_bytes;
                if (wanted) watch(fd, readable);
            }
            for (int fd : outputs) watch(fd, writable);

            // Wait with no time limit, unless accepts are paused: then until the pause ends.
            auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(accepts_paused_until - now);
            timespec pause{static_cast<time_t>(left.count() / 1'000'000'000),
                           static_cast<long>(left.count() % 1'000'000'000)};
            timespec* timeout = paused ? &pause : nullptr;
            if (pselect(max_fd + 1, &readable, &writable, nullptr, timeout, &wait_mask) < 0) {
                if (errno == EINTR) continue;  // a signal: the loop's condition says whether to stop
                std::perror("select");
                return 1;
            }

            // Reading and writing may close sockets and edit the lists, so we walk copies. New
            // clients are accepted last, once this round's bits have all been used: accept() may
            // reuse a descriptor closed above, whose stale bit must not apply to the newcomer.
            for (int fd : std::vector<int>(inputs)) {
                if (fd != listener && FD_ISSET(fd, &readable)) read_from(fd);
            }
            for (int fd : std::vector<int>(outputs)) {
                if (FD_ISSET(fd, &writable)) write_to(fd);
            }
            if (FD_ISSET(listener, &readable)) accept_one();
        }
        return 0;
    }

    void accept_one() {
        sockaddr_in address{};
        socklen_t length = sizeof address;
        int fd = accept(listener, reinterpret_cast<sockaddr*>(&address), &length);
        if (fd < 0) {
            // The client gave up before we got to it, or a signal came: select() will tell us
            // about the next client.
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED || errno == EPROTO ||
                errno == EINTR) {
                return;
            }
            // Out of descriptors (EMFILE, ENFILE) or memory: the client stays in the backlog, so the
            // listener stays readable and trying again at once would spin. Say so once, and pause.
            if (!warned_about_accept) {
                std::fprintf(stderr, "accept: %s; pausing new connections until it works again\n",
                             std::strerror(errno));
                warned_about_accept = true;
            }
            accepts_paused_until = steady::now() + accept_backoff;
            return;
        }
        warned_about_accept = false;
        std::string peer = python_address(address);
        if (fd >= FD_SETSIZE) {
            std::fprintf(stderr, "refusing connection from %s: descriptor %d is beyond select()'s limit %d\n",
                         peer.c_str(), fd, FD_SETSIZE);
            close(fd);
            return;
        }
        // The connection must not block either: select() says a send() will not block, not that
        // the whole reply fits.
        if (!set_nonblocking(fd)) {
            std::perror("fcntl");
            close(fd);
            return;
        }
        log_line("got new conn " + std::to_string(fd) + " " + peer);
        inputs.push_back(fd);
        connections[fd].peer = std::move(peer);
    }

    void read_from(int fd) {
        connection& conn = connections.at(fd);
        char data[1024];  // the seed's recv(1024)
        ssize_t n;
        while ((n = recv(fd, data, sizeof data, 0)) < 0 && errno == EINTR) {
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // nothing after all; wait again
            // The seed catches ConnectionResetError; any other error ends the connection too.
            if (errno != ECONNRESET) {
                std::fprintf(stderr, "recv from %s: %s\n", conn.peer.c_str(), std::strerror(errno));
            }
            close_connection(fd);
            return;
        }
        if (n == 0) {
            // The client has closed (or shut down its sending side). This is where the seed goes
            // wrong: the socket stays readable forever. Stop reading it, and close it now, or once
            // the replies it is still owed have been sent.
            std::erase(inputs, fd);
            conn.closing = true;
            if (conn.replies.empty()) close_connection(fd);
            return;
        }
        std::string reply(data, static_cast<std::size_t>(n));
        if (!quiet) log_line("recv data from [" + conn.peer + "]:[" + reply + "]:");
        // Python's bytes.upper() changes ASCII letters only, and so do we.
        for (char& c : reply) {
            if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        }
        conn.queued_bytes += reply.size();
        conn.replies.push_back(std::move(reply));
        if (std::find(outputs.begin(), outputs.end(), fd) == outputs.end()) outputs.push_back(fd);
    }

    void write_to(int fd) {
        connection& conn = connections.at(fd);
        while (!conn.replies.empty()) {
            std::string& reply = conn.replies.front();
            // MSG_NOSIGNAL: sending to a client that has gone fails with EPIPE instead of raising
            // SIGPIPE, which would kill the whole server.
            ssize_t n = send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // the socket's buffer is full
                if (errno != EPIPE && errno != ECONNRESET) {
                    std::fprintf(stderr, "send to %s: %s\n", conn.peer.c_str(), std::strerror(errno));
                }
                close_connection(fd);
                return;
            }
            conn.queued_bytes -= static_cast<std::size_t>(n);
            if (static_cast<std::size_t>(n) < reply.size()) {
                // A partial send: the rest stays at the front of the queue, so the order holds, and
                // we wait until select() says there is room. (The seed's send() loses the rest.)
                reply.erase(0, static_cast<std::size_t>(n));
                return;
            }
            conn.replies.pop_front();
        }
        // Nothing left to send (the seed's queue.Empty): stop watching for writability.
        std::erase(outputs, fd);
        if (conn.closing) close_connection(fd);
    }

    void close_connection(int fd) {
        close(fd);
        std::erase(inputs, fd);
        std::erase(outputs, fd);
        connections.erase(fd);
        log_line("conn closed");
    }
};

bool parse_count(const char* text, long low, long high, long& value) {
    char* end = nullptr;
    errno = 0;
    value = std::strtol(text, &end, 10);
    return errno == 0 && end != text && *end == '\0' && value >= low && value <= high;
}

int fail(const char* what) {
    std::perror(what);
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    echo_server server;
    long port = 8888;  // the seed's port
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        long count = 0;
        if (arg == "--quiet") {
            server.quiet = true;
        } else if (arg == "--port" && i + 1 < argc && parse_count(argv[i + 1], 0, 65535, port)) {
            ++i;
        } else if (arg == "--max-conns" && i + 1 < argc && std::strcmp(argv[i + 1], "none") == 0) {
            server.max_conns.reset();
            ++i;
        } else if (arg == "--max-conns" && i + 1 < argc && parse_count(argv[i + 1], 1, 1 << 30, count)) {
            server.max_conns = static_cast<std::size_t>(count);
            ++i;
        } else {
            std::fputs("usage: select_echo_server [--port N] [--quiet] [--max-conns N|none]\n", stderr);
            return 2;
        }
    }

    // Block SIGINT and SIGTERM everywhere but inside pselect() (see request_stop), even if
    // whoever started us had them blocked.
    sigset_t stop_signals, wait_mask;
    sigemptyset(&stop_signals);
    for (int sig : {SIGINT, SIGTERM}) sigaddset(&stop_signals, sig);
    sigprocmask(SIG_BLOCK, &stop_signals, &wait_mask);
    struct sigaction action {};
    action.sa_handler = request_stop;
    for (int sig : {SIGINT, SIGTERM}) {
        sigdelset(&wait_mask, sig);
        sigaction(sig, &action, nullptr);
    }

    // The seed's server: bound to localhost, and a listening socket that does not block.
    server.listener = socket(AF_INET, SOCK_STREAM, 0);
    if (server.listener < 0) return fail("socket");
    int one = 1;  // a restarted server must not wait for its old connections' TIME_WAIT to end
    setsockopt(server.listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    socklen_t length = sizeof address;
    if (bind(server.listener, reinterpret_cast<sockaddr*>(&address), length) < 0) return fail("bind");
    // The seed's backlog of 5 makes a burst of clients wait for SYN retries; take the system's.
    if (listen(server.listener, SOMAXCONN) < 0) return fail("listen");
    if (!set_nonblocking(server.listener)) return fail("fcntl");
    if (server.listener >= FD_SETSIZE) {
        std::fprintf(stderr, "listening descriptor %d is beyond select()'s limit\n", server.listener);
        return 1;
    }
    getsockname(server.listener, reinterpret_cast<sockaddr*>(&address), &length);
    log_line("listening on port " + std::to_string(ntohs(address.sin_port)));

    int status = server.run(wait_mask);
    for (const auto& entry : server.connections) close(entry.first);
    close(server.listener);
    return status;
}
