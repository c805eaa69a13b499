// What the DTLS suites share: a fixture with the test PKI and DTLS contexts, an echo that tags
// each reply with its sender, and small waiting helpers. Nothing here asserts anything about
// timing: what must happen is waited for with generous patience.
#pragma once

#include <openssl/err.h>

#include <string>

#include "cogent/datagram_server.hpp"
#include "cogent/dtls.hpp"
#include "cogent/sleep.hpp"
#include "net/net_test_support.hpp"
#include "net/test_certificates.hpp"

namespace cogent_test {

class dtls_test : public hub_test {
protected:
    static void SetUpTestSuite() { certificates = new test_certificates(); }
    static void TearDownTestSuite() {
        delete certificates;
        certificates = nullptr;
    }
    void TearDown() override {
        EXPECT_EQ(ERR_peek_error(), 0u) << "an OpenSSL error was left in the thread's queue";
        hub_test::TearDown();
    }

    static cogent::tls_context server_context() {
        cogent::tls_server_options options;
        options.certificate_chain_file = certificates->server_chain_file;
        options.private_key_file = certificates->server_key_file;
        return cogent::tls_context::dtls_server(options);
    }
    static cogent::tls_context client_context(const std::string& ca_file = certificates->ca_file) {
        cogent::tls_client_options options;
        options.ca_file = ca_file;
        return cogent::tls_context::dtls_client(options);
    }
    static cogent::dtls_socket connect(const cogent::datagram_server& server,
                                       cogent::duration timeout = patience) {
        return cogent::dtls_socket::connect(server.local_endpoint(), client_context(), "localhost", timeout);
    }

    static inline test_certificates* certificates = nullptr;
};

// Answers each message with the sender's address and the message.
inline void tag_echo(std::string message, const cogent::endpoint& from, cogent::datagram_server& server) {
    server.send_to(from.to_string() + " " + message, from, patience);
}

// One message, as a string.
inline std::string receive(cogent::dtls_socket& s) {
    char buffer[2048];
    return std::string(buffer, s.receive(buffer, patience));
}

// Waits until `condition` holds (true) or patience runs out (false).
template <class Condition>
bool eventually(Condition condition) {
    for (int i = 0; i < 2000 && !condition(); ++i)
        cogent::sleep(std::chrono::milliseconds(5));
    return condition();
}

}  // namespace cogent_test
