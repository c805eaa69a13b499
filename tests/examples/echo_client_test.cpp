// The interactive echo client (examples/echo_client.cpp, seed example 5), run as a child process
// with its standard input on a pipe, against the cogent echo server (itself a child process) or
// against a stand-in server in this test: its transcript must be what client.py prints (Python's
// repr of bytes, checked against python3), and it must fail cleanly when there is no server, when
// the server goes away mid-reply, and when the server does not answer. Every wait is bounded; the
// children are killed and reaped whatever happens (example_process.hpp).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "example_process.hpp"

namespace {

using namespace example_test;

constexpr milliseconds patience = 30s;  // for a run that takes milliseconds when it works

struct client_run {
    std::optional<int> status;  // nothing if it did not exit within the patience
    std::string output, errors;
};

std::string describe(const client_run& run) {
    return "\n--- echo_client " + (run.status ? describe_status(*run.status) : "did not exit") +
           "\n--- stdout:\n" + run.output + "\n--- stderr:\n" + run.errors;
}

// Runs echo_client with `args`, feeds it `input` and then the end of input, and waits for it to
// exit. `meanwhile` runs as soon as it has started (a stand-in server can answer it there).
template <typename Meanwhile>
client_run run_client(std::vector<std::string> args, std::string_view input, Meanwhile meanwhile) {
    child_options options;
    options.pipe_stdin = true;
    child_process client(example_path("echo_client"), std::move(args), options);
    client.send_input(input);
    client.close_input();
    meanwhile(client);
    client_run run;
    run.status = client.finish(patience);
    run.output = client.output();
    run.errors = client.errors();
    return run;
}
client_run run_client(std::vector<std::string> args, std::string_view input) {
    return run_client(std::move(args), input, [](child_process&) {});
}

class EchoClient : public ::testing::Test {
protected:
    void SetUp() override {
        port_ = server_.wait_for_port();
        ASSERT_NE(port_, 0) << server_.describe();
    }
    std::string port() const { return std::to_string(port_); }

