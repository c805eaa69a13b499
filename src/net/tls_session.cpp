// What a TLS stream's handshake settled, for the caller to look at; and tls_connect.
#include <algorithm>

#include "cogent/tcp.hpp"
#include "net/tls_internal.hpp"
#include "net/tls_session_facts.hpp"

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
    return state_ != nullptr ? detail::session_protocol_version(state_->ssl) : std::string();
}

std::string tls_stream::cipher() const {
    return state_ != nullptr ? detail::session_cipher(state_->ssl) : std::string();
}

std::string tls_stream::alpn_protocol() const {
    return state_ != nullptr ? detail::session_alpn_protocol(state_->ssl) : std::string();
}

std::string tls_stream::server_name() const {
    return state_ != nullptr ? or_empty(SSL_get_servername(state_->ssl, TLSEXT_NAMETYPE_host_name))
                             : std::string();
}

std::string tls_stream::peer_certificate_subject() const {
    return state_ != nullptr ? detail::session_peer_certificate_subject(state_->ssl) : std::string();
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
