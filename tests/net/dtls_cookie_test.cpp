// The DTLS server's front door on every backend: unknown addresses get a stateless cookie and
// nothing else, a cookie is good only for the address it was given to, and garbage is dropped and
// counted without harm, from strangers and from an established session's own address.
#include <string>
#include <vector>

#include "cogent/task.hpp"
#include "net/dtls_test_support.hpp"

namespace {

using cogent::dtls_socket;
using cogent_test::eventually;
using cogent_test::patience;
using cogent_test::receive;
using cogent_test::tag_echo;
using namespace std::chrono_literals;

class DtlsCookie : public cogent_test::dtls_test {
protected:
    // A real ClientHello (without a cookie), caught by a socket posing as the server.
    std::string catch_client_hello() {
        cogent::udp_socket catcher = cogent::udp_socket::bind(cogent::endpoint::loopback(0));
        auto hopeful = cogent::spawn([&] {
            std::error_code ignored;
            dtls_socket::connect(catcher.local_endpoint(), client_context(), "localhost", 200ms, ignored);
        });
        std::vector<char> caught(2048);
        cogent::endpoint from;
        caught.resize(catcher.receive_from(caught, from, patience));
        hopeful.get(patience);
        return std::string(caught.data(), caught.size());
    }
};

TEST_F(DtlsCookie, ASpoofedClientHelloGetsOnlyASmallCookieAndNoSession) {
    const std::string hello = catch_client_hello();
    cogent::endpoint from;

    // Replayed from another address: the answer is a HelloVerifyRequest (handshake type 3), no
    // larger than the ClientHello, and the server keeps nothing.
    cogent::datagram_server server(cogent::endpoint::loopback(0), server_context(), tag_echo);
    server.start();
    cogent::udp_socket spoofer = cogent::udp_socket::open();
    spoofer.send_to(hello, server.local_endpoint(), patience);
    std::vector<char> answer(2048);
    answer.resize(spoofer.receive_from(answer, from, patience));
    ASSERT_GT(answer.size(), 13u);
    EXPECT_EQ(answer[0], 22);  // a handshake record
    EXPECT_EQ(answer[13], 3);  // HelloVerifyRequest
    EXPECT_LE(answer.size(), hello.size());
    EXPECT_EQ(server.sessions(), 0u);
    server.stop(patience);
}

// `hello` (a DTLS ClientHello in one record, without a cookie) with `cookie` put in: the cookie
// field follows the version, the random and the session id, and three lengths grow with it.
std::string with_cookie(const std::string& hello, const std::string& cookie) {
    constexpr std::size_t record_header = 13, handshake_header = 12;
    const std::size_t session_id = record_header + handshake_header + 2 + 32;
    const std::size_t cookie_at = session_id + 1 + static_cast<unsigned char>(hello[session_id]);
    std::string out = hello;
    out[cookie_at] = static_cast<char>(cookie.size());
    out.insert(cookie_at + 1, cookie);
    auto grow = [&](std::size_t at, std::size_t bytes) {
        std::size_t value = 0;
        for (std::size_t i = 0; i < bytes; ++i)
            value = value << 8 | static_cast<unsigned char>(out[at + i]);
        value += cookie.size();
        for (std::size_t i = bytes; i-- > 0; value >>= 8)
            out[at + i] = static_cast<char>(value & 0xff);
    };
    grow(11, 2);                                    // the record's length
    grow(record_header + 1, 3);                     // the message's length
    grow(record_header + handshake_header - 3, 3);  // the fragment's length
    return out;
}

TEST_F(DtlsCookie, ACookieIsGoodOnlyForTheAddressItWasGivenTo) {
    const std::string hello = catch_client_hello();
    cogent::endpoint from;

    cogent::datagram_options options;
    options.handshake_timeout = 200ms;  // the session made at the end is never completed
    cogent::datagram_server server(cogent::endpoint::loopback(0), server_context(), tag_echo, options);
    server.start();
    cogent::udp_socket asker = cogent::udp_socket::open();
    asker.send_to(hello, server.local_endpoint(), patience);
    std::vector<char> answer(2048);
    answer.resize(asker.receive_from(answer, from, patience));
    const std::size_t cookie_at = 13 + 12 + 2;
    ASSERT_GT(answer.size(), cookie_at + 1);
    const std::string cookie(answer.data() + cookie_at + 1, static_cast<unsigned char>(answer[cookie_at]));
    ASSERT_FALSE(cookie.empty());

    // From another address, the cookie is refused: another HelloVerifyRequest, and no session.
    cogent::udp_socket thief = cogent::udp_socket::open();
    thief.send_to(with_cookie(hello, cookie), server.local_endpoint(), patience);
    std::vector<char> refusal(2048);
    refusal.resize(thief.receive_from(refusal, from, patience));
    EXPECT_EQ(refusal[13], 3);
    EXPECT_EQ(server.sessions(), 0u);
    // A forged one from the asker's address is refused too.
    asker.send_to(with_cookie(hello, std::string(cookie.size(), 'x')), server.local_endpoint(), patience);
    refusal.resize(2048);
    refusal.resize(asker.receive_from(refusal, from, patience));
    EXPECT_EQ(refusal[13], 3);
    EXPECT_EQ(server.sessions(), 0u);
    // From the address it was given to, it opens a session (whose handshake then stalls).
    asker.send_to(with_cookie(hello, cookie), server.local_endpoint(), patience);
    EXPECT_TRUE(eventually([&] { return server.sessions() == 1; }));
    EXPECT_TRUE(eventually([&] { return server.sessions() == 0; }));
    server.stop(patience);
}

TEST_F(DtlsCookie, GarbageIsDroppedAndCountedAndNeverCrashesOrStopsTheServer) {
    cogent::datagram_server server(cogent::endpoint::loopback(0), server_context(), tag_echo);
    server.start();
    cogent::udp_socket junk = cogent::udp_socket::open();
    const std::vector<std::string> garbage = {
        "hello",                  // not DTLS at all
        std::string(13, '\x16'),  // a record header with nothing behind it
        std::string("\x16\xfe\xfd\x00\x01", 5) + std::string(200, '\xff'),  // epoch 1 from nobody
        std::string("\x17\xfe\xfd", 3) + std::string(60, 'a'),              // application data
        cogent_test::payload(1400),
    };
    for (const std::string& g : garbage)
        junk.send_to(g, server.local_endpoint(), patience);
    EXPECT_TRUE(eventually([&] { return server.dropped_count() == garbage.size(); }))
        << server.dropped_count();
    EXPECT_EQ(server.sessions(), 0u);

    // Garbage from an established session's own address is dropped by DTLS, and the session
    // goes on.
    dtls_socket client = connect(server);
    const std::string me = client.transport().local_endpoint().to_string();
    for (const std::string& g : garbage)
        client.transport().send(g, patience);
    client.send("still here", patience);
    EXPECT_EQ(receive(client), me + " still here");
    EXPECT_EQ(server.sessions(), 1u);
    server.stop(patience);
}

}  // namespace
