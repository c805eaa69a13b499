// The DTLS datagram_server on every backend: a session per client, sessions ended by stop,
// idleness, close_notify, a new handshake from the same address and the handshake timeout, a
// bound on sessions, and their fds given back. (Cookies and garbage: dtls_cookie_test.cpp.)
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cogent/event.hpp"
#include "cogent/task.hpp"
#include "net/dtls_test_support.hpp"

namespace {

using cogent::dtls_socket;
using cogent::tls_context;
using cogent_test::eventually;
using cogent_test::patience;
using cogent_test::receive;
using cogent_test::tag_echo;
using namespace std::chrono_literals;

class DtlsServer : public cogent_test::dtls_test {};

TEST_F(DtlsServer, TwoClientsAtOnceGetTheirOwnSessionsAndRepliesNeverCross) {
    cogent::datagram_server server(cogent::endpoint::loopback(0), server_context(), tag_echo);
    server.start();
    dtls_socket first = connect(server);
    dtls_socket second = connect(server);
    EXPECT_EQ(server.sessions(), 2u);
    auto talk = [&](dtls_socket& client, std::string name) {
        const std::string me = client.transport().local_endpoint().to_string();
        for (int i = 0; i < 20; ++i) {
            const std::string message = name + " " + std::to_string(i);
            client.send(message, patience);
            EXPECT_EQ(receive(client), me + " " + message);
            cogent::yield();  // let the other client's messages interleave with ours
        }
        client.shutdown(patience);
    };
    auto a = cogent::spawn(talk, std::ref(first), std::string("a"));
    auto b = cogent::spawn(talk, std::ref(second), std::string("b"));
    a.get(patience);
    b.get(patience);
    EXPECT_EQ(server.received_count(), 40u);
    server.stop(patience);
}

TEST_F(DtlsServer, BusyHandlersDoNotStopHandshakesOrOtherSessions) {
    // One handler at a time, and it waits: the server must still receive, so a second client's
    // handshake completes while the first client's message is being handled.
    cogent::event release;
    cogent::datagram_options options;
    options.max_concurrent = 1;
    cogent::datagram_server server(
        cogent::endpoint::loopback(0), server_context(),
        [&](std::string message, const cogent::endpoint& from, cogent::datagram_server& s) {
            if (std::string_view(message) == "wait") release.wait(patience);
            s.send_to("done " + message, from, patience);
        },
        options);
    server.start();
    dtls_socket first = connect(server);
    first.send("wait", patience);
    EXPECT_TRUE(eventually([&] { return server.handler_count() == 1; }));
    dtls_socket second = connect(server);
    second.send("queued", patience);
    EXPECT_EQ(server.sessions(), 2u);
    release.set();
    EXPECT_EQ(receive(first), "done wait");
    EXPECT_EQ(receive(second), "done queued");
    server.stop(patience);
}

TEST_F(DtlsServer, StopEndsEverySessionWithACloseNotify) {
    cogent::datagram_server server(cogent::endpoint::loopback(0), server_context(), tag_echo);
    server.start();
    dtls_socket first = connect(server);
    dtls_socket second = connect(server);
    first.send("x", patience);
    receive(first);
    EXPECT_EQ(server.sessions(), 2u);
    server.stop(patience);
    EXPECT_EQ(server.sessions(), 0u);
    char buffer[64];
    for (dtls_socket* s : {&first, &second}) {
        std::error_code ec;
        s->receive(buffer, patience, ec);
        EXPECT_EQ(ec, cogent::net_errc::end_of_stream) << ec.message();
        s->send("anyone?", patience, ec);
        EXPECT_EQ(ec, cogent::net_errc::end_of_stream) << ec.message();
    }
}

TEST_F(DtlsServer, AnIdleSessionExpiresAndItsClientIsTold) {
    cogent::datagram_options options;
    options.session_idle_timeout = 200ms;
    cogent::datagram_server server(cogent::endpoint::loopback(0), server_context(), tag_echo, options);
    server.start();
    dtls_socket client = connect(server);
    client.send("once", patience);
    receive(client);
    EXPECT_EQ(server.sessions(), 1u);
    EXPECT_TRUE(eventually([&] { return server.sessions() == 0; }));
    std::error_code ec;
    char buffer[64];
    client.receive(buffer, patience, ec);
    EXPECT_EQ(ec, cogent::net_errc::end_of_stream) << ec.message();
    // A session that expired is not replied to; a new one is served.
    EXPECT_EQ(
        cogent_test::error_of([&] { server.send_to("late", client.transport().local_endpoint(), patience); }),
        std::errc::not_connected);
    dtls_socket again = connect(server);
    again.send("again", patience);
    EXPECT_EQ(receive(again), again.transport().local_endpoint().to_string() + " again");
    server.stop(patience);
}

TEST_F(DtlsServer, AClientThatRestartsOnTheSamePortGetsANewSession) {
    cogent::datagram_server server(cogent::endpoint::loopback(0), server_context(), tag_echo);
    server.start();
    auto dial_from = [&](const cogent::endpoint& local) {
        cogent::udp_socket transport = cogent::udp_socket::bind(local);
        transport.connect(server.local_endpoint());
        return dtls_socket::connect(std::move(transport), client_context(), "localhost", patience);
    };
    dtls_socket before = dial_from(cogent::endpoint::loopback(0));
    const cogent::endpoint me = before.transport().local_endpoint();
    before.send("first life", patience);
    EXPECT_EQ(receive(before), me.to_string() + " first life");
    before.close();  // gone without a close_notify, as a crashed client goes
    // The same address and port again, with a new handshake: it replaces the old session.
    dtls_socket after = dial_from(me);
    after.send("second life", patience);
    EXPECT_EQ(receive(after), me.to_string() + " second life");
    EXPECT_TRUE(eventually([&] { return server.sessions() == 1; }));
    server.stop(patience);
}

TEST_F(DtlsServer, TheClientsCloseNotifyEndsItsSession) {
    cogent::datagram_server server(cogent::endpoint::loopback(0), server_context(), tag_echo);
    server.start();
    dtls_socket client = connect(server);
    EXPECT_TRUE(eventually([&] { return server.sessions() == 1; }));
    client.shutdown(patience);
    EXPECT_TRUE(eventually([&] { return server.sessions() == 0; }));
    server.stop(patience);
}

TEST_F(DtlsServer, MaxSessionsKeepsFurtherClientsOutUntilOneEnds) {
    cogent::datagram_options options;
    options.max_sessions = 1;
    cogent::datagram_server server(cogent::endpoint::loopback(0), server_context(), tag_echo, options);
    server.start();
    dtls_socket first = connect(server);
    std::error_code ec;
    dtls_socket::connect(server.local_endpoint(), client_context(), "localhost", 300ms, ec);
    EXPECT_EQ(ec, std::errc::timed_out);
    EXPECT_GT(server.dropped_count(), 0u);
    EXPECT_EQ(server.sessions(), 1u);
    first.shutdown(patience);
    EXPECT_TRUE(eventually([&] { return server.sessions() == 0; }));
    dtls_socket second = connect(server);
    second.send("in", patience);
    EXPECT_EQ(receive(second), second.transport().local_endpoint().to_string() + " in");
    server.stop(patience);
}

TEST_F(DtlsServer, AHandshakeThatStallsEndsAtTheHandshakeTimeout) {
    // A relay that passes the client's first two datagrams (the ClientHello, and again with the
    // cookie) and nothing of the client's after: the server's session waits for a flight that
    // never comes.
    cogent::datagram_options options;
    options.handshake_timeout = 200ms;
    cogent::datagram_server server(cogent::endpoint::loopback(0), server_context(), tag_echo, options);
    server.start();
    cogent::udp_socket relay = cogent::udp_socket::bind(cogent::endpoint::loopback(0));
    auto relaying = cogent::spawn([&] {
        std::vector<char> buffer(65536);
        cogent::endpoint client_address;
        int from_client = 0;
        for (;;) {
            cogent::endpoint from;
            const std::size_t n = relay.receive_from(buffer, from, patience);
            if (from == server.local_endpoint()) {
                relay.send_to({buffer.data(), n}, client_address, patience);
            } else {
                client_address = from;
                if (++from_client <= 2) relay.send_to({buffer.data(), n}, server.local_endpoint(), patience);
            }
        }
    });
    auto client = cogent::spawn([&] {
        std::error_code ignored;
        dtls_socket::connect(relay.local_endpoint(), client_context(), "localhost", patience, ignored);
    });
    EXPECT_TRUE(eventually([&] { return server.sessions() == 1; }));
    EXPECT_TRUE(eventually([&] { return server.sessions() == 0; }));
    client.kill();
    relaying.kill();
    server.stop(patience);
}

TEST_F(DtlsServer, AReplyToAnAddressWithoutASessionIsNotConnected) {
    cogent::datagram_server server(cogent::endpoint::loopback(0), server_context(), tag_echo);
    std::error_code ec;
    server.send_to("nobody", cogent::endpoint::loopback(9), patience, ec);
    EXPECT_EQ(ec, std::errc::not_connected);
}

TEST_F(DtlsServer, AReplyLargerThanADatagramIsAClearErrorAndTheSessionGoesOn) {
    std::error_code too_long;
    cogent::datagram_server server(
        cogent::endpoint::loopback(0), server_context(),
        [&](std::string message, const cogent::endpoint& from, cogent::datagram_server& s) {
            s.send_to(std::string(5000, 'x'), from, patience, too_long);
            s.send_to("short " + message, from, patience);
        });
    server.start();
    dtls_socket client = connect(server);
    client.send("reply", patience);
    EXPECT_EQ(receive(client), "short reply");
    EXPECT_EQ(too_long, cogent::net_errc::message_too_long);
    server.stop(patience);
}

TEST_F(DtlsServer, BadArgumentsAreClearErrors) {
    cogent::tls_server_options stream_options;
    stream_options.certificate_chain_file = certificates->server_chain_file;
    stream_options.private_key_file = certificates->server_key_file;
    EXPECT_THROW(
        cogent::datagram_server(cogent::endpoint::loopback(0), tls_context::server(stream_options), tag_echo),
        std::invalid_argument);
    EXPECT_THROW(cogent::datagram_server(cogent::endpoint::loopback(0), client_context(), tag_echo),
                 std::invalid_argument);
    cogent::datagram_options none;
    none.max_sessions = 0;
    EXPECT_THROW(cogent::datagram_server(cogent::endpoint::loopback(0), server_context(), tag_echo, none),
                 std::invalid_argument);
    cogent::datagram_options tiny;
    tiny.max_datagram = 512;  // less than the MTU: the certificate's datagrams would be dropped
    EXPECT_THROW(cogent::datagram_server(cogent::endpoint::loopback(0), server_context(), tag_echo, tiny),
                 std::invalid_argument);
}

TEST_F(DtlsServer, NothingLeaksFds) {
    cogent_test::recorded_errors errors;  // the refused clients' alerts
    auto round = [&] {
        cogent::datagram_server server(cogent::endpoint::loopback(0), server_context(), tag_echo);
        server.start();
        std::vector<dtls_socket> clients;
        for (int i = 0; i < 3; ++i)
            clients.push_back(connect(server));
        cogent::tls_client_options wrong;
        wrong.ca_file = certificates->other_ca_file;
        std::error_code ec;
        dtls_socket::connect(server.local_endpoint(), tls_context::dtls_client(wrong), "localhost", patience,
                             ec);
        EXPECT_TRUE(ec);
        clients[0].shutdown(patience);
        server.stop(patience);
    };
    round();  // whatever is made once (the hub, the backend's structures) exists after this
    const std::size_t before = cogent_test::open_fd_count();
    round();
    EXPECT_EQ(cogent_test::open_fd_count(), before);
}

}  // namespace
