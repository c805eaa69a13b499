// What a TLS stream's handshake settled, for the caller to look at; and tls_connect.
#include <openssl/x509.h>

#include <algorithm>
#include <memory>

#include "cogent/tcp.hpp"
#include "net/tls_internal.hpp"

namespace cogent {
namespace {

std::string or_empty(const char* text) {
    return text != nullptr ? std::string(text) : std::string();
}

clock::time_point::duration remaining(clock::time_point deadline) {
    if (deadline == clock::time_point::max()) return forever;
    return std::max(deadline - clock::now(), clock::time_point::duration::zero());
}

}  // namespace

std::string tls_stream::protocol_version() const {
    return state_ != nullptr ? or_empty(SSL_get_version(state_->ssl)) : std::string();
}

std::string tls_stream::cipher() const {
    if (state_ == nullptr) return {};
    const SSL_CIPHER* c = SSL_get_current_cipher(state_->ssl);
    return c != nullptr ? or_empty(SSL_CIPHER_get_name(c)) : std::string();
}

std::string tls_stream::alpn_protocol() const {
    if (state_ == nullptr) return {};
    const unsigned char* data = nullptr;
    unsigned int size = 0;
    SSL_get0_alpn_selected(state_->ssl, &data, &size);
    return data != nullptr ? std::string(reinterpret_cast<const char*>(data), size) : std::string();
}

std::string tls_stream::server_name() const {
    return state_ != nullptr ? or_empty(SSL_get_servername(state_->ssl, TLSEXT_NAMETYPE_host_name))
                             : std::string();
}

std::string tls_stream::peer_certificate_subject() const {
    if (state_ == nullptr) return {};
    const X509* certificate = SSL_get0_peer_certificate(state_->ssl);
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

ssl_st* tls_stream::native_handle() const noexcept {
    return state_ != nullptr ? state_->ssl : nullptr;
}

tls_stream tls_connect(std::string_view host, std::uint16_t port, const tls_context& context,
                       duration timeout, std::error_code& ec) {
    const clock::time_point deadline = deadline_after(timeout);
    tcp_stream tcp = connect(host, port, timeout, ec);
    if (ec) return {};
    return tls_stream::connect(std::move(tcp), context, host, remaining(deadline), ec);
}

tls_stream tls_connect(std::string_view host, std::uint16_t port, const tls_context& context,
                       duration timeout) {
    std::error_code ec;
    tls_stream stream = tls_connect(host, port, context, timeout, ec);
    if (ec) {
        detail::throw_net_error(
            ec, "cogent: TLS connection to '" + std::string(host) + "' port " + std::to_string(port));
    }
    return stream;
}

}  // namespace cogent
