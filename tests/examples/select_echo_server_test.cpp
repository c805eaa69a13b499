// The select() echo server (examples/select_echo_server.cpp), run as a child process and driven
// over plain non-blocking sockets: many clients at once, clients that close or reset, refused and
// deferred clients, the log lines, and that it does not spin once clients have gone (the seed's
// bug). Every wait is bounded by poll() with a timeout, so a broken server fails a test instead of
// hanging it; the child is killed and reaped whatever happens (example_process.hpp).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "example_process.hpp"

namespace {

using namespace example_test;

// The select() server as a child process; with a descriptor limit, started through the shell,
// whose ulimit sets the limit.
class server_process : public child_process {
public:
    explicit server_process(std::vector<std::string> args, int descriptor_limit = 0)
        : child_process(example_path("select_echo_server"), std::move(args), options(descriptor_limit)) {}

private:
    static child_options options(int descriptor_limit) {
        child_options o;
        o.descriptor_limit = descriptor_limit;
        return o;
    }
};

TEST(SelectEchoServer, FiftyConcurrentClientsGetEveryByteBackUpperCasedInOrder) {
    server_process server({"--port", "0", "--quiet"});
    int port = server.wait_for_port();
    ASSERT_NE(port, 0) << server.describe();
    run_echo_load(port, server);  // 50 clients, 200 messages each of 1..4000 printable bytes
}

TEST(SelectEchoServer, ClientsThatCloseAreForgottenAndTheServerDoesNotSpin) {
    server_process server({"--port", "0", "--quiet"});
    int port = server.wait_for_port();
    ASSERT_NE(port, 0) << server.describe();
    for (int i = 0; i < 20; ++i) {
        unique_fd client = connect_to(port);
        ASSERT_GE(client.get(), 0);
        ASSERT_TRUE(round_trip(client.get(), "ping " + std::to_string(i))) << server.describe();
    }  // each client closes cleanly here: the server's recv() returns 0
    EXPECT_TRUE(server.wait_for_lines("conn closed\n", 20)) << server.describe();

    // The seed's bug keeps closed sockets in select()'s set: readable forever, 100% CPU.
    double cpu = server.cpu_seconds_over(500ms);
    EXPECT_LT(cpu, 0.3) << "the server used " << cpu << " s of CPU in 0.5 s of idleness";

    unique_fd later = connect_to(port);
    ASSERT_GE(later.get(), 0);
    EXPECT_TRUE(round_trip(later.get(), "still there?")) << server.describe();
}

TEST(SelectEchoServer, ASlowReaderGetsEverythingThoughSendsComeUpShort) {
    server_process server({"--port", "0", "--quiet"});
    int port = server.wait_for_port();
    ASSERT_NE(port, 0) << server.describe();
    unique_fd client = connect_to(port, 8192);  // a small window: the server's sends back up often
    ASSERT_GE(client.get(), 0);
    std::mt19937 random(7);
    std::string message(24 * 1024 * 1024, ' ');
    for (char& c : message) c = static_cast<char>('a' + random() % 26);
    std::string expected = upper(message), received;

    // First send without reading, until the server takes nothing more for a while: its replies
    // then fill every buffer on their way back to us, and its queue is full.
    std::size_t sent = 0;
    auto send_some = [&] {
        std::size_t size = std::min<std::size_t>(65536, message.size() - sent);
        ssize_t n = send(client.get(), message.data() + sent, size, MSG_NOSIGNAL);
        if (n > 0) sent += static_cast<std::size_t>(n);
        return n > 0 || errno == EAGAIN || errno == EWOULDBLOCK;
    };
    for (pollfd p{client.get(), POLLOUT, 0}; sent < message.size() && poll(&p, 1, 200) == 1;) {
        ASSERT_TRUE(send_some()) << std::strerror(errno);
    }
    // Then read a little at a time while sending the rest. Whenever the server's socket has room
    // again, the server sends until the room runs out, and its last send() often takes only part
    // of a reply: the rest must follow, in order.
    auto give_up = steady::now() + 60s;
    while (received.size() < expected.size()) {
        ASSERT_LT(steady::now(), give_up) << received.size() << " bytes back" << server.describe();
        short events = sent < message.size() ? POLLIN | POLLOUT : POLLIN;
        pollfd p{client.get(), events, 0};
        ASSERT_EQ(poll(&p, 1, static_cast<int>(step_timeout.count())), 1)
            << "no progress after " << received.size() << " bytes back" << server.describe();
        if (p.revents & POLLOUT) {
            ASSERT_TRUE(send_some()) << std::strerror(errno);
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            char buffer[4096];
            ssize_t n = recv(client.get(), buffer, sizeof buffer, 0);
            ASSERT_GT(n, 0) << "the connection ended after " << received.size() << " bytes";
            std::string_view got(buffer, static_cast<std::size_t>(n));
            ASSERT_TRUE(got == std::string_view(expected).substr(received.size(), got.size()))
                << "wrong bytes after " << received.size() << " bytes";
            received += got;
        }
    }
}

TEST(SelectEchoServer, ClientsThatCloseWithRepliesOwedGetThemFirst) {
    server_process server({"--port", "0", "--quiet"});
    int port = server.wait_for_port();
    ASSERT_NE(port, 0) << server.describe();
    unique_fd client = connect_to(port);
    ASSERT_GE(client.get(), 0);
    std::string message(300'000, 'q');
    std::thread sender([&] {
        send_all(client.get(), message);
        shutdown(client.get(), SHUT_WR);  // the client has nothing more to say, but still listens
    });
    ending how = ending::none;
    std::string got = receive(client.get(), message.size() + 1, step_timeout, &how);
    sender.join();
    EXPECT_EQ(how, ending::eof);
    EXPECT_TRUE(got == upper(message)) << got.size() << " bytes back";
}

TEST(SelectEchoServer, ClientsThatResetDoNotHurtTheServer) {
    server_process server({"--port", "0", "--quiet"});
    int port = server.wait_for_port();
    ASSERT_NE(port, 0) << server.describe();
    unique_fd steady_client = connect_to(port);
    ASSERT_TRUE(round_trip(steady_client.get(), "before"));
    for (int i = 0; i < 9; ++i) {
        unique_fd client = connect_to(port);
        ASSERT_GE(client.get(), 0);
        if (i % 3 >= 1) {
            ASSERT_TRUE(round_trip(client.get(), "mid-conversation"));
        }
        if (i % 3 == 2) {
            // Sends plenty and reads none of it, so the server is still sending when the reset comes.
            ASSERT_TRUE(send_all(client.get(), std::string(200'000, 'r')));
        }
        linger abort_on_close{1, 0};  // close() then sends a reset instead of a FIN
        setsockopt(client.get(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    }
    EXPECT_TRUE(server.wait_for_lines("conn closed\n", 9)) << server.describe();
    EXPECT_TRUE(server.running()) << server.describe();
    EXPECT_TRUE(round_trip(steady_client.get(), "after")) << server.describe();
    unique_fd newcomer = connect_to(port);
    EXPECT_TRUE(round_trip(newcomer.get(), "newcomer")) << server.describe();
}

TEST(SelectEchoServer, LogsLikeTheSeed) {
    server_process server({"--port", "0"});
    int port = server.wait_for_port();
    ASSERT_NE(port, 0) << server.describe();
    unique_fd client = connect_to(port);
    ASSERT_GE(client.get(), 0);
    std::string address = "('127.0.0.1', " + std::to_string(local_port(client.get())) + ")";
    ASSERT_TRUE(send_all(client.get(), "hello"));
    EXPECT_EQ(receive(client.get(), 5, step_timeout), "HELLO");
    client.reset();
    EXPECT_TRUE(server.wait_for_lines("conn closed\n", 1)) << server.describe();
    const std::string& out = server.output();
    EXPECT_TRUE(out.starts_with("listening on port " + std::to_string(port) + "\n")) << out;
    std::size_t accepted = out.find("got new conn ");
    std::size_t received = out.find("recv data from [" + address + "]:[hello]:\n");
    std::size_t closed = out.find("conn closed\n");
    ASSERT_NE(accepted, std::string::npos) << out;
    EXPECT_NE(out.find(" " + address + "\n", accepted), std::string::npos) << out;
    ASSERT_NE(received, std::string::npos) << out;
    EXPECT_LT(accepted, received);
    EXPECT_LT(received, closed);
}

TEST(SelectEchoServer, StopsCleanlyOnSigintAndSigterm) {
    for (int signal_number : {SIGINT, SIGTERM}) {
        server_process server({"--port", "0", "--quiet"});
        int port = server.wait_for_port();
        ASSERT_NE(port, 0) << server.describe();
        unique_fd client = connect_to(port);
        ASSERT_TRUE(round_trip(client.get(), "bye"));
        kill(server.pid(), signal_number);
        std::optional<int> status = server.wait_for_exit(step_timeout);
        ASSERT_TRUE(status.has_value()) << "still running after " << strsignal(signal_number);
        EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << "status " << *status;
    }
}

TEST(SelectEchoServer, WaitsAtMaxConnsUntilAConnectionEnds) {
    server_process server({"--port", "0", "--quiet", "--max-conns", "2"});
    int port = server.wait_for_port();
    ASSERT_NE(port, 0) << server.describe();
    unique_fd first = connect_to(port), second = connect_to(port), third = connect_to(port);
    ASSERT_TRUE(round_trip(first.get(), "one"));
    ASSERT_TRUE(round_trip(second.get(), "two"));
    ASSERT_TRUE(send_all(third.get(), "three"));
    EXPECT_EQ(receive(third.get(), 5, 300ms), "");  // waiting in the backlog
    first.reset();
    EXPECT_EQ(receive(third.get(), 5, step_timeout), "THREE") << server.describe();
}

TEST(SelectEchoServer, RefusesDescriptorsBeyondFdSetsize) {
    // The server inherits descriptors 32 .. FD_SETSIZE + 32 (copies of /dev/null), so after a few
    // connections on low descriptors, accept() returns ones select() cannot watch.
    descriptor_limit limit(FD_SETSIZE + 256);
    if (!limit.ok()) {
        GTEST_SKIP() << "cannot raise the descriptor limit past FD_SETSIZE";
    }
    std::vector<unique_fd> fillers;
    {
        unique_fd null_fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
        for (int fd = 32; fd < FD_SETSIZE + 32; ++fd) {
            if (fcntl(fd, F_GETFD) < 0 && dup2(null_fd.get(), fd) == fd) fillers.emplace_back(fd);
        }
    }
    server_process server({"--port", "0", "--quiet"});
    fillers.clear();
    int port = server.wait_for_port();
    ASSERT_NE(port, 0) << server.describe();

    std::vector<unique_fd> served;
    int refused = 0;
    for (int i = 0; i < 40 && refused < 3; ++i) {
        unique_fd client = connect_to(port);
        ASSERT_GE(client.get(), 0);
        ending how = ending::error;  // sending fails if the refusal came first
        std::string got;
        if (send_all(client.get(), "hi")) got = receive(client.get(), 2, step_timeout, &how);
        if (got == "HI") {
            served.push_back(std::move(client));
        } else {
            EXPECT_NE(how, ending::none) << "neither served nor refused" << server.describe();
            ++refused;
        }
    }
    EXPECT_GE(served.size(), 1u);
    EXPECT_EQ(refused, 3) << server.describe();
    EXPECT_TRUE(server.wait_until([&] {
        return server.errors().find("beyond select()'s limit") != std::string::npos;
    })) << server.describe();
    for (unique_fd& client : served) EXPECT_TRUE(round_trip(client.get(), "still served"));
    served.clear();  // frees the low descriptors
    ASSERT_TRUE(server.wait_for_lines("conn closed\n", 1)) << server.describe();
    unique_fd client = connect_to(port);  // accept() returns the lowest free descriptor
    EXPECT_TRUE(round_trip(client.get(), "low again")) << server.describe();
}

TEST(SelectEchoServer, OutOfDescriptorsWarnsOnceBacksOffAndRecovers) {
    // A server limited to 16 descriptors: accept() fails with EMFILE once about a dozen clients
    // are connected.
    server_process server({"--port", "0", "--quiet"}, 16);
    int port = server.wait_for_port();
    ASSERT_NE(port, 0) << server.describe();

    std::vector<unique_fd> served;
    unique_fd waiting;
    for (int i = 0; i < 20 && waiting.get() < 0; ++i) {
        unique_fd client = connect_to(port);
        ASSERT_GE(client.get(), 0);
        ASSERT_TRUE(send_all(client.get(), "hi"));
        if (receive(client.get(), 2, 1s) == "HI") {
            served.push_back(std::move(client));
        } else {
            waiting = std::move(client);
        }
    }
    ASSERT_GE(waiting.get(), 0) << "every client was served" << server.describe();
    ASSERT_FALSE(served.empty());
    // Refused accepts are retried every 100 ms, with one warning, and without spinning.
    double cpu = server.cpu_seconds_over(500ms);
    EXPECT_LT(cpu, 0.3) << "the server used " << cpu << " s of CPU in 0.5 s";
    EXPECT_TRUE(server.wait_until([&] {
        return server.errors().find("accept: Too many open files") != std::string::npos;
    })) << server.describe();
    std::string_view errors = server.errors();
    EXPECT_EQ(errors.find("accept:"), errors.rfind("accept:"))
        << "more than one warning" << server.describe();

    served.front().reset();  // a descriptor comes free: the waiting client gets in
    EXPECT_EQ(receive(waiting.get(), 2, step_timeout), "HI") << server.describe();
    EXPECT_TRUE(round_trip(served.back().get(), "still fine"));
}

}  // namespace
