// What a TLS or DTLS handshake settled, read from the SSL object, for tls_stream and dtls_socket
// alike (their accessors differ only in how they reach it). Each gives "" when there is nothing
// to say (no handshake yet, no ALPN, no peer certificate).
#pragma once

#include <openssl/ssl.h>

#include <string>

namespace cogent::detail {

std::string session_protocol_version(const SSL* ssl);
std::string session_cipher(const SSL* ssl);
std::string session_alpn_protocol(const SSL* ssl);
// The peer certificate's subject in RFC 2253 form.
std::string session_peer_certificate_subject(const SSL* ssl);

}  // namespace cogent::detail
