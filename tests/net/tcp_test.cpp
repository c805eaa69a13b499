// TCP streams and listeners on every backend: data arrives whole and in order, every blocking
// call honours its timeout, and closing or misuse gives clear errors.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string>
#include <vector>

#include "cogent/errors.hpp"
#include "cogent/sleep.hpp"
#include "cogent/tcp.hpp"
#include "cogent/timeout.hpp"
#include "net/native_io.hpp"
#include "net/net_test_support.hpp"

namespace {

using cogent_test::error_of;
using cogent_test::patience;
using cogent_test::payload;
using cogent_test::tcp_pair;
using namespace std::chrono_literals;

class Tcp : public cogent_test::hub_test {};

TEST_F(Tcp, EchoesInOrderBothWays) {
    auto connection = tcp_pair();  // not a structured binding: clang 14 cannot capture one
    cogent::tcp_stream& client = connection.first;
    cogent::tcp_stream& server = connection.second;
    auto echo = cogent::spawn([&server] {
        char buffer[4096];
        std::size_t total = 0;
        while (std::size_t n = server.read_some(buffer, patience)) {
            server.write_all(std::string_view(buffer, n), patience);
            total += n;
        }
        server.close();
        return total;
    });
    const std::string message = payload(3 << 20);  // more than the socket buffers hold
    auto writer = cogent::spawn([&] {
        client.write_all(message, patience);
        client.shutdown(cogent::shutdown_type::write);
    });
    std::string received(message.size(), '\0');
    client.read_exact(received, patience);
    EXPECT_TRUE(received == message);
    writer.get(patience);
    EXPECT_EQ(echo.get(patience), message.size());
    char extra;
    EXPECT_EQ(client.read_some({&extra, 1}, patience), 0u);  // the server closed its side
}

TEST_F(Tcp, ReadSomeReturnsZeroAtTheEndAndForAnEmptyBuffer) {
    auto connection = tcp_pair();  // not a structured binding: clang 14 cannot capture one
    cogent::tcp_stream& client = connection.first;
    cogent::tcp_stream& server = connection.second;
    std::span<char> nothing;
    EXPECT_EQ(client.read_some(nothing, patience), 0u);
    server.close();
    char c;
    EXPECT_EQ(client.read_some({&c, 1}, patience), 0u);
}

TEST_F(Tcp, ReadExactReportsEndOfStreamAndWhatItGot) {
    auto connection = tcp_pair();  // not a structured binding: clang 14 cannot capture one
    cogent::tcp_stream& client = connection.first;
    cogent::tcp_stream& server = connection.second;
    server.write_all("abc", patience);
    server.close();
    std::array<char, 8> buffer{};
    std::error_code ec;
    EXPECT_EQ(client.read_exact(buffer, patience, ec), 3u);
    EXPECT_EQ(ec, cogent::net_errc::end_of_stream);
    EXPECT_EQ(std::string_view(buffer.data(), 3), "abc");
}

TEST_F(Tcp, ReadTimesOutBothForms) {
    auto connection = tcp_pair();  // not a structured binding: clang 14 cannot capture one
    cogent::tcp_stream& client = connection.first;
    cogent::tcp_stream& server = connection.second;
    char c;
    EXPECT_THROW(client.read_some({&c, 1}, 20ms), cogent::timeout_error);
    std::error_code ec;
    EXPECT_EQ(client.read_some({&c, 1}, 20ms, ec), 0u);
    EXPECT_EQ(ec, std::errc::timed_out);
    // A timeout loses nothing: the data sent afterwards is all there.
    server.write_all("x", patience);
    EXPECT_EQ(client.read_some({&c, 1}, patience), 1u);
    EXPECT_EQ(c, 'x');
}

TEST_F(Tcp, APartialWriteAllThatTimesOutSaysHowMuchWentOut) {
    auto connection = tcp_pair();  // not a structured binding: clang 14 cannot capture one
    cogent::tcp_stream& client = connection.first;
    cogent::tcp_stream& server = connection.second;
    client.set_send_buffer_size(4096);
    const std::string big = payload(8 << 20);
    std::error_code ec;
    std::size_t sent = client.write_all(big, 50ms, ec);
    EXPECT_EQ(ec, std::errc::timed_out);
    EXPECT_GT(sent, 0u);
    EXPECT_LT(sent, big.size());
    // The reader gets exactly the prefix that was reported sent.
    client.shutdown(cogent::shutdown_type::write);
    std::string got(sent, '\0');
    server.read_exact(got, patience);
    EXPECT_TRUE(got == big.substr(0, sent));
    char c;
    EXPECT_EQ(server.read_some({&c, 1}, patience), 0u);
}

TEST_F(Tcp, AnEnclosingTimeoutScopeInterruptsARead) {
    auto connection = tcp_pair();  // not a structured binding: clang 14 cannot capture one
    cogent::tcp_stream& client = connection.first;
    // The server side stays open, unused, for the test.
    cogent::timeout scope(20ms);
    char c;
    try {
        client.read_some({&c, 1});
        FAIL() << "read_some returned";
    } catch (const cogent::timeout_error& e) {
        EXPECT_TRUE(scope.raised(e));
    }
}

TEST_F(Tcp, ClosingWakesAGreenletParkedOnTheSocketWithSocketClosed) {
    auto connection = tcp_pair();  // not a structured binding: clang 14 cannot capture one
    cogent::tcp_stream& client = connection.first;
    // The server side stays open, unused, for the test.
    auto reader = cogent::spawn([&client] {
        char c;
        std::error_code ec;
        client.read_some({&c, 1}, patience, ec);
        return ec;
    });
    cogent::yield();  // the reader parks
    client.close();
    EXPECT_EQ(reader.get(patience), cogent::net_errc::socket_closed);
    EXPECT_FALSE(client.is_open());
    // Operations on a closed socket are EBADF, never a touch of a reused fd number.
    char c;
    EXPECT_EQ(error_of([&] { client.read_some({&c, 1}, patience); }), std::errc::bad_file_descriptor);
}

TEST_F(Tcp, ClosingAfterAWakeButBeforeTheReaderRunsIsSafe) {
    auto connection = tcp_pair();  // not a structured binding: clang 14 cannot capture one
    cogent::tcp_stream& client = connection.first;
    cogent::tcp_stream& server = connection.second;
    char c = '\0';
    auto reader = cogent::spawn([&client, &c] {
        std::error_code ec;
        client.read_some({&c, 1}, patience, ec);
        return ec;
    });
    cogent::yield();
    server.write_all("x", patience);
    // Let the hub see the data and wake the reader, then close before it runs. With readiness the
    // reader finds its socket closed; where the kernel performs the recv itself (io_uring) it may
    // already have delivered the byte, which then counts. Either way nothing touches the closed fd.
    auto closer = cogent::spawn([&client] { client.close(); });
    std::error_code ec = reader.get(patience);
    if (ec) {
        EXPECT_EQ(ec, cogent::net_errc::socket_closed);
    } else {
        EXPECT_TRUE(cogent::detail::native_io_available()) << "only the ring's own recv may deliver it";
        EXPECT_EQ(c, 'x');
    }
    closer.get(patience);
}

TEST_F(Tcp, TwoReadersOnOneSocketIsAClearError) {
    auto connection = tcp_pair();  // not a structured binding: clang 14 cannot capture one
    cogent::tcp_stream& client = connection.first;
    cogent::tcp_stream& server = connection.second;
    auto first = cogent::spawn([&client] {
        char c;
        return client.read_some({&c, 1}, patience);
    });
    cogent::yield();
    char c;
    EXPECT_THROW(client.read_some({&c, 1}, patience), cogent::concurrent_wait_error);
    server.write_all("y", patience);
    EXPECT_EQ(first.get(patience), 1u);
}

TEST_F(Tcp, WritingToAClosedPeerIsAnErrorNotSigpipe) {
    auto connection = tcp_pair();  // not a structured binding: clang 14 cannot capture one
    cogent::tcp_stream& client = connection.first;
    cogent::tcp_stream& server = connection.second;
    server.set_linger(std::chrono::seconds(0));
    server.close();  // resets the connection
    std::error_code ec;
    const std::string chunk = payload(65536);
    for (int i = 0; i < 100 && !ec; ++i) client.write_all(chunk, patience, ec);
    EXPECT_TRUE(ec == std::errc::broken_pipe || ec == std::errc::connection_reset) << ec.message();
}

TEST_F(Tcp, ScatterAndGather) {
    auto connection = tcp_pair();  // not a structured binding: clang 14 cannot capture one
    cogent::tcp_stream& client = connection.first;
    cogent::tcp_stream& server = connection.second;
    std::string a = "hello, ", b = "scattered ", c = "world";
    iovec out[] = {{a.data(), a.size()}, {b.data(), b.size()}, {c.data(), c.size()}};
    std::size_t total = a.size() + b.size() + c.size();
    std::size_t sent = 0;
    while (sent < total) sent += client.writev(out, patience);  // small: goes out whole
    EXPECT_EQ(sent, total);
    std::string x(7, '\0'), y(total - 7, '\0');
    iovec in[] = {{x.data(), x.size()}, {y.data(), y.size()}};
    std::size_t got = server.readv(in, patience);
    ASSERT_GT(got, 0u);
    // Loopback delivers one small send whole, but the test does not rely on it.
    std::string all = (x + y).substr(0, got);
    all.resize(total);
    if (got < total) server.read_exact(std::span<char>(all).subspan(got), patience);
    EXPECT_EQ(all, a + b + c);
}

TEST_F(Tcp, SendfileSendsTheFileRangeAndStopsAtItsEnd) {
    char path[] = "/tmp/cogent-sendfile-XXXXXX";
    int file = ::mkstemp(path);
    ASSERT_GE(file, 0);
    ::unlink(path);
    const std::string content = payload(1 << 20, 7);
    ASSERT_EQ(::write(file, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    auto connection = tcp_pair();  // not a structured binding: clang 14 cannot capture one
    cogent::tcp_stream& client = connection.first;
    cogent::tcp_stream& server = connection.second;
    auto reader = cogent::spawn([&server] {
        std::string all;
        std::vector<char> buffer(65536);  // not on the greenlet's 64 KiB stack
        while (std::size_t n = server.read_some(buffer, patience)) all.append(buffer.data(), n);
        return all;
    });
    EXPECT_EQ(client.sendfile(file, 100, content.size() - 200, patience), content.size() - 200);
    // Asking for more than is left stops at the end of the file.
    EXPECT_EQ(client.sendfile(file, static_cast<off_t>(content.size() - 10), 1000, patience), 10u);
    client.shutdown(cogent::shutdown_type::write);
    std::string got = reader.get(patience);
    EXPECT_TRUE(got == content.substr(100, content.size() - 200) + content.substr(content.size() - 10));
    ::close(file);
}

TEST_F(Tcp, AcceptTimesOutAndConnectRefusedIsReported) {
    cogent::tcp_listener listener = cogent_test::loopback_listener();
    EXPECT_THROW(listener.accept(20ms), cogent::timeout_error);
    cogent::endpoint gone = listener.local_endpoint();
    listener.close();
    std::error_code ec;
    cogent::tcp_stream s = cogent::tcp_stream::connect(gone, patience, ec);
    EXPECT_EQ(ec, std::errc::connection_refused);
    EXPECT_FALSE(s.is_open());
    try {
        cogent::tcp_stream::connect(gone, patience);
        FAIL();
    } catch (const std::system_error& e) {
        EXPECT_NE(std::string(e.what()).find(gone.to_string()), std::string::npos) << e.what();
    }
}

TEST_F(Tcp, AcceptGivesThePeerAddressAndOptionsStick) {
    cogent::tcp_listener listener = cogent_test::loopback_listener();
    auto connecting = cogent::spawn([&] { return cogent::tcp_stream::connect(listener.local_endpoint(), patience); });
    cogent::endpoint peer;
    cogent::tcp_stream accepted = listener.accept(peer, patience);
    cogent::tcp_stream client = std::move(connecting.get(patience));
    EXPECT_EQ(peer, client.local_endpoint());
    EXPECT_EQ(accepted.peer_endpoint(), peer);
    client.set_nodelay(true);
    EXPECT_TRUE(client.nodelay());
    client.set_keepalive(true);
    EXPECT_NE(client.get_option(SOL_SOCKET, SO_KEEPALIVE), 0);
    EXPECT_NE(listener.get_option(SOL_SOCKET, SO_REUSEADDR), 0);  // listeners reuse by default
    EXPECT_FALSE(client.take_error());
}

TEST_F(Tcp, WorksOverIPv6Loopback) {
    cogent::tcp_listener listener;
    try {
        listener = cogent::tcp_listener::bind(cogent::endpoint::loopback(0, AF_INET6));
    } catch (const std::system_error& e) {
        GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
    }
    auto accepted = cogent::spawn([&] {
        cogent::tcp_stream s = listener.accept(patience);
        s.write_all("six", patience);
    });
    cogent::tcp_stream client = cogent::tcp_stream::connect(listener.local_endpoint(), patience);
    std::string got(3, '\0');
    client.read_exact(got, patience);
    EXPECT_EQ(got, "six");
    accepted.get(patience);
}

TEST_F(Tcp, MisuseIsAClearError) {
    cogent::tcp_stream never_opened;
    char c;
    EXPECT_EQ(error_of([&] { never_opened.read_some({&c, 1}); }), std::errc::bad_file_descriptor);
    EXPECT_THROW(never_opened.local_endpoint(), std::system_error);
    EXPECT_THROW(cogent::tcp_listener::bind(cogent::endpoint::unix_path("/tmp/x")), std::invalid_argument);
    std::error_code ec;
    cogent::tcp_stream::connect(cogent::endpoint::unix_path("/tmp/x"), patience, ec);
    EXPECT_EQ(ec, std::errc::address_family_not_supported);
    // Binding a port someone listens on names the address.
    cogent::tcp_listener first = cogent_test::loopback_listener();
    try {
        cogent::listen_options no_reuse;
        no_reuse.reuse_address = false;
        cogent::tcp_listener::bind(first.local_endpoint(), no_reuse);
        FAIL();
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code(), std::errc::address_in_use);
        EXPECT_NE(std::string(e.what()).find(first.local_endpoint().to_string()), std::string::npos);
    }
}

TEST_F(Tcp, AdoptingAnFdMakesItNonBlocking) {
    int raw = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(raw, 0);
    cogent::tcp_stream adopted(raw);
    EXPECT_TRUE(::fcntl(raw, F_GETFL) & O_NONBLOCK);
    EXPECT_EQ(adopted.release(), raw);
    ::close(raw);
    EXPECT_THROW(cogent::tcp_stream(-1), std::invalid_argument);
}

TEST_F(Tcp, ManyConnectionsServedAtOnce) {
    cogent::tcp_listener listener = cogent_test::loopback_listener();
    constexpr int clients = 100;
    auto server = cogent::spawn([&] {
        std::vector<cogent::task<void>> handlers;
        for (int i = 0; i < clients; ++i) {
            handlers.push_back(cogent::spawn([s = listener.accept(patience)]() mutable {
                char buffer[1024];
                while (std::size_t n = s.read_some(buffer, patience)) {
                    std::transform(buffer, buffer + n, buffer, [](char ch) { return static_cast<char>(std::toupper(ch)); });
                    s.write_all(std::string_view(buffer, n), patience);
                }
            }));
        }
        for (auto& h : handlers) h.get(patience);
    });
    std::vector<cogent::task<bool>> talkers;
    for (int i = 0; i < clients; ++i) {
        talkers.push_back(cogent::spawn([&, i] {
            cogent::tcp_stream s = cogent::tcp_stream::connect(listener.local_endpoint(), patience);
            std::string message = payload(1000 + 37 * i, i);
            bool all_good = true;
            for (int round = 0; round < 5; ++round) {
                s.write_all(message, patience);
                std::string reply(message.size(), '\0');
                s.read_exact(reply, patience);
                std::string upper = message;
                for (char& ch : upper) ch = static_cast<char>(std::toupper(ch));
                all_good = all_good && reply == upper;
            }
            return all_good;
        }));
    }
    for (auto& t : talkers) EXPECT_TRUE(t.get(patience));
    server.get(patience);
}

}  // namespace

namespace {

// On io_uring, sockets hand their calls to the ring (see docs/backends.md); elsewhere they wait
// for readiness. COGENT_IO_URING_NATIVE=0 turns the ring's calls off.
TEST_F(Tcp, SocketsUseTheRingsOwnCallsOnIoUringOnly) {
    const char* setting = std::getenv("COGENT_IO_URING_NATIVE");
    const bool native_wanted = setting == nullptr || std::string_view(setting) != "0";
    EXPECT_EQ(cogent::detail::native_io_available(),
              cogent::current_backend() == cogent::backend_kind::io_uring && native_wanted);
    // A parked native read holds its fd's slot (so a second reader is refused, and a close
    // wakes it) without asking the backend to poll.
    auto connection = cogent_test::tcp_pair();
    cogent::tcp_stream& client = connection.first;
    auto reader = cogent::spawn([&client] {
        char c;
        return client.read_some({&c, 1}, patience);
    });
    cogent::yield();
    auto& hub = cogent::detail::hub_impl::current();
    cogent::detail::fd_interest* held = hub.interest_in(client.native_handle(), cogent::detail::io_readable);
    ASSERT_NE(held, nullptr);
    EXPECT_EQ(held->native, cogent::detail::native_io_available());
    connection.second.write_all("n", patience);
    EXPECT_EQ(reader.get(patience), 1u);
}

}  // namespace
