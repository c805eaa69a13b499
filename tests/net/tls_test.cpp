// TLS streams against each other on the loopback, with a PKI made for the run (test_certificates).
// Servers run in spawned tasks on the test's hub. No test asserts anything about timing.
#include "cogent/tls.hpp"

#include <openssl/err.h>
#include <signal.h>

#include <cctype>
#include <chrono>
#include <string>
#include <vector>

#include "cogent/event.hpp"
#include "cogent/stream_server.hpp"
#include "cogent/task.hpp"
#include "cogent/tcp.hpp"
#include "cogent/unix.hpp"
#include "hub/core_test_support.hpp"
#include "net/test_certificates.hpp"

namespace {

using namespace std::chrono_literals;
using cogent::tls_context;
using cogent::tls_errc;
using cogent::tls_stream;

constexpr auto patience = 10s;

std::string pattern(std::size_t size) {
    std::string data(size, '\0');
    for (std::size_t i = 0; i < size; ++i)
        data[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
    return data;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// OpenSSL's wording changes case between versions ("Hostname mismatch", "hostname mismatch").
bool contains_ignoring_case(std::string text, std::string part) {
    for (std::string* s : {&text, &part}) {
        for (char& c : *s)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return contains(text, part);
}

class Tls : public cogent_test::hub_test {
protected:
    static void SetUpTestSuite() { certificates = new cogent_test::test_certificates(); }
    static void TearDownTestSuite() {
        delete certificates;
        certificates = nullptr;
    }
    void TearDown() override {
        EXPECT_EQ(ERR_peek_error(), 0u) << "an OpenSSL error was left in the thread's queue";
        hub_test::TearDown();
    }

    static tls_context server_context(cogent::tls_server_options options = {}) {
        options.certificate_chain_file = certificates->server_chain_file;
        options.private_key_file = certificates->server_key_file;
        return tls_context::server(options);
    }
    static tls_context client_context(const std::string& ca_file = certificates->ca_file) {
        cogent::tls_client_options options;
        options.ca_file = ca_file;
        return tls_context::client(options);
    }

    // Accepts one connection, makes the server handshake, and hands the stream to `serve`.
    template <class Serve>
    cogent::task<void> serve_one(Serve serve, tls_context context = server_context()) {
        return cogent::spawn([this, serve, context] {
            tls_stream stream = tls_stream::accept(listener.accept(patience), context, patience);
            serve(stream);
        });
    }
    // Accepts one connection whose handshake must fail, and returns how.
    cogent::task<std::error_code> refuse_one(tls_context context = server_context()) {
        return cogent::spawn([this, context] {
            std::error_code ec;
            tls_stream::accept(listener.accept(patience), context, patience, ec);
            return ec;
        });
    }
    cogent::tcp_stream dial() { return cogent::tcp_stream::connect(listener.local_endpoint(), patience); }

    static inline cogent_test::test_certificates* certificates = nullptr;
    cogent::tcp_listener listener = cogent::tcp_listener::bind(cogent::endpoint::loopback(0));
};

// Echoes what it reads until the client's close_notify, then answers it.
void echo(tls_stream& stream) {
    char buffer[16384];
    while (std::size_t n = stream.read_some(buffer, patience))
        stream.write_all({buffer, n}, patience);
    stream.shutdown(patience);
}

TEST_F(Tls, HandshakeThenEchoOfEverySizeBothWays) {
    auto server = serve_one([](tls_stream& stream) {
        EXPECT_EQ(stream.server_name(), "localhost");
        echo(stream);
    });
    tls_stream client = tls_stream::connect(dial(), client_context(), "localhost", patience);
    EXPECT_EQ(client.protocol_version(), "TLSv1.3");
    EXPECT_FALSE(client.cipher().empty());
    EXPECT_TRUE(contains(client.peer_certificate_subject(), "CN=localhost"))
        << client.peer_certificate_subject();
    for (std::size_t size : {1, 2, 1000, 16383, 16384, 16385, 65535, 65536, 65537, 100000, 1 << 20}) {
        const std::string data = pattern(size);
        // One greenlet writes while this one reads the echo: the stream is used both ways at once.
        auto writer = cogent::spawn([&] { client.write_all(data, patience); });
        std::string echoed(size, '\0');
        client.read_exact(echoed, patience);
        writer.get();
        EXPECT_TRUE(echoed == data) << "the echo of " << size << " bytes differs";
    }
    client.shutdown(patience);
    char byte;
    EXPECT_EQ(client.read_some({&byte, 1}, patience), 0u);
    server.get();
}

TEST_F(Tls, ServerSendsFirstAndHalfClosesThenReads) {
    const std::string greeting = pattern(300000);
    auto server = serve_one([&](tls_stream& stream) {
        stream.write_all(greeting, patience);
        stream.shutdown_write(patience);
        std::string reply(6, '\0');
        stream.read_exact(reply, patience);
        EXPECT_EQ(reply, "thanks");
        char byte;
        EXPECT_EQ(stream.read_some({&byte, 1}, patience), 0u);  // the client's close_notify
        stream.shutdown(patience);
    });
    tls_stream client = tls_stream::connect(dial(), client_context(), "localhost", patience);
    std::string received(greeting.size(), '\0');
    client.read_exact(received, patience);
    EXPECT_TRUE(received == greeting);
    char byte;
    EXPECT_EQ(client.read_some({&byte, 1}, patience), 0u);
    client.write_all("thanks", patience);
    client.shutdown(patience);
    server.get();
}

TEST_F(Tls, ReadExactCutShortByCloseNotifyIsEndOfStream) {
    auto server = serve_one([](tls_stream& stream) {
        stream.write_all("short", patience);
        stream.shutdown(patience);
    });
    tls_stream client = tls_stream::connect(dial(), client_context(), "localhost", patience);
    std::string buffer(10, '\0');
    std::error_code ec;
    EXPECT_EQ(client.read_exact(buffer, patience, ec), 5u);
    EXPECT_EQ(ec, cogent::net_errc::end_of_stream);
    client.shutdown(patience);
    server.get();
}

TEST_F(Tls, WrongHostNameIsRefused) {
    auto server = refuse_one();
    try {
        tls_stream::connect(dial(), client_context(), "wrong.example", patience);
        ADD_FAILURE() << "the handshake succeeded";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code(), tls_errc::certificate_verify_failed);
        EXPECT_TRUE(contains_ignoring_case(e.what(), "certificate verify failed: hostname mismatch"))
            << e.what();
        EXPECT_TRUE(contains(e.what(), "wrong.example")) << e.what();
    }
    EXPECT_EQ(server.get(), tls_errc::protocol_error) << server.get().message();  // our alert
}

TEST_F(Tls, IpAddressIsCheckedAgainstTheCertificatesAddresses) {
    auto server = serve_one(echo);
    tls_stream client = tls_stream::connect(dial(), client_context(), "127.0.0.1", patience);
    EXPECT_EQ(client.server_name(), "");  // an address is never sent as SNI
    client.shutdown(patience);
    server.get();
    auto refusing = refuse_one();
    std::error_code ec;
    tls_stream::connect(dial(), client_context(), "127.0.0.2", patience, ec);
    EXPECT_EQ(ec, tls_errc::certificate_verify_failed);
    EXPECT_TRUE(contains_ignoring_case(ec.message(), "IP address mismatch")) << ec.message();
    EXPECT_TRUE(refusing.get());
}

TEST_F(Tls, TlsConnectResolvesConnectsAndVerifiesTheName) {
    auto server = serve_one(echo);
    tls_stream client =
        cogent::tls_connect("localhost", listener.local_endpoint().port(), client_context(), patience);
    EXPECT_TRUE(contains(client.peer_certificate_subject(), "CN=localhost"));
    client.shutdown(patience);
    server.get();
}

TEST_F(Tls, UntrustedCertificateIsRefused) {
    // The system's CA store, then a CA that signed nothing here: neither trusts the test CA.
    for (const tls_context& context : {tls_context::client(), client_context(certificates->other_ca_file)}) {
        auto server = refuse_one();
        std::error_code ec;
        tls_stream stream = tls_stream::connect(dial(), context, "localhost", patience, ec);
        EXPECT_FALSE(stream.is_open());
        EXPECT_EQ(ec, tls_errc::certificate_verify_failed);
        EXPECT_TRUE(contains(ec.message(), "certificate verify failed: ")) << ec.message();
        EXPECT_TRUE(server.get());
    }
}

TEST_F(Tls, PeerClosingMidRecordIsAnErrorNotAnEnd) {
    auto server = serve_one([](tls_stream& stream) {
        stream.write_all("hello", patience);
        // The header of a 64-byte application-data record, and 10 bytes of it, then the end.
        stream.transport().write_all(std::string("\x17\x03\x03\x00\x40", 5) + std::string(10, 'x'), patience);
        stream.close();
    });
    tls_stream client = tls_stream::connect(dial(), client_context(), "localhost", patience);
    std::string hello(5, '\0');
    client.read_exact(hello, patience);
    EXPECT_EQ(hello, "hello");
    char buffer[100];
    std::error_code ec;
    EXPECT_EQ(client.read_some(buffer, patience, ec), 0u);
    EXPECT_EQ(ec, tls_errc::unexpected_eof) << ec.message();
    // The stream stays failed; shutdown says so rather than sending into it.
    EXPECT_THROW(client.shutdown(patience), std::system_error);
    server.get();
}

TEST_F(Tls, PeerClosingBetweenRecordsWithoutCloseNotifyIsAnError) {
    auto server = serve_one([](tls_stream& stream) {
        stream.write_all("hello", patience);
        stream.close();
    });
    tls_stream client = tls_stream::connect(dial(), client_context(), "localhost", patience);
    std::string buffer(10, '\0');
    std::error_code ec;
    EXPECT_EQ(client.read_exact(buffer, patience, ec), 5u);
    EXPECT_EQ(ec, tls_errc::unexpected_eof) << ec.message();
    EXPECT_NE(ec, cogent::net_errc::end_of_stream);
    server.get();
}

TEST_F(Tls, WritingToAPeerThatIsGoneIsAnErrorNeverSigpipe) {
    // Even with SIGPIPE at its default (which kills), a write to a closed connection only fails.
    struct sigaction previous {
    }, fatal{};
    fatal.sa_handler = SIG_DFL;
    ASSERT_EQ(::sigaction(SIGPIPE, &fatal, &previous), 0);
    auto server = serve_one([](tls_stream& stream) { stream.close(); });
    tls_stream client = tls_stream::connect(dial(), client_context(), "localhost", patience);
    server.get();
    std::error_code ec;
    const std::string chunk = pattern(65536);
    for (int i = 0; i < 1000 && !ec; ++i)
        client.write_all(chunk, patience, ec);
    ::sigaction(SIGPIPE, &previous, nullptr);
    EXPECT_TRUE(ec == std::errc::broken_pipe || ec == std::errc::connection_reset) << ec.message();
}

TEST_F(Tls, HandshakeTimesOutAgainstAPeerThatNeverSpeaks) {
    // A server whose client never speaks.
    cogent::tcp_stream silent = dial();
    EXPECT_THROW(tls_stream::accept(listener.accept(patience), server_context(), 50ms),
                 cogent::timeout_error);
    // A client whose server never speaks: nobody accepts these, the kernel completes the TCP
    // handshake and nothing more ever comes.
    EXPECT_THROW(tls_stream::connect(dial(), client_context(), "localhost", 50ms), cogent::timeout_error);
    std::error_code ec;
    tls_stream::connect(dial(), client_context(), "localhost", 50ms, ec);
    EXPECT_EQ(ec, std::errc::timed_out);
}

TEST_F(Tls, CloseFromAnotherGreenletWakesReaderAndWriter) {
    cogent::event release;
    auto server = serve_one([&](tls_stream& stream) {
        release.wait(patience);  // reads nothing until the client has closed
        std::error_code ec;
        char buffer[16384];
        while (stream.read_some(buffer, patience, ec) > 0) {
        }
        EXPECT_TRUE(ec) << "the client closed without close_notify";
    });
    tls_stream client = tls_stream::connect(dial(), client_context(), "localhost", patience);
    const int fd = client.transport().native_handle();
    auto& hub = cogent::detail::hub_impl::current();
    std::error_code read_error, write_error;
    auto reader = cogent::spawn([&] {
        char buffer[100];
        client.read_some(buffer, patience, read_error);
    });
    const std::string lots = pattern(32 << 20);  // more than the kernel's buffers hold
    auto writer = cogent::spawn([&] { client.write_all(lots, patience, write_error); });
    for (int i = 0; i < 10000 && !(hub.interest_in(fd, cogent::detail::io_readable) &&
                                   hub.interest_in(fd, cogent::detail::io_writable));
         ++i) {
        cogent::sleep(1ms);
    }
    ASSERT_TRUE(hub.interest_in(fd, cogent::detail::io_readable)) << "the reader never parked";
    ASSERT_TRUE(hub.interest_in(fd, cogent::detail::io_writable)) << "the writer never parked";
    client.close();
    reader.get();
    writer.get();
    EXPECT_EQ(read_error, cogent::net_errc::socket_closed);
    EXPECT_EQ(write_error, cogent::net_errc::socket_closed);
    std::error_code ec;
    char byte;
    client.read_some({&byte, 1}, patience, ec);
    EXPECT_EQ(ec, std::errc::bad_file_descriptor);
    release.set();
    server.get();
}

TEST_F(Tls, TimedOutWriteLosesNothingAndItsQueueIsSentByLaterCalls) {
    cogent::event release;
    std::size_t committed = 0;
    const std::string lots = pattern(1 << 20);
    auto server = serve_one([&](tls_stream& stream) {
        release.wait(patience);  // reads nothing until the client's write has timed out
        std::string received(committed + 4, '\0');
        stream.read_exact(received, patience);
        EXPECT_TRUE(received == lots.substr(0, committed) + "more");
        stream.write_all("done", patience);
        echo(stream);
    });
    // Small fixed buffers (no autotuning), so the kernel cannot take what stays queued later on.
    listener.set_receive_buffer_size(4096);
    cogent::tcp_stream tcp = dial();
    tcp.set_send_buffer_size(4096);
    tls_stream client = tls_stream::connect(std::move(tcp), client_context(), "localhost", patience);
    std::error_code ec;
    committed = client.write_all(lots, 50ms, ec);
    ASSERT_EQ(ec, std::errc::timed_out);
    ASSERT_LT(committed, lots.size());
    // A reader now waits for readability and, to send the queue, writability; then a writer
    // needs writability for the same queue and takes it over.
    const int fd = client.transport().native_handle();
    auto& hub = cogent::detail::hub_impl::current();
    std::string done(4, '\0');
    auto reader = cogent::spawn([&] { client.read_exact(done, patience); });
    cogent::yield();
    EXPECT_TRUE(hub.interest_in(fd, cogent::detail::io_writable))
        << "the reader does not try to send the queue";
    auto writer = cogent::spawn([&] { client.write_all("more", patience); });
    cogent::yield();
    release.set();
    writer.get();
    reader.get();
    EXPECT_EQ(done, "done");
    client.shutdown(patience);
    server.get();
}

TEST_F(Tls, TwentyConcurrentConnectionsOnOneHub) {
    constexpr int connections = 20;
    const tls_context server_side = server_context();
    auto server = cogent::spawn([&] {
        std::vector<cogent::basic_task> handlers;
        for (int i = 0; i < connections; ++i) {
            handlers.push_back(cogent::spawn(
                [&server_side](cogent::tcp_stream tcp) {
                    tls_stream stream = tls_stream::accept(std::move(tcp), server_side, patience);
                    echo(stream);
                },
                listener.accept(patience)));
        }
        for (auto& h : cogent::joinall(handlers))
            EXPECT_TRUE(h.successful());
    });
    const tls_context client_side = client_context();
    std::vector<cogent::basic_task> clients;
    for (int i = 0; i < connections; ++i) {
        clients.push_back(cogent::spawn([&, i] {
            tls_stream stream = tls_stream::connect(dial(), client_side, "localhost", patience);
            const std::string data = pattern(20000 + 1000 * static_cast<std::size_t>(i));
            stream.write_all(data, patience);
            std::string echoed(data.size(), '\0');
            stream.read_exact(echoed, patience);
            EXPECT_TRUE(echoed == data);
            stream.shutdown(patience);
        }));
    }
    for (auto& c : cogent::joinall(clients))
        EXPECT_TRUE(c.successful());
    server.get();
}

TEST_F(Tls, AlpnSniAndClientCertificates) {
    cogent::tls_server_options server_options;
    server_options.client_ca_file = certificates->ca_file;
    server_options.require_client_certificate = true;
    server_options.alpn_protocols = {"http/1.1"};
    const tls_context server_side = server_context(server_options);
    auto server = serve_one(
        [](tls_stream& stream) {
            EXPECT_TRUE(contains(stream.peer_certificate_subject(), "CN=cogent test client"));
            EXPECT_EQ(stream.alpn_protocol(), "http/1.1");
            EXPECT_EQ(stream.server_name(), "localhost");
            echo(stream);
        },
        server_side);
    cogent::tls_client_options client_options;
    client_options.ca_file = certificates->ca_file;
    client_options.certificate_chain_file = certificates->client_chain_file;
    client_options.private_key_file = certificates->client_key_file;
    client_options.alpn_protocols = {"h2", "http/1.1"};
    const tls_context with_certificate = tls_context::client(client_options);
    tls_stream client = tls_stream::connect(dial(), with_certificate, "localhost", patience);
    EXPECT_EQ(client.alpn_protocol(), "http/1.1");
    client.shutdown(patience);
    server.get();

    // Without a certificate, the server refuses; in TLS 1.3 the client learns it at its first read.
    auto refusing = refuse_one(server_side);
    std::error_code ec;
    tls_stream refused = tls_stream::connect(dial(), client_context(), "localhost", patience, ec);
    char byte;
    if (!ec) refused.read_some({&byte, 1}, patience, ec);
    EXPECT_EQ(ec, tls_errc::protocol_error) << ec.message();
    EXPECT_TRUE(refusing.get());
}

TEST_F(Tls, WorksOverUnixDomainStreams) {
    auto [a, b] = cogent::unix_stream::pair();
    auto server = cogent::spawn([&, s = std::move(b)]() mutable {
        tls_stream stream = tls_stream::accept(std::move(s), server_context(), patience);
        echo(stream);
    });
    tls_stream client = tls_stream::connect(std::move(a), client_context(), "localhost", patience);
    client.write_all("over a unix socket", patience);
    std::string echoed(18, '\0');
    client.read_exact(echoed, patience);
    EXPECT_EQ(echoed, "over a unix socket");
    client.shutdown(patience);
    server.get();
}

TEST_F(Tls, ContextErrorsNameTheFileAndTheReason) {
    auto server_with = [](const std::string& chain, const std::string& key) {
        cogent::tls_server_options options;
        options.certificate_chain_file = chain;
        options.private_key_file = key;
        return tls_context::server(options);
    };
    const auto& c = *certificates;
    try {
        server_with(c.missing_file, c.server_key_file);
        ADD_FAILURE() << "a missing file was accepted";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory);
        EXPECT_TRUE(contains(e.what(), c.missing_file)) << e.what();
    }
    try {
        server_with(c.garbage_file, c.server_key_file);
        ADD_FAILURE() << "a file that is not PEM was accepted";
    } catch (const std::invalid_argument& e) {
        EXPECT_TRUE(contains(e.what(), c.garbage_file)) << e.what();
    }
    EXPECT_THROW(server_with(c.server_chain_file, c.client_key_file), std::invalid_argument);  // not its key
    EXPECT_THROW(server_with("", ""), std::invalid_argument);
    EXPECT_THROW(client_context(c.missing_file), std::system_error);
    cogent::tls_client_options missing_directory;
    missing_directory.ca_path = c.missing_file;
    EXPECT_THROW(tls_context::client(missing_directory), std::system_error);
    // Misuse: a server context to connect with, no name to verify, an empty stream.
    EXPECT_THROW(tls_stream::connect(dial(), server_context(), "localhost", patience), std::invalid_argument);
    EXPECT_THROW(tls_stream::connect(dial(), client_context(), "", patience), std::invalid_argument);
    tls_stream empty;
    std::error_code ec;
    char byte;
    empty.read_some({&byte, 1}, patience, ec);
    EXPECT_EQ(ec, std::errc::bad_file_descriptor);
    EXPECT_STREQ(cogent::tls_category().name(), "cogent.tls");
}

}  // namespace

// The stream server with TLS: handshakes before the handler, close_notify after it, and
// clients that fail the handshake do not disturb the others.
TEST_F(Tls, StreamServerServesTlsClients) {
    cogent_test::recorded_errors errors;
    cogent::server_options options;
    options.handshake_timeout = std::chrono::seconds(10);
    cogent::stream_server server(
        cogent::endpoint::loopback(0), server_context(),
        [](tls_stream& stream, const cogent::endpoint&) {
            char buffer[256];
            while (std::size_t n = stream.read_some(buffer, patience)) stream.write_all({buffer, n}, patience);
        },
        options);
    server.start();
    std::vector<cogent::task<bool>> clients;
    for (int i = 0; i < 10; ++i) {
        clients.push_back(cogent::spawn([&, i] {
            tls_stream s = tls_stream::connect(cogent::tcp_stream::connect(server.local_endpoint(), patience),
                                               client_context(), "localhost", patience);
            std::string message = "hello " + std::to_string(i);
            s.write_all(message, patience);
            std::string reply(message.size(), '\0');
            s.read_exact(reply, patience);
            s.shutdown_write(patience);
            char c;
            bool clean_end = s.read_some({&c, 1}, patience) == 0;  // the server's close_notify
            return reply == message && clean_end;
        }));
    }
    // A client that does not speak TLS, and one that trusts another CA, fail alone.
    {
        cogent::tcp_stream plain = cogent::tcp_stream::connect(server.local_endpoint(), patience);
        plain.write_all("GET / HTTP/1.0\r\n\r\n", patience);
        char c;
        std::error_code ec;
        plain.read_some({&c, 1}, patience, ec);
    }
    std::error_code refused;
    tls_stream::connect(cogent::tcp_stream::connect(server.local_endpoint(), patience),
                        client_context(certificates->other_ca_file), "localhost", patience, refused);
    EXPECT_TRUE(refused);
    for (auto& c : clients) EXPECT_TRUE(c.get(patience));
    server.stop(patience);
    // The plain-text client is a protocol error worth reporting; the refusing client's alert too.
    ASSERT_FALSE(errors.entries.empty());
    for (std::size_t i = 0; i < errors.entries.size(); ++i) {
        EXPECT_NE(errors.message(i).find("TLS handshake with 127.0.0.1"), std::string::npos) << errors.message(i);
    }
}

TEST_F(Tls, AStreamServerNeedsAServerContext) {
    auto ignore = [](tls_stream&, const cogent::endpoint&) {};
    EXPECT_THROW(cogent::stream_server(cogent::endpoint::loopback(0), client_context(), ignore), std::invalid_argument);
    EXPECT_THROW(cogent::stream_server(cogent::endpoint::loopback(0), tls_context(), ignore), std::invalid_argument);
}