    child_process server_{example_path("echo_server"), {"--port", "0", "--quiet"}};
    int port_ = 0;
};

TEST_F(EchoClient, PrintsWhatClientPyPrints) {
    // The default host, localhost, whichever address it resolves to first.
    client_run run = run_client({"--port", port()}, "hello\nwith 'quote\n\nsay \"hi\" it's\nlast\n");
    EXPECT_TRUE(exited_with(run.status, 0)) << describe(run);
    // Each line as python3 prints repr(line.upper().encode()); the empty line is not sent.
    EXPECT_EQ(run.output,
              ">>:Received b'HELLO'\n"
              ">>:Received b\"WITH 'QUOTE\"\n"
              ">>:"
              ">>:Received b'SAY \"HI\" IT\\'S'\n"
              ">>:Received b'LAST'\n"
              ">>:\n")
        << describe(run);
    EXPECT_EQ(run.errors, "");
}

TEST_F(EchoClient, ShowsOtherBytesAsPythonDoes) {
    // What python3 prints for each: repr(b'...'), the server having upper-cased ASCII only.
    client_run run = run_client({"--host", "127.0.0.1", "--port", port()},
                                "caf\xc3\xa9\n"
                                "tab\there\x01\x7f\r\x1b end\x80\xff\n"
                                "both ' and \" quotes \\ slash\n"
                                "only \" double\n");
    EXPECT_TRUE(exited_with(run.status, 0)) << describe(run);
    EXPECT_EQ(run.output,
              ">>:Received b'CAF\\xc3\\xa9'\n"
              ">>:Received b'TAB\\tHERE\\x01\\x7f\\r\\x1b END\\x80\\xff'\n"
              ">>:Received b'BOTH \\' AND \" QUOTES \\\\ SLASH'\n"
              ">>:Received b'ONLY \" DOUBLE'\n"
              ">>:\n")
        << describe(run);
}

TEST_F(EchoClient, EndsAtOnceWithoutInput) {
    client_run run = run_client({"--port", port()}, "");
    EXPECT_TRUE(exited_with(run.status, 0)) << describe(run);
    EXPECT_EQ(run.output, ">>:\n") << describe(run);
}

TEST_F(EchoClient, ALongLineComesBackWhole) {
    std::mt19937 random(100);
    constexpr std::string_view letters =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?-";
    std::string line(100 * 1024, ' ');
    for (char& c : line)
        c = letters[std::uniform_int_distribution<std::size_t>(0, letters.size() - 1)(random)];
    client_run run = run_client({"--port", port(), "--timeout", "20"}, line + "\nshort\n");
    EXPECT_TRUE(exited_with(run.status, 0)) << describe(run).substr(0, 2000);
    std::string expected = ">>:Received b'" + upper(line) + "'\n>>:Received b'SHORT'\n>>:\n";
    EXPECT_EQ(run.output.size(), expected.size());
    EXPECT_TRUE(run.output == expected)
        << run.output.substr(0, 200) << "..." << describe(run).substr(0, 2000);
}

TEST(EchoClientFailures, NobodyListeningExits1WithAMessage) {
    // A port bound but not listening, held for the test: connecting to it is refused.
    unique_fd holder(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(holder.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    std::string port = std::to_string(local_port(holder.get()));
    for (std::string host : {"127.0.0.1", "localhost"}) {
        SCOPED_TRACE(host);
        client_run run = run_client({"--host", host, "--port", port}, "hello\n");
        EXPECT_TRUE(exited_with(run.status, 1)) << describe(run);
        EXPECT_TRUE(run.errors.starts_with("echo_client: ")) << describe(run);
        EXPECT_NE(run.errors.find("refused"), std::string::npos) << describe(run);
        EXPECT_EQ(run.output, "") << describe(run);
    }
}

TEST(EchoClientFailures, AServerThatLeavesMidReplyEndsItWith1) {
    int port = 0;
    unique_fd listener = listen_on_loopback(port);
    ASSERT_GE(listener.get(), 0);
    client_run run = run_client({"--host", "127.0.0.1", "--port", std::to_string(port)}, "hello\nagain\n",
                                [&](child_process& client) {
                                    unique_fd conn = accept_within(listener.get());
                                    ASSERT_GE(conn.get(), 0) << client.describe();
                                    ASSERT_EQ(receive(conn.get(), 5, step_timeout), "hello")
                                        << client.describe();
                                    ASSERT_TRUE(send_all(conn.get(), "HE"));
                                });  // closes the connection: the client sees the end after "HE"
    EXPECT_TRUE(exited_with(run.status, 1)) << describe(run);
    EXPECT_EQ(run.output, ">>:Received b'HE'\nthe server closed the connection\n") << describe(run);
}

TEST(EchoClientFailures, AServerThatDoesNotAnswerTimesOut) {
    int port = 0;
    unique_fd listener = listen_on_loopback(port);
    ASSERT_GE(listener.get(), 0);
    unique_fd conn;
    client_run run = run_client({"--host", "127.0.0.1", "--port", std::to_string(port), "--timeout", "1"},
                                "hello\n", [&](child_process& client) {
                                    conn = accept_within(listener.get());  // and never answer
                                    ASSERT_GE(conn.get(), 0) << client.describe();
                                });
    EXPECT_TRUE(exited_with(run.status, 1)) << describe(run);
    EXPECT_EQ(run.output, ">>:") << describe(run);
    EXPECT_TRUE(run.errors.starts_with("echo_client: ")) << describe(run);
}

TEST(EchoClientFailures, BadOptionsExitWithStatus2AndTheUsage) {
    const std::vector<std::vector<std::string>> cases = {
        {"--port", "eighty"}, {"--port", "70000"}, {"--port", ""}, {"--port"},
        {"--timeout", "soon"}, {"--verbose", "1"}, {"--help"},
    };
    for (const std::vector<std::string>& args : cases) {
        std::string command = "echo_client";
        for (const std::string& arg : args) command += " '" + arg + "'";
        SCOPED_TRACE(command);
        client_run run = run_client(args, "hello\n");
        EXPECT_TRUE(exited_with(run.status, 2)) << describe(run);
        EXPECT_TRUE(run.errors.starts_with("echo_client: ")) << describe(run);
        EXPECT_NE(run.errors.find("\nusage: echo_client "), std::string::npos) << describe(run);
        EXPECT_EQ(run.output, "") << describe(run);
    }
}

}  // namespace
