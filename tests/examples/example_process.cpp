// The example tests' child processes and client sockets: see example_process.hpp.
#include "example_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>

extern char** environ;

namespace example_test {

void unique_fd::reset(int fd) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
}

int poll_timeout(steady::time_point deadline) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - steady::now()).count();
    return static_cast<int>(std::clamp<long long>(left + 1, 0, 1000));
}

std::string upper(std::string text) {
    for (char& c : text) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    return text;
}

std::string example_path(std::string_view name) {
    return std::string(COGENT_EXAMPLES_DIR) + "/" + std::string(name);
}

// --- child_process

child_process::child_process(std::string program, std::vector<std::string> args, const child_options& options)
    : name_(program.substr(program.rfind('/') + 1)) {
    int out[2], err[2], in[2] = {-1, -1};
    if (pipe2(out, O_CLOEXEC) != 0) return;
    stdout_.reset(out[0]);
    unique_fd out_write(out[1]);
    if (pipe2(err, O_CLOEXEC) != 0) return;
    stderr_.reset(err[0]);
    unique_fd err_write(err[1]);
    unique_fd in_read;
    if (options.pipe_stdin) {
        if (pipe2(in, O_CLOEXEC) != 0) return;
        in_read.reset(in[0]);
        stdin_.reset(in[1]);
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_write.get(), STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err_write.get(), STDERR_FILENO);
    if (options.pipe_stdin) posix_spawn_file_actions_adddup2(&actions, in_read.get(), STDIN_FILENO);
    args.insert(args.begin(), program);
    if (options.descriptor_limit > 0) {
        std::string script =
            "ulimit -S -n " + std::to_string(options.descriptor_limit) + " && exec \"$0\" \"$@\"";
        args.insert(args.begin(), {"/bin/sh", "-c", script});
    }
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, args[0].c_str(), &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    fcntl(stdout_.get(), F_SETFL, O_NONBLOCK);
    fcntl(stderr_.get(), F_SETFL, O_NONBLOCK);
    if (stdin_.get() >= 0) fcntl(stdin_.get(), F_SETFL, O_NONBLOCK);
}  // the child's ends of the pipes close here: only the child holds them now

