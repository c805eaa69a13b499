// Faults a server meets in the wild, on every backend: resets, half-closes, slow readers, idle
// clients, connection churn and floods. Each test runs a cogent stream_server and plays clients.
#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <vector>

#include "cogent/errors.hpp"
#include "cogent/event.hpp"
#include "cogent/line_reader.hpp"
#include "cogent/sleep.hpp"
#include "cogent/stream_server.hpp"
#include "cogent/tcp.hpp"
#include "net/net_test_support.hpp"

namespace {

using cogent_test::patience;
using cogent_test::payload;
using cogent_test::upper;
using cogent_test::upper_echo;
using namespace std::chrono_literals;



// Reads until the end of the stream.
std::string read_all(cogent::stream_socket& s) {
    std::string all;
    std::vector<char> buffer(65536);
    while (std::size_t n = s.read_some(buffer, patience)) all.append(buffer.data(), n);
    return all;
}

class Faults : public cogent_test::hub_test {};

TEST_F(Faults, PeerResetMidMessageLeavesTheServerServingOthers) {
    cogent_test::recorded_errors errors;
    cogent::stream_server server(cogent::endpoint::loopback(0), upper_echo);
    server.start();
    for (int i = 0; i < 20; ++i) {
        cogent::tcp_stream s = cogent::tcp_stream::connect(server.local_endpoint(), patience);
        s.write_all(payload(100000, i), patience);  // the server is mid-echo when the reset comes
        s.set_linger(std::chrono::seconds(0));
        s.close();
    }
    cogent::tcp_stream good = cogent::tcp_stream::connect(server.local_endpoint(), patience);
    good.write_all("still here", patience);
    std::string reply(10, '\0');
    good.read_exact(reply, patience);
    EXPECT_EQ(reply, "STILL HERE");
    good.close();
    EXPECT_EQ(server.stop(patience), 0u);
    EXPECT_TRUE(errors.entries.empty()) << errors.message(0);  // resets end handlers quietly
}

TEST_F(Faults, HalfCloseStillGetsEveryReply) {
    cogent::stream_server server(cogent::endpoint::loopback(0), upper_echo);
    server.start();
    cogent::tcp_stream s = cogent::tcp_stream::connect(server.local_endpoint(), patience);
    const std::string message = payload(1 << 20, 3);
    auto reader = cogent::spawn([&s] { return read_all(s); });
    s.write_all(message, patience);
    s.shutdown(cogent::shutdown_type::write);  // "that is all": the server sees the end, replies, closes
    EXPECT_TRUE(reader.get(patience) == upper(message));
    server.stop();
}

TEST_F(Faults, ASlowReaderParksOnlyItsOwnHandler) {
    cogent::stream_server server(cogent::endpoint::loopback(0), upper_echo);
    server.start();
    // This client sends far more than the socket buffers hold and reads nothing: its handler's
    // write parks.
    cogent::tcp_stream slow = cogent::tcp_stream::connect(server.local_endpoint(), patience);
    slow.set_receive_buffer_size(4096);
    const std::string flood = payload(8 << 20, 5);
    std::error_code ec;
    slow.write_all(flood, 200ms, ec);
    EXPECT_EQ(ec, std::errc::timed_out);  // the server stopped reading: its writes are stuck
    // Meanwhile everyone else is served.
    for (int i = 0; i < 10; ++i) {
        cogent::tcp_stream other = cogent::tcp_stream::connect(server.local_endpoint(), patience);
        other.write_all("quick", patience);
        std::string reply(5, '\0');
        other.read_exact(reply, patience);
        EXPECT_EQ(reply, "QUICK");
    }
    // The quick clients' handlers end as they see their clients go; then only the slow one runs.
    for (int i = 0; i < 1000 && server.connection_count() > 1; ++i) cogent::sleep(1ms);
    EXPECT_EQ(server.stop(50ms), 1u);  // only the slow reader's handler was still running
}

TEST_F(Faults, AnIdleClientIsClosedByTheServersReadTimeout) {
    cogent::stream_server server(cogent::endpoint::loopback(0), [](cogent::stream_socket& s, const cogent::endpoint&) {
        std::vector<char> buffer(1024);
        while (std::size_t n = s.read_some(buffer, 100ms)) s.write_all(std::string_view(buffer.data(), n), patience);
    });
    server.start();
    cogent::tcp_stream idle = cogent::tcp_stream::connect(server.local_endpoint(), patience);
    idle.write_all("a", patience);
    char c;
    EXPECT_EQ(idle.read_some({&c, 1}, patience), 1u);
    EXPECT_EQ(idle.read_some({&c, 1}, patience), 0u);  // then nothing: the server hung up
    EXPECT_EQ(server.connection_count(), 0u);
    server.stop();
}

TEST_F(Faults, FiveThousandConnectCloseCyclesLeakNoFd) {
    cogent::stream_server server(cogent::endpoint::loopback(0), upper_echo);
    server.start();
    // One round first, so that whatever is made once (the backend's structures) exists.
    { cogent::tcp_stream warm = cogent::tcp_stream::connect(server.local_endpoint(), patience); }
    while (server.connection_count() > 0) cogent::sleep(1ms);
    const std::size_t before = cogent_test::open_fd_count();
    for (int i = 0; i < 5000; ++i) {
        cogent::tcp_stream s = cogent::tcp_stream::connect(server.local_endpoint(), patience);
        if (i % 2 == 0) {
            s.write_all("x", patience);
            char c;
            ASSERT_EQ(s.read_some({&c, 1}, patience), 1u);
        }
    }
    for (int i = 0; i < 1000 && server.connection_count() > 0; ++i) cogent::sleep(1ms);
    EXPECT_EQ(server.connection_count(), 0u);
    EXPECT_EQ(cogent_test::open_fd_count(), before);
    EXPECT_EQ(server.accepted_count(), 5001u);
    server.stop();
}

TEST_F(Faults, AHugeMessageWithoutNewlineIsClosedCleanlyWithBoundedMemory) {
    constexpr std::size_t max_line = 16 * 1024;
    std::size_t most_buffered = 0;
    std::error_code ended_with;
    cogent::stream_server server(cogent::endpoint::loopback(0), [&](cogent::stream_socket& s, const cogent::endpoint&) {
        cogent::line_reader lines(s, max_line);
        std::error_code ec;
        while (auto line = lines.read_line(patience, ec)) {
            s.write_all(upper(*line) + "\n", patience);
            most_buffered = std::max(most_buffered, lines.buffered().size());
        }
        most_buffered = std::max(most_buffered, lines.buffered().size());
        ended_with = ec;
        if (ec == cogent::net_errc::message_too_long) s.write_all("ERROR line too long\n", patience);
    });
    server.start();
    cogent::tcp_stream s = cogent::tcp_stream::connect(server.local_endpoint(), patience);
    s.write_all("short line\n", patience);
    auto flood = cogent::spawn([&s] {
        std::string chunk(65536, 'z');
        std::error_code ec;
        for (int i = 0; i < 4096 && !ec; ++i) s.write_all(chunk, patience, ec);  // 256 MiB, no newline
        return ec;
    });
    // The server closes with the flood unread, so the kernel may follow the replies with a reset.
    std::string replies;
    std::vector<char> buffer(4096);
    std::error_code read_error;
    while (std::size_t n = s.read_some(buffer, patience, read_error)) replies.append(buffer.data(), n);
    EXPECT_TRUE(!read_error || read_error == std::errc::connection_reset) << read_error.message();
    EXPECT_EQ(replies, "SHORT LINE\nERROR line too long\n");
    EXPECT_TRUE(flood.get(patience));  // the flood ended with an error: the server hung up
    EXPECT_EQ(ended_with, cogent::net_errc::message_too_long);
    EXPECT_LE(most_buffered, max_line);
    server.stop();
}

}  // namespace
