// The stateless cookies a DTLS server answers new clients with (RFC 6347, 4.2.1), so that a
// spoofed source address costs the server no state and gets no amplification: an HMAC-SHA256 of
// the client's address and port under a random secret of the server's, checked again when the
// client's second ClientHello carries it back. Not a public interface.
#pragma once

#include <openssl/ssl.h>

#include <array>

namespace cogent::detail {

// A server's secret, drawn from OpenSSL's CSPRNG when the server is made (and never shown).
struct dtls_cookie_secret {
    std::array<unsigned char, 32> key{};
    dtls_cookie_secret();
};

// Installs the callbacks DTLSv1_listen and the server handshake call on `ctx` (a DTLS server
// context). They find the peer and the secret through the SSL's dtls_channel, so an SSL of this
// context used outside a cogent datagram_server fails the cookie exchange instead of using a
// cookie anyone could compute.
void install_dtls_cookie_callbacks(SSL_CTX* ctx);

}  // namespace cogent::detail