child_process::~child_process() {
    if (pid_ > 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
}

std::string child_process::describe() const {
    return "\n--- " + name_ + " stdout:\n" + output_ + "\n--- " + name_ + " stderr:\n" + errors_;
}

void child_process::signal(int number) const {
    if (pid_ > 0) kill(pid_, number);
}

void child_process::send_input(std::string_view data) {
    if (stdin_.get() < 0) return;
    input_.append(data);
    write_pending();
}

void child_process::close_input() {
    close_input_ = true;
    write_pending();
}

void child_process::pump(milliseconds timeout) {
    bool feeding = stdin_.get() >= 0 && !input_.empty();
    pollfd fds[3] = {
        {stdout_.get(), POLLIN, 0}, {stderr_.get(), POLLIN, 0}, {feeding ? stdin_.get() : -1, POLLOUT, 0}};
    if (poll(fds, 3, static_cast<int>(timeout.count())) <= 0) return;
    read_available(stdout_, output_);
    read_available(stderr_, errors_);
    if (feeding) write_pending();
}

void child_process::read_available(unique_fd& fd, std::string& into) {
    if (fd.get() < 0) return;
    char buffer[65536];
    for (;;) {
        ssize_t n = read(fd.get(), buffer, sizeof buffer);
        if (n > 0) {
            into.append(buffer, static_cast<std::size_t>(n));
        } else {
            if (n == 0) fd.reset();  // the child has exited (or closed it)
            return;
        }
    }
}

void child_process::write_pending() {
    if (stdin_.get() < 0) return;
    // A child that has closed its standard input makes write() raise SIGPIPE, which would end this
    // test program: block it in this thread for the write, and take back the one the write raised.
    sigset_t pipe_signal, saved;
    sigemptyset(&pipe_signal);
    sigaddset(&pipe_signal, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_signal, &saved);
    std::size_t written = 0;
    bool broken = false;
    while (written < input_.size()) {
        ssize_t n = write(stdin_.get(), input_.data() + written, input_.size() - written);
        if (n > 0) {
            written += static_cast<std::size_t>(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            broken = n < 0 && errno != EAGAIN && errno != EWOULDBLOCK;
            break;
        }
    }
    input_.erase(0, written);
    if (broken) {
        timespec no_wait{};
        sigtimedwait(&pipe_signal, nullptr, &no_wait);
        input_.clear();  // nobody will read it
        stdin_.reset();
    }
    pthread_sigmask(SIG_SETMASK, &saved, nullptr);
    if (close_input_ && input_.empty()) stdin_.reset();
}

std::size_t child_process::count(std::string_view needle) const {
    std::size_t n = 0;
    for (std::size_t at = 0; (at = output_.find(needle, at)) != std::string::npos; ++at) ++n;
    return n;
}

bool child_process::wait_for_lines(std::string_view line, std::size_t times) {
    return wait_until([&] { return count(line) >= times; });
}

int child_process::wait_for_port() {
    if (!wait_until([this] { return output_.find('\n') != std::string::npos; })) return 0;
    int port = 0;
    if (std::sscanf(output_.c_str(), "listening on port %d\n", &port) != 1) return 0;
    return port;
}

std::optional<int> child_process::wait_for_exit(milliseconds timeout) {
    auto deadline = steady::now() + timeout;
    while (pid_ > 0) {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return status;
        }
        if (steady::now() >= deadline) break;
        pump(10ms);
    }
    return std::nullopt;
}

std::optional<int> child_process::finish(milliseconds timeout) {
    auto deadline = steady::now() + timeout;
    std::optional<int> status = wait_for_exit(timeout);
    if (status) {
        auto left = std::chrono::duration_cast<milliseconds>(deadline - steady::now());
        wait_until([this] { return stdout_.get() < 0 && stderr_.get() < 0; }, std::max(left, 1000ms));
    }
    return status;
}

double child_process::cpu_seconds() const {
    std::ifstream file("/proc/" + std::to_string(pid_) + "/stat");
    std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    std::size_t name_end = text.rfind(')');  // the name may hold spaces and parentheses
    if (name_end == std::string::npos) return -1;
    std::istringstream fields(text.substr(name_end + 1));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {  // field 3 is the state
        if (i == 14) utime = std::stoull(field);
        if (i == 15) stime = std::stoull(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double child_process::cpu_seconds_over(milliseconds duration) {
    double before = cpu_seconds();
    auto end = steady::now() + duration;
    while (steady::now() < end) pump(milliseconds(poll_timeout(end)));
    return cpu_seconds() - before;
}

std::string describe_status(int status) {
    if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
        return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) +
               ")";
    }
    return "wait status " + std::to_string(status);
}

bool exited_with(const std::optional<int>& status, int code) {
    return status && WIFEXITED(*status) && WEXITSTATUS(*status) == code;
}

// --- client sockets

unique_fd connect_to(int port, int receive_buffer) {
    unique_fd fd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (receive_buffer > 0) {
        setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    if (connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) return fd;
    if (errno != EINPROGRESS) return {};
    pollfd p{fd.get(), POLLOUT, 0};
    int error = 0;
    socklen_t length = sizeof error;
    if (poll(&p, 1, static_cast<int>(step_timeout.count())) != 1) return {};
    if (getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) return {};
    return fd;
}

unique_fd listen_on_loopback(int& port) {
    port = 0;
    unique_fd fd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd.get() < 0 || bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        listen(fd.get(), 16) != 0) {
        return {};
    }
    port = local_port(fd.get());
    return fd;
}

unique_fd accept_within(int listener, milliseconds timeout) {
    auto deadline = steady::now() + timeout;
    for (;;) {
        int fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) return unique_fd(fd);
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) return {};
        pollfd p{listener, POLLIN, 0};
        if (steady::now() >= deadline || poll(&p, 1, poll_timeout(deadline)) < 0) return {};
    }
}

int local_port(int fd) {
    sockaddr_in address{};
    socklen_t length = sizeof address;
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    return ntohs(address.sin_port);
}

bool send_all(int fd, std::string_view data) {
    auto deadline = steady::now() + step_timeout;
    while (!data.empty()) {
        ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n > 0) {
            data.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
        pollfd p{fd, POLLOUT, 0};
        if (steady::now() >= deadline || poll(&p, 1, poll_timeout(deadline)) < 0) return false;
    }
    return true;
}

std::string receive(int fd, std::size_t size, milliseconds timeout, ending* how) {
    std::string got;
    auto deadline = steady::now() + timeout;
    if (how) *how = ending::none;
    while (got.size() < size) {
        char buffer[65536];
        ssize_t n = recv(fd, buffer, std::min(sizeof buffer, size - got.size()), 0);
        if (n > 0) {
            got.append(buffer, static_cast<std::size_t>(n));
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            if (how) *how = n == 0 ? ending::eof : ending::error;
            break;
        }
        pollfd p{fd, POLLIN, 0};
        if (steady::now() >= deadline || poll(&p, 1, poll_timeout(deadline)) < 0) break;
    }
    return got;
}

bool round_trip(int fd, const std::string& message, milliseconds timeout) {
    return send_all(fd, message) && receive(fd, message.size(), timeout) == upper(message);
}

std::uint64_t fnv1a(std::uint64_t hash, std::string_view bytes) {
    for (unsigned char c : bytes) hash = (hash ^ c) * 1099511628211ull;
    return hash;
}

std::string_view every_byte() {
    static const std::string all = [] {
        std::string bytes(256, '\0');
        for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i);
        return bytes;
    }();
    return all;
}

// --- many clients at once

