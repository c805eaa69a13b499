// The server name a TLS or DTLS client sends and verifies (see tls_peer_name.hpp).
#include "net/tls_peer_name.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/x509v3.h>

#include <stdexcept>

namespace cogent::detail {
namespace {

bool is_ip_address(const std::string& name) {
    in_addr v4{};
    in6_addr v6{};
    return ::inet_pton(AF_INET, name.c_str(), &v4) == 1 || ::inet_pton(AF_INET6, name.c_str(), &v6) == 1;
}

}  // namespace

std::string normalized_tls_host(std::string_view host) {
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.size() > 1 && host.back() == '.') host.remove_suffix(1);
    return std::string(host);
}

void check_tls_host(const std::string& name, bool verify, const char* who) {
    if (name.find('\0') != std::string::npos) {
        throw std::invalid_argument(std::string("cogent: ") + who + ": a host name cannot contain NUL");
    }
    if (verify && name.empty()) {
        throw std::invalid_argument(std::string("cogent: ") + who +
                                    " needs the host name to verify the certificate against");
    }
}

bool set_tls_peer_name(SSL* ssl, const std::string& name, bool verify) {
    if (is_ip_address(name)) return !verify || X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) == 1;
    if (name.empty()) return true;
    if (SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) return false;
    if (!verify) return true;
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    return SSL_set1_host(ssl, name.c_str()) == 1;
}

}  // namespace cogent::detail
