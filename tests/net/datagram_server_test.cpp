// The datagram server on every backend: a greenlet per datagram, replies from the server's
// address, limits, oversized datagrams, and stopping.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "cogent/datagram_server.hpp"
#include "cogent/event.hpp"
#include "cogent/sleep.hpp"
#include "net/net_test_support.hpp"

namespace {

using cogent_test::patience;
using namespace std::chrono_literals;

class DatagramServer : public cogent_test::hub_test {};

TEST_F(DatagramServer, AnswersEachDatagramFromItsOwnAddress) {
    cogent::datagram_server server(cogent::endpoint::loopback(0),
                                   [](std::string datagram, const cogent::endpoint& from, cogent::datagram_server& s) {
                                       s.send_to("re: " + datagram, from, patience);
                                   });
    server.start();
    cogent::udp_socket client = cogent::udp_socket::open();
    std::set<std::string> replies;
    for (int i = 0; i < 20; ++i) client.send_to("q" + std::to_string(i), server.local_endpoint(), patience);
    for (int i = 0; i < 20; ++i) {
        char buffer[64];
        cogent::endpoint from;
        std::size_t n = client.receive_from(buffer, from, patience);
        EXPECT_EQ(from, server.local_endpoint());
        replies.insert(std::string(buffer, n));
    }
    EXPECT_EQ(replies.size(), 20u);
    EXPECT_EQ(replies.count("re: q7"), 1u);
    EXPECT_EQ(server.received_count(), 20u);
    server.stop();
}

TEST_F(DatagramServer, MaxConcurrentLimitsTheHandlersRunningAtOnce) {
    int running = 0, most = 0;
    cogent::event release;
    cogent::datagram_options options;
    options.max_concurrent = 3;
    cogent::datagram_server server(
        cogent::endpoint::loopback(0),
        [&](std::string, const cogent::endpoint&, cogent::datagram_server&) {
            most = std::max(most, ++running);
            release.wait(patience);
            --running;
        },
        options);
    server.start();
    cogent::udp_socket client = cogent::udp_socket::open();
    for (int i = 0; i < 10; ++i) client.send_to("x", server.local_endpoint(), patience);
    cogent::sleep(50ms);
    EXPECT_EQ(server.handler_count(), 3u);
    release.set();
    for (int i = 0; i < 1000 && server.received_count() < 10; ++i) cogent::sleep(1ms);
    EXPECT_EQ(server.received_count(), 10u);  // the rest waited in the socket's buffer
    EXPECT_EQ(most, 3);
    server.stop(patience);
}

TEST_F(DatagramServer, AnOversizedDatagramIsReportedAndDropped) {
    cogent_test::recorded_errors errors;
    std::string got;
    cogent::event done;
    cogent::datagram_options options;
    options.max_datagram = 16;
    cogent::datagram_server server(
        cogent::endpoint::loopback(0),
        [&](std::string datagram, const cogent::endpoint&, cogent::datagram_server&) {
            got = datagram;
            done.set();
        },
        options);
    server.start();
    cogent::udp_socket client = cogent::udp_socket::open();
    client.send_to(std::string(100, 'b'), server.local_endpoint(), patience);
    client.send_to("small", server.local_endpoint(), patience);
    EXPECT_TRUE(done.wait(patience));
    EXPECT_EQ(got, "small");
    ASSERT_EQ(errors.entries.size(), 1u);
    EXPECT_NE(errors.message(0).find("longer than the allowed maximum"), std::string::npos) << errors.message(0);
    EXPECT_EQ(server.dropped_count(), 1u);
    server.stop();
}

TEST_F(DatagramServer, StopKillsHandlersPastTheGraceAndServeForeverReturns) {
    cogent::datagram_server server(cogent::endpoint::loopback(0),
                                   [](std::string, const cogent::endpoint&, cogent::datagram_server&) {
                                       cogent::sleep(patience * 10);
                                   });
    auto serving = cogent::spawn([&] { return server.serve_forever(patience); });
    cogent::yield();
    cogent::udp_socket client = cogent::udp_socket::open();
    client.send_to("x", server.local_endpoint(), patience);
    for (int i = 0; i < 1000 && server.handler_count() == 0; ++i) cogent::sleep(1ms);
    EXPECT_EQ(server.stop(20ms), 1u);
    EXPECT_TRUE(serving.get(patience));
    EXPECT_EQ(server.stop(), 0u);
    EXPECT_THROW(server.start(), std::logic_error);
}

TEST_F(DatagramServer, BadArgumentsAreClearErrors) {
    auto ignore = [](std::string, const cogent::endpoint&, cogent::datagram_server&) {};
    EXPECT_THROW(cogent::datagram_server(cogent::endpoint::unix_path("/tmp/x"), ignore), std::invalid_argument);
    EXPECT_THROW(cogent::datagram_server(cogent::endpoint::loopback(0), nullptr), std::invalid_argument);
    cogent::datagram_options zero;
    zero.max_datagram = 0;
    EXPECT_THROW(cogent::datagram_server(cogent::endpoint::loopback(0), ignore, zero), std::invalid_argument);
}

}  // namespace
