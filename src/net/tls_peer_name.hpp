// The server name a TLS or DTLS client sends and verifies, shared by tls_stream and dtls_socket so
// that both treat names alike.
#pragma once

#include <openssl/ssl.h>

#include <string>
#include <string_view>

namespace cogent::detail {

// The name to send and verify: "example.com." is example.com, and "[::1]" is ::1.
std::string normalized_tls_host(std::string_view host);

// Throws std::invalid_argument (naming `who`) for a name that cannot be verified safely: one with
// a NUL in it (it would be verified as the shorter name), or none while `verify` is on.
void check_tls_host(const std::string& name, bool verify, const char* who);

// Sets SNI and the name the peer's certificate must carry. An IP address is not sent as SNI
// (it carries host names only) and is matched against the certificate's IP entries. False if
// OpenSSL refuses (its error queue says why).
bool set_tls_peer_name(SSL* ssl, const std::string& name, bool verify);

}  // namespace cogent::detail
