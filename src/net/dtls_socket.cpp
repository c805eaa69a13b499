// The DTLS client's messages: send, receive, shutdown and close, through drive_dtls
// (dtls_socket_state.hpp).
#include <algorithm>
#include <stdexcept>

#include "net/dtls_socket_state.hpp"
#include "net/or_throw.hpp"
#include "net/tls_session_facts.hpp"

namespace cogent {

using detail::or_throw;
using state = dtls_socket::state;

namespace {

// Room for one record's plaintext, the most one message can be.
constexpr std::size_t max_record_plaintext = SSL3_RT_MAX_PLAIN_LENGTH;

// Whether operations may go on: the socket is open and no fatal error has ended the association.
bool usable(const std::unique_ptr<state>& s, std::error_code& ec) {
    if (s == nullptr || !s->transport.is_open()) {
        ec = std::make_error_code(std::errc::bad_file_descriptor);
        return false;
    }
    ec = s->channel->failure;
    return !ec;
}

}  // namespace

namespace detail {

std::error_code send_output(state& s, clock::time_point deadline) {
    std::error_code first;
    while (!s.channel->output.empty()) {
        const std::string datagram = std::move(s.channel->output.front());
        s.channel->output.pop_front();
        std::error_code ec;
        s.transport.send(datagram, remaining_until(deadline), ec);
        if (ec && !first) first = ec;
    }
    return first;
}

}  // namespace detail

dtls_socket::dtls_socket() noexcept = default;
dtls_socket::~dtls_socket() = default;
dtls_socket::dtls_socket(dtls_socket&& other) noexcept = default;
dtls_socket& dtls_socket::operator=(dtls_socket&& other) noexcept = default;
dtls_socket::dtls_socket(std::unique_ptr<state> s) noexcept : state_(std::move(s)) {}

std::size_t dtls_socket::send(std::string_view message, duration timeout, std::error_code& ec) {
    if (!usable(state_, ec) || message.empty()) return 0;
    state& s = *state_;
    if ((SSL_get_shutdown(s.channel->ssl) & SSL_RECEIVED_SHUTDOWN) != 0) {
        // The server ended the session: nobody would read this (OpenSSL would refuse it too).
        ec = make_error_code(net_errc::end_of_stream);
        return 0;
    }
    if (message.size() > s.channel->max_message_size()) {
        ec = make_error_code(net_errc::message_too_long);
        return 0;
    }
    std::size_t written = 0;
    int result = 0;
    const int verdict = s.channel->run({}, result, ec, [&](SSL* ssl) {
        return SSL_write_ex(ssl, message.data(), message.size(), &written);
    });
    if (verdict != SSL_ERROR_NONE) {
        if (!ec) ec = detail::tls_code(tls_errc::protocol_error);
        (void)detail::send_output(s, deadline_after(timeout));  // the alert, if OpenSSL made one
        return 0;
    }
    ec = detail::send_output(s, deadline_after(timeout));
    return ec ? 0 : written;
}

std::size_t dtls_socket::receive(std::span<char> buffer, duration timeout, std::error_code& ec) {
    if (!usable(state_, ec)) return 0;
    state& s = *state_;
    // OpenSSL returns one record per read, but only as much of it as the buffer holds, keeping the
    // rest for the next read: reading into room for a whole record keeps the message whole.
    std::vector<char>& message = s.plaintext;
    if (message.empty()) message.resize(max_record_plaintext);
    std::size_t n = 0;
    const int result = detail::drive_dtls(s, deadline_after(timeout), ec, [&](SSL* ssl) {
        return SSL_read_ex(ssl, message.data(), message.size(), &n);
    });
    if (result < 0) return 0;
    if (result == 0) {
        ec = make_error_code(net_errc::end_of_stream);  // the server's close_notify
        return 0;
    }
    if (n > buffer.size()) {
        ec = make_error_code(net_errc::message_too_long);
        return 0;
    }
    std::copy_n(message.data(), n, buffer.data());
    return n;
}

void dtls_socket::shutdown(duration timeout, std::error_code& ec) {
    if (!usable(state_, ec)) return;
    state& s = *state_;
    if ((SSL_get_shutdown(s.channel->ssl) & SSL_SENT_SHUTDOWN) != 0) return;
    int result = 0;
    // SSL_shutdown says 0 when it has sent close_notify but not received the server's: enough.
    const int verdict =
        s.channel->run({}, result, ec, [](SSL* ssl) { return SSL_shutdown(ssl) >= 0 ? 1 : -1; });
    const std::error_code sent = detail::send_output(s, deadline_after(timeout));
    if (verdict == SSL_ERROR_NONE) ec = sent;
}

void dtls_socket::close() noexcept {
    if (state_ != nullptr) state_->transport.close();
}

bool dtls_socket::is_open() const noexcept {
    return state_ != nullptr && state_->transport.is_open();
}

std::size_t dtls_socket::max_message_size() const noexcept {
    return state_ != nullptr ? state_->channel->max_message_size() : 0;
}

udp_socket& dtls_socket::transport() {
    if (state_ == nullptr)
        throw std::logic_error("cogent: this dtls_socket has no transport (it was moved from)");
    return state_->transport;
}

endpoint dtls_socket::peer() const {
    return state_ != nullptr ? state_->channel->peer : endpoint();
}

std::string dtls_socket::protocol_version() const {
    return state_ != nullptr ? detail::session_protocol_version(state_->channel->ssl) : std::string();
}

std::string dtls_socket::cipher() const {
    return state_ != nullptr ? detail::session_cipher(state_->channel->ssl) : std::string();
}

std::string dtls_socket::alpn_protocol() const {
    return state_ != nullptr ? detail::session_alpn_protocol(state_->channel->ssl) : std::string();
}

std::string dtls_socket::peer_certificate_subject() const {
    return state_ != nullptr ? detail::session_peer_certificate_subject(state_->channel->ssl) : std::string();
}

ssl_st* dtls_socket::native_handle() const noexcept {
    return state_ != nullptr ? state_->channel->ssl : nullptr;
}

// The throwing forms.
std::size_t dtls_socket::send(std::string_view message, duration timeout) {
    return or_throw("DTLS send", [&](std::error_code& ec) { return send(message, timeout, ec); });
}
std::size_t dtls_socket::receive(std::span<char> buffer, duration timeout) {
    return or_throw("DTLS receive", [&](std::error_code& ec) { return receive(buffer, timeout, ec); });
}
void dtls_socket::shutdown(duration timeout) {
    or_throw("DTLS shutdown", [&](std::error_code& ec) {
        shutdown(timeout, ec);
        return 0;
    });
}

}  // namespace cogent
