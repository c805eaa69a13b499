// What the example tests share: an example program run as a child process, its standard output and
// error read through pipes (and its standard input fed through one, if asked), and plain
// non-blocking client sockets to talk to it. Every wait is bounded by poll() with a timeout, so a
// broken example fails a test instead of hanging it; the child is killed and reaped whatever
// happens (RAII).
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace example_test {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

inline constexpr milliseconds step_timeout = 5s;  // generous: each step takes milliseconds when it works

class unique_fd {
public:
    unique_fd() = default;
    explicit unique_fd(int fd) : fd_(fd) {}
    unique_fd(unique_fd&& other) noexcept : fd_(other.release()) {}
    unique_fd& operator=(unique_fd&& other) noexcept {
        reset(other.release());
        return *this;
    }
    ~unique_fd() { reset(); }
    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }
    void reset(int fd = -1);

private:
    int fd_ = -1;
};

// Milliseconds for poll() until `deadline`, at most a second at a time.
int poll_timeout(steady::time_point deadline);

// ASCII letters upper-cased, every other byte as it is (what the echo servers send back).
std::string upper(std::string text);

// The path of an example program: COGENT_EXAMPLES_DIR/<name>.
std::string example_path(std::string_view name);

struct child_options {
    // With a limit, the program is started through the shell, whose ulimit sets the soft limit.
    int descriptor_limit = 0;
    // Standard input from a pipe that send_input() feeds (else the test's own standard input).
    bool pipe_stdin = false;
};

// A program as a child process, its stdout and stderr on pipes that pump() reads into strings,
// its stdin (with pipe_stdin) on a pipe that pump() writes what send_input() queued into.
class child_process {
public:
    child_process(std::string program, std::vector<std::string> args, const child_options& options = {});
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;
    ~child_process();  // kills (SIGKILL) and reaps the child if it is still there

    pid_t pid() const { return pid_; }
    const std::string& output() const { return output_; }
    const std::string& errors() const { return errors_; }
    // Both outputs, for a failure message.
    std::string describe() const;

    // Sends a signal to the child, if it has not been reaped yet.
    void signal(int number) const;

    // Queues bytes for the child's standard input (pipe_stdin); pump() writes them as the pipe
    // takes them, so that a child that writes while we write cannot deadlock us.
    void send_input(std::string_view data);
    // Closes the child's standard input once the queued bytes are written: it then sees the end.
    void close_input();

    // Reads whatever the child has written (and writes queued input), waiting up to `timeout`
    // for something to happen.
    void pump(milliseconds timeout = 0ms);

    // Pumps until `done()` holds; false after `timeout`, or once both outputs are closed.
    template <typename Condition>
    bool wait_until(Condition done, milliseconds timeout = step_timeout) {
        auto deadline = steady::now() + timeout;
        while (!done()) {
            if (steady::now() >= deadline || (stdout_.get() < 0 && stderr_.get() < 0)) return false;
            pump(milliseconds(poll_timeout(deadline)));
        }
        return true;
    }

    // How many times `needle` occurs in what the child has printed so far.
    std::size_t count(std::string_view needle) const;
    bool wait_for_lines(std::string_view line, std::size_t times);

    // The port from the first line, "listening on port <N>"; 0 if it does not come.
    int wait_for_port();

    // The exit status once the child has exited, reaping it; nothing if it is still running.
    std::optional<int> wait_for_exit(milliseconds timeout);
    // Waits for the child to exit, then for the ends of its outputs, so that output() and
    // errors() hold everything it wrote; the exit status, or nothing if it did not exit in time.
    std::optional<int> finish(milliseconds timeout);

    bool running() { return pid_ > 0 && !wait_for_exit(0ms); }

    // User plus system CPU time the child has used so far, from /proc/<pid>/stat.
    double cpu_seconds() const;
    // Idles for `duration`, still reading the pipes, and returns the CPU time the child used.
    double cpu_seconds_over(milliseconds duration);

private:
    static void read_available(unique_fd& fd, std::string& into);
    void write_pending();

    std::string name_;
    pid_t pid_ = -1;
    unique_fd stdout_, stderr_, stdin_;
    std::string output_, errors_;
    std::string input_;          // queued for stdin, not written yet
    bool close_input_ = false;  // close stdin once input_ is written
};

// "signal 9", "exit status 2": for failure messages about a wait status.
std::string describe_status(int status);
// True for a wait status of a normal exit with this code.
bool exited_with(const std::optional<int>& status, int code);

// A non-blocking client socket connected to 127.0.0.1:`port`; an invalid one if that fails in
// time. A receive buffer size, if given, is set before connecting, so that it limits the TCP window.
unique_fd connect_to(int port, int receive_buffer = 0);

// A listening socket on 127.0.0.1, on a free port (stored in `port`), for a stand-in server.
unique_fd listen_on_loopback(int& port);
// A connection accepted on `listener` within `timeout` (non-blocking); invalid if none came.
unique_fd accept_within(int listener, milliseconds timeout = step_timeout);

// The local port a socket is bound to.
int local_port(int fd);

// Sends all of `data` (waiting for room with poll), within step_timeout.
bool send_all(int fd, std::string_view data);

enum class ending { none, eof, error };

// Receives until `size` bytes have come, the connection ends, or `timeout` passes.
std::string receive(int fd, std::size_t size, milliseconds timeout, ending* how = nullptr);

// Sends `message` and expects it back upper-cased.
bool round_trip(int fd, const std::string& message, milliseconds timeout = step_timeout);

// A running FNV-1a hash of a stream of bytes.
inline constexpr std::uint64_t fnv_basis = 14695981039346656037ull;
std::uint64_t fnv1a(std::uint64_t hash, std::string_view bytes);

// Printable ASCII, quotes and backslash included; and every byte value 0..255.
inline constexpr std::string_view printable_alphabet =
    "abcdefghijklmnopqrstuvwxyz0123456789!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ ";
std::string_view every_byte();

// Many clients at once against an upper-casing echo server, driven from this thread with one
// poll(): each sends `messages` messages of 1..max_message random bytes from `alphabet`, each
// message in 1..max_chunks send() calls, while reading what comes back. Each received byte is
// checked as it comes (right value, in order, nothing extra); at the end, each client's count,
// running checksum and full content, and that the server still runs. Fails the calling test
// (gtest assertions) on any loss, corruption or stall of step_timeout; check HasFatalFailure().
struct echo_load {
    int clients = 50;
    int messages = 200;
    std::size_t max_message = 4000;
    int max_chunks = 4;
    std::string_view alphabet = printable_alphabet;
    std::uint32_t seed = 20240611;
    milliseconds patience = 60s;  // for the whole exchange
};
void run_echo_load(int port, child_process& server, const echo_load& load = {});

// Raises this process's soft limit on descriptors, if need be, for its lifetime.
class descriptor_limit {
public:
    explicit descriptor_limit(rlim_t wanted);
    ~descriptor_limit();
    descriptor_limit(const descriptor_limit&) = delete;
    descriptor_limit& operator=(const descriptor_limit&) = delete;
    bool ok() const { return ok_; }

private:
    rlimit saved_{};
    bool ok_ = false;
};

}  // namespace example_test
