// A throw-away PKI for the TLS tests, made at test time with OpenSSL's API (nothing is checked
// in, so nothing expires): a CA, a server certificate it signs for DNS:localhost and
// IP:127.0.0.1, a client certificate it signs, and an unrelated CA. EC P-256 keys throughout.
#pragma once

#include <string>

namespace cogent_test {

// The files live in a fresh directory under the system's temporary directory (mkdtemp), which
// the destructor removes with everything in it.
class test_certificates {
public:
    // Throws std::runtime_error with OpenSSL's reason if anything fails.
    test_certificates();
    ~test_certificates();
    test_certificates(const test_certificates&) = delete;
    test_certificates& operator=(const test_certificates&) = delete;

    const std::string& directory() const noexcept { return directory_; }

    std::string ca_file;            // the test CA's certificate
    std::string server_chain_file;  // CN=localhost, SAN DNS:localhost and IP:127.0.0.1; then the CA
    std::string server_key_file;
    std::string client_chain_file;  // CN=cogent test client, for client authentication
    std::string client_key_file;
    std::string other_ca_file;  // a CA that signed none of these
    std::string garbage_file;   // a file that is not PEM at all
    std::string missing_file;   // a path in the directory where no file exists

private:
    std::string directory_;
};

}  // namespace cogent_test
