// The DTLS client against a DTLS datagram_server on the loopback, on every backend: the handshake,
// messages of every size with their boundaries kept, verification refusals, and a silent peer.
// Certificates come from test_certificates. Nothing here asserts anything about timing.
#include <map>
#include <string>
#include <vector>

#include "cogent/errors.hpp"
#include "cogent/stream_server.hpp"
#include "cogent/task.hpp"
#include "cogent/tcp.hpp"
#include "cogent/tls.hpp"
#include "net/dtls_test_support.hpp"

namespace {

using cogent::dtls_socket;
using cogent::tls_context;
using cogent::tls_errc;
using cogent_test::patience;
using namespace std::chrono_literals;

class DtlsClient : public cogent_test::dtls_test {};

// Echoes each message back to its sender.
void echo(std::string message, const cogent::endpoint& from, cogent::datagram_server& server) {
    server.send_to(message, from, patience);
}

TEST_F(DtlsClient, HandshakeThenEchoOfMessagesOfEverySizeKeepsTheirBoundaries) {
    cogent::datagram_server server(cogent::endpoint::loopback(0), server_context(), echo);
    server.start();
    dtls_socket client =
        dtls_socket::connect(server.local_endpoint(), client_context(), "localhost", patience);
    EXPECT_EQ(client.protocol_version(), "DTLSv1.2");
    EXPECT_FALSE(client.cipher().empty());
    EXPECT_NE(client.peer_certificate_subject().find("CN=localhost"), std::string::npos)
        << client.peer_certificate_subject();
    const std::size_t most = client.max_message_size();
    EXPECT_GT(most, 1000u);
    EXPECT_LT(most, 1500u);  // the default MTU's datagram, less the headers
    // Sent all at once, so that a receiver merging or splitting messages would be seen: each
    // message that comes back must be exactly one that went out.
    std::map<std::string, int> sent;
    for (std::size_t size :
         {std::size_t{1}, std::size_t{2}, std::size_t{100}, std::size_t{999}, most - 1, most}) {
        const std::string message = cogent_test::payload(size, static_cast<unsigned>(size));
        EXPECT_EQ(client.send(message, patience), size);
        ++sent[message];
    }
    std::vector<char> buffer(most);
    for (std::size_t i = 0; i < 6; ++i) {
        const std::size_t n = client.receive(buffer, patience);
        auto found = sent.find(std::string(buffer.data(), n));
        ASSERT_NE(found, sent.end()) << "a reply of " << n << " bytes is none of the messages sent";
        if (--found->second == 0) sent.erase(found);
    }
    EXPECT_TRUE(sent.empty());
    EXPECT_EQ(server.received_count(), 6u);
    EXPECT_EQ(server.sessions(), 1u);
    client.shutdown(patience);
    server.stop(patience);
}

TEST_F(DtlsClient, AMessageLargerThanADatagramOrTheBufferIsAClearError) {
    cogent::datagram_server server(cogent::endpoint::loopback(0), server_context(), echo);
    server.start();
    dtls_socket client =
        dtls_socket::connect(server.local_endpoint(), client_context(), "127.0.0.1", patience);
    std::error_code ec;
    EXPECT_EQ(client.send(std::string(client.max_message_size() + 1, 'x'), patience, ec), 0u);
    EXPECT_EQ(ec, cogent::net_errc::message_too_long);
    EXPECT_THROW(client.send(std::string(20000, 'x'), patience), std::system_error);
    // The association goes on: a message that fits still makes the round trip, and a reply
    // larger than the buffer given is an error, not a truncation.
    client.send("twelve bytes", patience);
    char small[4];
    client.receive(small, patience, ec);
    EXPECT_EQ(ec, cogent::net_errc::message_too_long);
    client.send("ok", patience);
    char buffer[16];
    EXPECT_EQ(std::string(buffer, client.receive(buffer, patience)), "ok");
    server.stop(patience);
}

TEST_F(DtlsClient, AWrongHostNameIsRefused) {
    cogent_test::recorded_errors errors;  // the server reports the client's alert
    cogent::datagram_server server(cogent::endpoint::loopback(0), server_context(), echo);
    server.start();
    std::error_code ec;
    dtls_socket client =
        dtls_socket::connect(server.local_endpoint(), client_context(), "other.example", patience, ec);
    EXPECT_EQ(ec, tls_errc::certificate_verify_failed) << ec.message();
    EXPECT_FALSE(client.is_open());
    server.stop(patience);
}

TEST_F(DtlsClient, AnUntrustedCertificateIsRefused) {
    cogent_test::recorded_errors errors;
    cogent::datagram_server server(cogent::endpoint::loopback(0), server_context(), echo);
    server.start();
    auto refused = cogent_test::error_of([&] {
        dtls_socket::connect(server.local_endpoint(), client_context(certificates->other_ca_file),
                             "localhost", patience);
    });
    EXPECT_EQ(refused, tls_errc::certificate_verify_failed) << refused.message();
    // The server saw the client's alert and ended that handshake: no session stays.
    for (int i = 0; i < 1000 && server.sessions() > 0; ++i)
        cogent::sleep(1ms);
    EXPECT_EQ(server.sessions(), 0u);
    server.stop(patience);
}

TEST_F(DtlsClient, AHandshakeWithASilentPeerTimesOut) {
    // A UDP socket that never answers: the client retransmits its ClientHello until its time is up.
    cogent::udp_socket silent = cogent::udp_socket::bind(cogent::endpoint::loopback(0));
    std::error_code ec;
    dtls_socket client =
        dtls_socket::connect(silent.local_endpoint(), client_context(), "localhost", 300ms, ec);
    EXPECT_EQ(ec, std::errc::timed_out);
    EXPECT_FALSE(client.is_open());
    EXPECT_THROW(dtls_socket::connect(silent.local_endpoint(), client_context(), "localhost", 100ms),
                 cogent::timeout_error);
    // It did send something: the ClientHello (and perhaps its retransmissions).
    char buffer[2048];
    cogent::endpoint from;
    EXPECT_GT(silent.receive_from(buffer, from, patience), 0u);
}

TEST_F(DtlsClient, AClosedPortIsRefusedNotWaitedFor) {
    // A port nobody listens on: the host's ICMP answer comes back as ECONNREFUSED on the connected
    // socket, and the handshake ends with it instead of retransmitting until the timeout.
    cogent::endpoint closed = cogent::udp_socket::bind(cogent::endpoint::loopback(0)).local_endpoint();
    std::error_code ec;
    dtls_socket::connect(closed, client_context(), "localhost", patience, ec);
    EXPECT_EQ(ec, std::errc::connection_refused) << ec.message();
}

TEST_F(DtlsClient, ConnectingByNameTriesEachAddress) {
    cogent::datagram_server server(cogent::endpoint::loopback(0), server_context(), echo);
    server.start();
    // "localhost" may resolve to ::1 first, where nothing listens: that address is refused and
    // the next one tried.
    dtls_socket client =
        cogent::dtls_connect("localhost", server.local_endpoint().port(), client_context(), patience);
    client.send("by name", patience);
    char buffer[16];
    EXPECT_EQ(std::string(buffer, client.receive(buffer, patience)), "by name");
    server.stop(patience);
}

TEST_F(DtlsClient, MisuseIsAClearError) {
    cogent::udp_socket silent = cogent::udp_socket::bind(cogent::endpoint::loopback(0));
    const cogent::endpoint there = silent.local_endpoint();
    cogent::tls_client_options stream_options;
    stream_options.ca_file = certificates->ca_file;
    EXPECT_THROW(dtls_socket::connect(there, tls_context::client(stream_options), "localhost", patience),
                 std::invalid_argument);
    EXPECT_THROW(dtls_socket::connect(there, server_context(), "localhost", patience), std::invalid_argument);
    EXPECT_THROW(dtls_socket::connect(there, client_context(), "", patience), std::invalid_argument);
    cogent::tls_client_options v13;
    v13.min_version = cogent::tls_version::tls1_3;
    EXPECT_THROW(tls_context::dtls_client(v13), std::invalid_argument);
    cogent::tls_client_options tiny;
    tiny.datagram_mtu = 100;
    EXPECT_THROW(tls_context::dtls_client(tiny), std::invalid_argument);
    EXPECT_TRUE(client_context().is_datagram());
    EXPECT_FALSE(tls_context::client(stream_options).is_datagram());
    // A DTLS context is no TLS one: the stream side refuses it as clearly.
    cogent::tcp_listener listener = cogent::tcp_listener::bind(cogent::endpoint::loopback(0));
    EXPECT_THROW(cogent::tls_stream::connect(cogent::tcp_stream::connect(listener.local_endpoint(), patience),
                                             client_context(), "localhost", patience),
                 std::invalid_argument);
    EXPECT_THROW(cogent::stream_server(cogent::endpoint::loopback(0), server_context(),
                                       [](cogent::tls_stream&, const cogent::endpoint&) {}),
                 std::invalid_argument);
    // Not open: every call says so.
    dtls_socket none;
    std::error_code ec;
    none.send("x", patience, ec);
    EXPECT_EQ(ec, std::errc::bad_file_descriptor);
    EXPECT_EQ(none.max_message_size(), 0u);
}

}  // namespace
