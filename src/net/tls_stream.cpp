// TLS streams: handshakes, reads, writes and shutdown, all through run_tls (tls_internal.hpp).
#include <algorithm>
#include <stdexcept>

#include "net/or_throw.hpp"
#include "net/tls_internal.hpp"
#include "net/tls_peer_name.hpp"

namespace cogent {

using detail::or_throw;
using detail::run_tls;
using state = tls_stream::state;

namespace {

// How much plaintext one write_some encrypts (four full records) before it waits for the kernel
// to take the ciphertext: enough to amortise the sends, small enough to bound what is queued.
constexpr std::size_t max_write_chunk = 64 * 1024;

std::unique_ptr<state> new_state(stream_socket&& transport, const std::shared_ptr<tls_context::impl>& context,
                                 std::error_code& ec) {
    auto s = std::make_unique<state>(std::move(transport));
    if (!s->transport.is_open()) {
        ec = std::make_error_code(std::errc::bad_file_descriptor);
        return nullptr;
    }
    ERR_clear_error();
    s->context = context;
    s->ssl = SSL_new(context->ctx);
    if (s->ssl == nullptr || !detail::attach_bio(*s)) {
        ec = detail::take_openssl_error();
        return nullptr;
    }
    return s;
}

bool handshake(state& s, clock::time_point deadline, std::error_code& ec) {
    if (run_tls(s, deadline, false, "TLS handshake", ec, [](SSL* ssl) { return SSL_do_handshake(ssl); }) >
        0) {
        return true;
    }
    // The peer's close_notify in the middle of the handshake: it ended the stream.
    if (!ec) ec = make_error_code(net_errc::end_of_stream);
    return false;
}

// Whether operations may go on: the stream is open and no fatal error has ended it.
bool usable(const std::unique_ptr<state>& s, std::error_code& ec) {
    if (s == nullptr || !s->transport.is_open()) {
        ec = std::make_error_code(std::errc::bad_file_descriptor);
        return false;
    }
    ec = s->failure;
    return !ec;
}

std::size_t read_until(state& s, std::span<char> buffer, clock::time_point deadline, std::error_code& ec) {
    std::size_t n = 0;
    run_tls(s, deadline, true, "TLS readable", ec,
            [&](SSL* ssl) { return SSL_read_ex(ssl, buffer.data(), buffer.size(), &n); });
    return ec ? 0 : n;
}

// Sends what earlier writes left queued, encrypts one chunk of `data`, and sends it. The chunk
// counts as written once encrypted, even if sending it then fails or times out (it stays queued).
std::size_t write_until(state& s, std::string_view data, clock::time_point deadline, std::error_code& ec) {
    ec = detail::flush(s, deadline, true);
    if (ec) return 0;
    const std::size_t chunk = std::min(data.size(), max_write_chunk);
    std::size_t written = 0;
    run_tls(s, deadline, false, "TLS writable", ec,
            [&](SSL* ssl) { return SSL_write_ex(ssl, data.data(), chunk, &written); });
    return written;
}

void shutdown_write_until(state& s, clock::time_point deadline, std::error_code& ec) {
    if ((SSL_get_shutdown(s.ssl) & SSL_SENT_SHUTDOWN) != 0) {
        ec = detail::flush(s, deadline, true);  // an earlier call may have timed out sending it
        return;
    }
    // SSL_shutdown says 0 when it has sent close_notify but not yet received the peer's: done too.
    run_tls(s, deadline, false, "TLS writable", ec, [](SSL* ssl) {
        const int result = SSL_shutdown(ssl);
        return result >= 0 ? 1 : result;
    });
}

}  // namespace

tls_stream::tls_stream() noexcept = default;
tls_stream::~tls_stream() = default;
tls_stream::tls_stream(tls_stream&& other) noexcept = default;
tls_stream& tls_stream::operator=(tls_stream&& other) noexcept = default;
tls_stream::tls_stream(std::unique_ptr<state> s) noexcept : state_(std::move(s)) {}

tls_stream tls_stream::connect(stream_socket&& transport, const tls_context& context,
                               std::string_view host_name, duration timeout, std::error_code& ec) {
    const clock::time_point deadline = deadline_after(timeout);
    stream_socket owned(std::move(transport));  // consumed whatever happens, misuse included
    if (!context || context.is_server() || context.is_datagram()) {
        throw std::invalid_argument(
            "cogent: tls_stream::connect needs a TLS client context (tls_context::client)");
    }
    const std::string name = detail::normalized_tls_host(host_name);
    const bool verify = (SSL_CTX_get_verify_mode(context.impl_->ctx) & SSL_VERIFY_PEER) != 0;
    detail::check_tls_host(name, verify, "tls_stream::connect");
    std::unique_ptr<state> s = new_state(std::move(owned), context.impl_, ec);
    if (s == nullptr) return {};
    SSL_set_connect_state(s->ssl);
    if (!detail::set_tls_peer_name(s->ssl, name, verify)) {
        ec = detail::take_openssl_error();
        return {};
    }
    if (!handshake(*s, deadline, ec)) return {};
    return tls_stream(std::move(s));
}

tls_stream tls_stream::connect(stream_socket&& transport, const tls_context& context,
                               std::string_view host_name, duration timeout) {
    std::error_code ec;
    tls_stream stream = connect(std::move(transport), context, host_name, timeout, ec);
    if (ec) detail::throw_net_error(ec, "cogent: TLS handshake with '" + std::string(host_name) + "'");
    return stream;
}

tls_stream tls_stream::accept(stream_socket&& transport, const tls_context& context, duration timeout,
                              std::error_code& ec) {
    const clock::time_point deadline = deadline_after(timeout);
    stream_socket owned(std::move(transport));
    if (!context.is_server() || context.is_datagram()) {
        throw std::invalid_argument(
            "cogent: tls_stream::accept needs a TLS server context (tls_context::server)");
    }
    std::unique_ptr<state> s = new_state(std::move(owned), context.impl_, ec);
    if (s == nullptr) return {};
    SSL_set_accept_state(s->ssl);
    if (!handshake(*s, deadline, ec)) return {};
    return tls_stream(std::move(s));
}

tls_stream tls_stream::accept(stream_socket&& transport, const tls_context& context, duration timeout) {
    return or_throw("TLS accept handshake",
                    [&](std::error_code& ec) { return accept(std::move(transport), context, timeout, ec); });
}

std::size_t tls_stream::read_some(std::span<char> buffer, duration timeout, std::error_code& ec) {
    if (!usable(state_, ec) || buffer.empty()) return 0;
    return read_until(*state_, buffer, deadline_after(timeout), ec);
}

std::size_t tls_stream::write_some(std::string_view data, duration timeout, std::error_code& ec) {
    if (!usable(state_, ec) || data.empty()) return 0;
    return write_until(*state_, data, deadline_after(timeout), ec);
}

std::size_t tls_stream::read_exact(std::span<char> buffer, duration timeout, std::error_code& ec) {
    const clock::time_point deadline = deadline_after(timeout);
    std::size_t done = 0;
    if (!usable(state_, ec)) return 0;
    while (done < buffer.size()) {
        const std::size_t n = read_until(*state_, buffer.subspan(done), deadline, ec);
        if (ec) return done;
        if (n == 0) {
            ec = make_error_code(net_errc::end_of_stream);  // the peer's close_notify came first
            return done;
        }
        done += n;
    }
    return done;
}

std::size_t tls_stream::write_all(std::string_view data, duration timeout, std::error_code& ec) {
    const clock::time_point deadline = deadline_after(timeout);
    std::size_t done = 0;
    if (!usable(state_, ec)) return 0;
    while (done < data.size()) {
        done += write_until(*state_, data.substr(done), deadline, ec);
        if (ec) return done;
    }
    return done;
}

void tls_stream::shutdown_write(duration timeout, std::error_code& ec) {
    if (usable(state_, ec)) shutdown_write_until(*state_, deadline_after(timeout), ec);
}

void tls_stream::shutdown(duration timeout, std::error_code& ec) {
    const clock::time_point deadline = deadline_after(timeout);
    if (!usable(state_, ec)) return;
    state& s = *state_;
    shutdown_write_until(s, deadline, ec);
    char discarded[4096];
    while (!ec && (SSL_get_shutdown(s.ssl) & SSL_RECEIVED_SHUTDOWN) == 0) {
        std::size_t n = 0;
        run_tls(s, deadline, true, "TLS close_notify", ec,
                [&](SSL* ssl) { return SSL_read_ex(ssl, discarded, sizeof discarded, &n); });
        // Our close_notify is out; a peer that closes (or resets) instead of answering is done too.
        if (ec == tls_errc::unexpected_eof || ec == std::errc::connection_reset) {
            ec.clear();
            return;
        }
    }
}

void tls_stream::close(std::error_code& ec) noexcept {
    ec.clear();
    if (state_ != nullptr) state_->transport.close(ec);
}

void tls_stream::close() noexcept {
    std::error_code ignored;
    close(ignored);
}

bool tls_stream::is_open() const noexcept {
    return state_ != nullptr && state_->transport.is_open();
}

stream_socket& tls_stream::transport() {
    if (state_ == nullptr)
        throw std::logic_error("cogent: this tls_stream has no transport (it was moved from)");
    return state_->transport;
}

const stream_socket& tls_stream::transport() const {
    return const_cast<tls_stream*>(this)->transport();
}

// The throwing forms.
std::size_t tls_stream::read_some(std::span<char> buffer, duration timeout) {
    return or_throw("TLS read_some", [&](std::error_code& ec) { return read_some(buffer, timeout, ec); });
}
std::size_t tls_stream::write_some(std::string_view data, duration timeout) {
    return or_throw("TLS write_some", [&](std::error_code& ec) { return write_some(data, timeout, ec); });
}
void tls_stream::read_exact(std::span<char> buffer, duration timeout) {
    or_throw("TLS read_exact", [&](std::error_code& ec) { return read_exact(buffer, timeout, ec); });
}
void tls_stream::write_all(std::string_view data, duration timeout) {
    or_throw("TLS write_all", [&](std::error_code& ec) { return write_all(data, timeout, ec); });
}
void tls_stream::shutdown(duration timeout) {
    or_throw("TLS shutdown", [&](std::error_code& ec) {
        shutdown(timeout, ec);
        return 0;
    });
}
void tls_stream::shutdown_write(duration timeout) {
    or_throw("TLS shutdown_write", [&](std::error_code& ec) {
        shutdown_write(timeout, ec);
        return 0;
    });
}

}  // namespace cogent
