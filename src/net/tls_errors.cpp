// The "cogent.tls" error category, and how OpenSSL's failures become its codes.
//
// A std::error_code carries only a number, so the number itself says what went wrong, and the
// category turns it into OpenSSL's words:
//  - 1, 2, 3: the tls_errc values, when nothing more precise is known;
//  - tls_verify_base + v: the peer's certificate failed X509 verification with result v
//    (X509_V_ERR_HOSTNAME_MISMATCH, ...): "certificate verify failed: Hostname mismatch";
//  - anything else: OpenSSL's packed error code (library and reason), e.g. the reason
//    "wrong version number" when the peer does not speak TLS.
// default_error_condition sorts every value into one of the three tls_errc conditions, so that
// `ec == tls_errc::certificate_verify_failed` holds whatever the precise reason was.
#include <openssl/x509.h>

#include <cstdio>

#include "net/tls_internal.hpp"

namespace cogent {
namespace {

constexpr int openssl_code_min = 1 << 23;

int condition_of(int value) noexcept {
    if (value == static_cast<int>(tls_errc::unexpected_eof)) return value;
    if (value == static_cast<int>(tls_errc::certificate_verify_failed)) return value;
    if (value >= detail::tls_verify_base && value < openssl_code_min) {
        return static_cast<int>(tls_errc::certificate_verify_failed);
    }
    if (value >= openssl_code_min) {
        const auto e = static_cast<unsigned long>(value);
        if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
            return static_cast<int>(tls_errc::unexpected_eof);
        }
        if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
            return static_cast<int>(tls_errc::certificate_verify_failed);
        }
    }
    return static_cast<int>(tls_errc::protocol_error);
}

class tls_error_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "cogent.tls"; }

    std::string message(int value) const override {
        switch (value) {
            case static_cast<int>(tls_errc::unexpected_eof):
                return "unexpected end of stream: the peer closed the connection without a TLS close_notify";
            case static_cast<int>(tls_errc::certificate_verify_failed):
                return "certificate verify failed";
            case static_cast<int>(tls_errc::protocol_error):
                return "TLS protocol error";
            default:
                break;
        }
        if (value >= detail::tls_verify_base && value < openssl_code_min) {
            return std::string("certificate verify failed: ") +
                   X509_verify_cert_error_string(value - detail::tls_verify_base);
        }
        if (value >= openssl_code_min) {
            const auto e = static_cast<unsigned long>(value);
            if (const char* reason = ERR_reason_error_string(e)) return reason;
            char text[256];
            ERR_error_string_n(e, text, sizeof text);
            return text;
        }
        return "unknown cogent.tls error " + std::to_string(value);
    }

    std::error_condition default_error_condition(int value) const noexcept override {
        return {condition_of(value), *this};
    }
};

// The code for OpenSSL's packed error `e` (not 0), looking at `ssl`'s verification result when
// the error is a failed verification.
std::error_code code_of(unsigned long e, const SSL* ssl) {
    if (ERR_SYSTEM_ERROR(e)) return {ERR_GET_REASON(e), std::generic_category()};
    if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        return detail::tls_code(tls_errc::unexpected_eof);
    }
    if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        const long result = ssl != nullptr ? SSL_get_verify_result(ssl) : X509_V_OK;
        if (result > X509_V_OK && result < openssl_code_min - detail::tls_verify_base) {
            return detail::tls_code(detail::tls_verify_base + static_cast<int>(result));
        }
        return detail::tls_code(tls_errc::certificate_verify_failed);
    }
    // Not a system error, so bit 31 is clear and the value fits an int.
    return detail::tls_code(static_cast<int>(e & 0x7fffffffUL));
}

}  // namespace

const std::error_category& tls_category() noexcept {
    static const tls_error_category category;
    return category;
}

std::error_condition make_error_condition(tls_errc e) noexcept {
    return {static_cast<int>(e), tls_category()};
}

namespace detail {

std::error_code take_openssl_error(const SSL* ssl) {
    // The first error queued is the cause; later ones say where it surfaced.
    const unsigned long first = ERR_get_error();
    ERR_clear_error();
    return first == 0 ? tls_code(tls_errc::protocol_error) : code_of(first, ssl);
}

std::error_code take_tls_error(const tls_stream::state& s, int ssl_error) {
    if (ssl_error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
        // No TLS error queued: the transport failed. Our BIO knows how.
        if (s.read_eof) return tls_code(tls_errc::unexpected_eof);
        if (s.read_errno != 0) return {s.read_errno, std::generic_category()};
    }
    return take_openssl_error(s.ssl);
}

}  // namespace detail
}  // namespace cogent
