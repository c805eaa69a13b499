// DTLS cookies: HMAC-SHA256 over the peer's address under the server's secret.
#include "net/dtls_cookie.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>
#include <string>

#include "net/dtls_channel.hpp"

namespace cogent::detail {
namespace {

constexpr unsigned int cookie_size = 32;  // SHA-256's; DTLS allows up to 255 bytes

bool compute(SSL* ssl, unsigned char* cookie, unsigned int* size) {
    const dtls_channel* c = dtls_channel::of(ssl);
    if (c == nullptr || c->cookie_secret == nullptr) return false;
    const std::string key = peer_key(c->peer);
    const auto& secret = c->cookie_secret->key;
    return HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
                reinterpret_cast<const unsigned char*>(key.data()), key.size(), cookie, size) != nullptr &&
           *size == cookie_size;
}

int generate_cookie(SSL* ssl, unsigned char* cookie, unsigned int* size) {
    return compute(ssl, cookie, size) ? 1 : 0;
}

int verify_cookie(SSL* ssl, const unsigned char* cookie, unsigned int size) {
    unsigned char expected[EVP_MAX_MD_SIZE];
    unsigned int expected_size = 0;
    if (size != cookie_size || !compute(ssl, expected, &expected_size)) return 0;
    // In constant time, so that timing says nothing about how much of a forged cookie matched.
    return CRYPTO_memcmp(expected, cookie, cookie_size) == 0 ? 1 : 0;
}

}  // namespace

dtls_cookie_secret::dtls_cookie_secret() {
    if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
        ERR_clear_error();
        throw std::runtime_error("cogent: no random bytes for the DTLS cookie secret");
    }
}

void install_dtls_cookie_callbacks(SSL_CTX* ctx) {
    SSL_CTX_set_cookie_generate_cb(ctx, generate_cookie);
    SSL_CTX_set_cookie_verify_cb(ctx, verify_cookie);
}

}  // namespace cogent::detail
