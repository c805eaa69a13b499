// What a TLS or DTLS handshake settled (see tls_session_facts.hpp).
#include "net/tls_session_facts.hpp"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <memory>

namespace cogent::detail {
namespace {

std::string or_empty(const char* text) {
    return text != nullptr ? std::string(text) : std::string();
}

}  // namespace

std::string session_protocol_version(const SSL* ssl) {
    return or_empty(SSL_get_version(ssl));
}

std::string session_cipher(const SSL* ssl) {
    const SSL_CIPHER* c = SSL_get_current_cipher(ssl);
    return c != nullptr ? or_empty(SSL_CIPHER_get_name(c)) : std::string();
}

std::string session_alpn_protocol(const SSL* ssl) {
    const unsigned char* data = nullptr;
    unsigned int size = 0;
    SSL_get0_alpn_selected(ssl, &data, &size);
    return data != nullptr ? std::string(reinterpret_cast<const char*>(data), size) : std::string();
}

std::string session_peer_certificate_subject(const SSL* ssl) {
    const X509* certificate = SSL_get0_peer_certificate(ssl);
    if (certificate == nullptr) return {};
    ERR_clear_error();
    std::unique_ptr<BIO, decltype(&BIO_free)> text(BIO_new(BIO_s_mem()), &BIO_free);
    std::string subject;
    if (text != nullptr &&
        X509_NAME_print_ex(text.get(), X509_get_subject_name(certificate), 0, XN_FLAG_RFC2253) >= 0) {
        char* data = nullptr;
        const long size = BIO_get_mem_data(text.get(), &data);
        if (data != nullptr && size > 0) subject.assign(data, static_cast<std::size_t>(size));
    }
    // Nothing here may leave an error behind for the next OpenSSL call on this thread.
    ERR_clear_error();
    return subject;
}

}  // namespace cogent::detail
