// HTTPS against the local page server with a certificate made for the run: trusted through
// ca_file, refused when untrusted or for another host.
#include <gtest/gtest.h>

#include "cogent/task.hpp"
#include "cogent/tls.hpp"
#include "http_test_support.hpp"
#include "net/test_certificates.hpp"

namespace {

namespace http = cogent::http;
using cogent_test::patience;

class http_tls : public cogent_test::http_test {
protected:
    static void SetUpTestSuite() { certificates = new cogent_test::test_certificates(); }
    static void TearDownTestSuite() {
        delete certificates;
        certificates = nullptr;
    }
    static cogent_pages::page_server_options https(std::string host = "127.0.0.1") {
        cogent::tls_server_options options;
        options.certificate_chain_file = certificates->server_chain_file;
        options.private_key_file = certificates->server_key_file;
        cogent_pages::page_server_options server;
        server.host = std::move(host);
        server.tls = cogent::tls_context::server(options);
        return server;
    }
    static inline cogent_test::test_certificates* certificates = nullptr;
};

TEST_F(http_tls, TrustedThroughCaFile) {
    cogent_pages::page_server server(https());
    const std::string url = server.url("/page/5000");
    ASSERT_EQ(url.rfind("https://", 0), 0u) << url;
    http::response r = http::get(url, {.timeout = patience, .ca_file = certificates->ca_file});
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, cogent_pages::page_body(5000));
    // A POST over the same kind of connection.
    http::response echo = http::post(server.url("/echo"), "secret", {}, {.timeout = patience, .ca_file = certificates->ca_file});
    EXPECT_EQ(echo.body, "secret");
    // By name: curl resolves it (off the hub's thread) and checks the certificate for it.
    const std::string by_name = "https://localhost:" + std::to_string(server.port()) + "/page/7";
    EXPECT_EQ(http::get(by_name, {.timeout = patience, .ca_file = certificates->ca_file}).body, cogent_pages::page_body(7));
}

TEST_F(http_tls, UntrustedCertificateIsRefused) {
    cogent_pages::page_server server(https());
    const std::string url = server.url("/page/10");
    try {
        http::get(url, {.timeout = patience, .ca_file = certificates->other_ca_file});
        ADD_FAILURE() << "a certificate from an unknown CA was accepted";
    } catch (const http::error& e) {
        EXPECT_EQ(e.code(), http::errc::peer_failed_verification) << e.what();
        EXPECT_NE(std::string(e.what()).find(url), std::string::npos) << e.what();
    }
    // Verification off (tests only) lets it through.
    EXPECT_EQ(http::get(url, {.timeout = patience, .verify_peer = false, .verify_host = false}).status, 200);
}

TEST_F(http_tls, CertificateForAnotherHostIsRefused) {
    // The certificate names localhost and 127.0.0.1; the server answers on 127.0.0.2.
    cogent_pages::page_server server(https("127.0.0.2"));
    std::error_code ec;
    http::get(server.url("/page/10"), {.timeout = patience, .ca_file = certificates->ca_file}, ec);
    EXPECT_EQ(ec, http::errc::peer_failed_verification) << ec.message();
    EXPECT_EQ(http::get(server.url("/page/10"), {.timeout = patience, .verify_host = false, .ca_file = certificates->ca_file}).status, 200);
}

TEST_F(http_tls, RequestersNeedOnlySmallStacks) {
    // curl's callbacks and OpenSSL's handshake run on the driver's stack: a requester only adds
    // its transfer, waits, and (when killed) removes it, closing the TLS connection.
    cogent_pages::page_server server(https());
    const http::options opts{.timeout = patience, .ca_file = certificates->ca_file};
    const cogent::task_options small{"small requester", 32 * 1024};
    auto fine = cogent::spawn(small, [&] { return http::get(server.url("/page/100"), opts).status; });
    EXPECT_EQ(fine.get(patience), 200);
    auto doomed = cogent::spawn(small, [&] { return http::get(server.url("/delay/5000"), opts).status; });
    cogent::sleep(std::chrono::milliseconds(200));  // connected, handshaken, waiting for the answer
    EXPECT_TRUE(doomed.kill(nullptr, true, patience));
    EXPECT_TRUE(doomed.killed());
}

}  // namespace