void run_echo_load(int port, child_process& server, const echo_load& load) {
    const int clients = load.clients;
    std::mt19937 random(load.seed);
    struct client {
        unique_fd fd;
        std::string to_send;                  // all its messages, one after another
        std::vector<std::size_t> chunk_ends;  // each message goes out in several send() calls
        std::size_t sent = 0, chunk = 0;
        std::string expected, received;
        std::uint64_t received_hash = fnv_basis;
        bool done() const { return received.size() >= expected.size(); }
    };
    std::vector<client> all(static_cast<std::size_t>(clients));
    for (client& c : all) {
        c.fd = connect_to(port);
        ASSERT_GE(c.fd.get(), 0) << "connect failed" << server.describe();
        for (int m = 0; m < load.messages; ++m) {
            std::size_t size = std::uniform_int_distribution<std::size_t>(1, load.max_message)(random);
            std::size_t start = c.to_send.size();
            for (std::size_t i = 0; i < size; ++i) {
                c.to_send += load.alphabet[std::uniform_int_distribution<std::size_t>(
                    0, load.alphabet.size() - 1)(random)];
            }
            int chunks = std::uniform_int_distribution<int>(1, load.max_chunks)(random);
            for (int k = 1; k < chunks; ++k) {
                c.chunk_ends.push_back(start + std::uniform_int_distribution<std::size_t>(0, size)(random));
            }
            std::sort(c.chunk_ends.end() - (chunks - 1), c.chunk_ends.end());
            c.chunk_ends.push_back(start + size);
        }
        c.expected = upper(c.to_send);
    }

    // One thread drives all the clients: send a chunk when a socket is writable, read what is there
    // when it is readable, and give up only if nothing at all happens for step_timeout.
    auto give_up = steady::now() + load.patience;
    std::vector<pollfd> fds(static_cast<std::size_t>(clients));
    for (;;) {
        int pending = 0;
        for (int i = 0; i < clients; ++i) {
            client& c = all[static_cast<std::size_t>(i)];
            short events = c.done() ? 0 : POLLIN;
            if (c.sent < c.to_send.size()) events |= POLLOUT;
            fds[static_cast<std::size_t>(i)] = {events ? c.fd.get() : -1, events, 0};
            pending += events != 0;
        }
        if (pending == 0) break;
        server.pump();
        int ready = poll(fds.data(), fds.size(), static_cast<int>(step_timeout.count()));
        ASSERT_GT(ready, 0) << "no progress for " << step_timeout.count() << " ms" << server.describe();
        ASSERT_LT(steady::now(), give_up) << server.describe();
        for (int i = 0; i < clients; ++i) {
            client& c = all[static_cast<std::size_t>(i)];
            short revents = fds[static_cast<std::size_t>(i)].revents;
            if (revents & (POLLIN | POLLERR | POLLHUP)) {
                char buffer[65536];
                ssize_t n = recv(c.fd.get(), buffer, sizeof buffer, 0);
                ASSERT_GT(n, 0) << "client " << i << " lost its connection after " << c.received.size()
                                << " bytes" << server.describe();
                std::string_view got(buffer, static_cast<std::size_t>(n));
                // Check as we go, so a mismatch is reported where it happens.
                ASSERT_LE(c.received.size() + got.size(), c.expected.size())
                    << "client " << i << ": extra bytes";
                ASSERT_EQ(got, std::string_view(c.expected).substr(c.received.size(), got.size()))
                    << "client " << i << " at byte " << c.received.size();
                c.received += got;
                c.received_hash = fnv1a(c.received_hash, got);
            }
            if ((revents & POLLOUT) && c.sent < c.to_send.size()) {
                while (c.chunk_ends[c.chunk] <= c.sent) ++c.chunk;
                ssize_t n =
                    send(c.fd.get(), c.to_send.data() + c.sent, c.chunk_ends[c.chunk] - c.sent, MSG_NOSIGNAL);
                if (n > 0) c.sent += static_cast<std::size_t>(n);
                ASSERT_TRUE(n > 0 || errno == EAGAIN || errno == EWOULDBLOCK) << std::strerror(errno);
            }
        }
    }
    for (int i = 0; i < clients; ++i) {
        const client& c = all[static_cast<std::size_t>(i)];
        EXPECT_EQ(c.received.size(), c.expected.size()) << "client " << i;
        EXPECT_EQ(c.received_hash, fnv1a(fnv_basis, c.expected)) << "client " << i;
        EXPECT_TRUE(c.received == c.expected) << "client " << i;  // not EXPECT_EQ: no 400 KB diffs
    }
    EXPECT_TRUE(server.running()) << server.describe();
}

// --- descriptor limits

descriptor_limit::descriptor_limit(rlim_t wanted) {
    getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit raised = saved_;
    raised.rlim_cur = std::max(saved_.rlim_cur, std::min(wanted, saved_.rlim_max));
    ok_ = setrlimit(RLIMIT_NOFILE, &raised) == 0 && raised.rlim_cur >= wanted;
}

descriptor_limit::~descriptor_limit() { setrlimit(RLIMIT_NOFILE, &saved_); }

}  // namespace example_test
