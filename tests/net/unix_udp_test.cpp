// Unix-domain streams and listeners, and UDP sockets, on every backend.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "cogent/errors.hpp"
#include "cogent/udp.hpp"
#include "cogent/unix.hpp"
#include "net/net_test_support.hpp"

namespace {

using cogent_test::patience;
using namespace std::chrono_literals;

class UnixStream : public cogent_test::hub_test {
protected:
    void SetUp() override {
        char dir[] = "/tmp/cogent-unix-XXXXXX";
        ASSERT_NE(::mkdtemp(dir), nullptr);
        dir_ = dir;
    }
    void TearDown() override {
        ::unlink(path().c_str());
        ::rmdir(dir_.c_str());
        cogent_test::hub_test::TearDown();
    }
    std::string path() const { return dir_ + "/s"; }
    static bool exists(const std::string& p) {
        struct stat info{};
        return ::stat(p.c_str(), &info) == 0;
    }
    std::string dir_;
};

TEST_F(UnixStream, PairTalksBothWays) {
    auto pair = cogent::unix_stream::pair();  // not a structured binding: clang 14 cannot capture one
    cogent::unix_stream& a = pair.first;
    cogent::unix_stream& b = pair.second;
    auto echo = cogent::spawn([&b] {
        char buffer[64];
        std::size_t n = b.read_some(buffer, patience);
        b.write_all(std::string_view(buffer, n), patience);
    });
    a.write_all("ping", patience);
    std::string got(4, '\0');
    a.read_exact(got, patience);
    EXPECT_EQ(got, "ping");
    echo.get(patience);
}

TEST_F(UnixStream, ListenerAtAPathAcceptsAndRemovesThePathOnClose) {
    auto address = cogent::endpoint::unix_path(path());
    {
        cogent::unix_listener listener = cogent::unix_listener::bind(address);
        EXPECT_TRUE(exists(path()));
        auto server = cogent::spawn([&] {
            cogent::unix_stream s = listener.accept(patience);
            s.write_all("hi", patience);
        });
        cogent::unix_stream client = cogent::unix_stream::connect(address, patience);
        std::string got(2, '\0');
        client.read_exact(got, patience);
        EXPECT_EQ(got, "hi");
        server.get(patience);
    }
    EXPECT_FALSE(exists(path()));
}

TEST_F(UnixStream, AStaleSocketFileIsReplacedButALiveOneIsNot) {
    auto address = cogent::endpoint::unix_path(path());
    cogent::unix_listener live = cogent::unix_listener::bind(address);
    EXPECT_THROW(cogent::unix_listener::bind(address), std::system_error);  // someone listens there
    // Leave a socket file behind without removing it, as a crashed process would.
    ::close(live.release());
    EXPECT_TRUE(exists(path()));
    cogent::unix_listener replaced = cogent::unix_listener::bind(address);
    EXPECT_TRUE(replaced.is_open());
}

TEST_F(UnixStream, AbstractNamesNeedNoFile) {
    auto address = cogent::endpoint::unix_path("@cogent-test-" + std::to_string(::getpid()));
    cogent::unix_listener listener = cogent::unix_listener::bind(address);
    auto server = cogent::spawn([&] { return listener.accept(patience).is_open(); });
    cogent::unix_stream client = cogent::unix_stream::connect(address, patience);
    EXPECT_TRUE(server.get(patience));
}

TEST_F(UnixStream, ConnectingToNobodyIsRefusedOrMissing) {
    std::error_code ec;
    cogent::unix_stream::connect(cogent::endpoint::unix_path(path()), patience, ec);
    EXPECT_EQ(ec, std::errc::no_such_file_or_directory);
    cogent::unix_stream::connect(cogent::endpoint::loopback(1), patience, ec);
    EXPECT_EQ(ec, std::errc::address_family_not_supported);
}

class Udp : public cogent_test::hub_test {};

TEST_F(Udp, DatagramsToAndFromAnyAddress) {
    cogent::udp_socket server = cogent::udp_socket::bind(cogent::endpoint::loopback(0));
    cogent::udp_socket client = cogent::udp_socket::open();
    auto echo = cogent::spawn([&server] {
        char buffer[1500];
        cogent::endpoint from;
        std::size_t n = server.receive_from(buffer, from, patience);
        server.send_to(std::string_view(buffer, n), from, patience);
    });
    EXPECT_EQ(client.send_to("datagram", server.local_endpoint(), patience), 8u);
    char buffer[64];
    cogent::endpoint from;
    std::size_t n = client.receive_from(buffer, from, patience);
    EXPECT_EQ(std::string_view(buffer, n), "datagram");
    EXPECT_EQ(from, server.local_endpoint());
    echo.get(patience);
}

TEST_F(Udp, ConnectedSendAndReceive) {
    cogent::udp_socket a = cogent::udp_socket::bind(cogent::endpoint::loopback(0));
    cogent::udp_socket b = cogent::udp_socket::bind(cogent::endpoint::loopback(0));
    a.connect(b.local_endpoint());
    b.connect(a.local_endpoint());
    a.send("one", patience);
    char buffer[16];
    EXPECT_EQ(std::string_view(buffer, b.receive(buffer, patience)), "one");
}

TEST_F(Udp, ATooLargeDatagramIsAnErrorNotASilentCut) {
    cogent::udp_socket server = cogent::udp_socket::bind(cogent::endpoint::loopback(0));
    cogent::udp_socket client = cogent::udp_socket::open();
    client.send_to(std::string(100, 'x'), server.local_endpoint(), patience);
    char small[10];
    cogent::endpoint from;
    std::error_code ec;
    EXPECT_EQ(server.receive_from(small, from, patience, ec), 10u);
    EXPECT_EQ(ec, cogent::net_errc::message_too_long);
    client.send_to(std::string(100, 'y'), server.local_endpoint(), patience);
    EXPECT_THROW(server.receive_from(small, from, patience), std::system_error);
}

TEST_F(Udp, ReceiveTimesOut) {
    cogent::udp_socket server = cogent::udp_socket::bind(cogent::endpoint::loopback(0));
    char buffer[16];
    cogent::endpoint from;
    EXPECT_THROW(server.receive_from(buffer, from, 20ms), cogent::timeout_error);
    std::error_code ec;
    server.receive(buffer, 1ms, ec);
    EXPECT_EQ(ec, std::errc::timed_out);
}

}  // namespace
