// TLS over cogent's sockets (OpenSSL 3): client and server streams whose handshake, reads, writes
// and shutdown park the calling greenlet instead of blocking the thread, each with a timeout, in a
// throwing form and a std::error_code& form, with the semantics of stream_socket's operations.
//
// Certificate verification is on by default: a client checks the server's chain against the
// system's CA store (or the CA file or directory it is given) and the host name it connects to.
//
// Errors: TLS failures are std::error_code values in the "cogent.tls" category, whose value says
// exactly what went wrong (an OpenSSL reason, or an X509 verification result) and whose message
// says it in OpenSSL's words ("certificate verify failed: Hostname mismatch"). Compare them with
// the tls_errc conditions. Timeouts, closes by another greenlet and the peer's end of stream are
// reported as the socket layer reports them (std::errc::timed_out, net_errc::socket_closed,
// net_errc::end_of_stream); failed system calls as errno values (ECONNRESET, EPIPE).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "cogent/stream_socket.hpp"

struct ssl_st;      // OpenSSL's SSL
struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace cogent {

// What a "cogent.tls" error code means, for comparisons: `ec == tls_errc::unexpected_eof`.
enum class tls_errc {
    // The peer closed the connection without a TLS close_notify, in the middle of a record or
    // between records. The data may have been cut short by an attacker, so this is never
    // reported as a clean end of stream.
    unexpected_eof = 1,
    // The peer's certificate was not accepted: untrusted, expired, or not for this host name.
    certificate_verify_failed,
    // Any other TLS failure: an alert from the peer (it refused our certificate, say), no
    // protocol version or cipher in common, a corrupt record, a peer that does not speak TLS.
    protocol_error,
};

const std::error_category& tls_category() noexcept;
std::error_condition make_error_condition(tls_errc e) noexcept;

enum class tls_version { tls1_2, tls1_3 };

struct tls_client_options {
    // Trusted CAs: a PEM file and/or an OpenSSL hashed directory (c_rehash). With neither, the
    // system's CA store is used.
    std::string ca_file;
    std::string ca_path;
    // Check the server's certificate chain and its name. Turning this off makes the connection
    // open to anyone who can intercept it; for tests against self-signed servers only.
    bool verify_peer = true;
    // A certificate for servers that ask for one (PEM: the certificate, then any intermediates).
    std::string certificate_chain_file;
    std::string private_key_file;
    // ALPN protocols to offer ("h2", "http/1.1"), most preferred first; none: no ALPN.
    std::vector<std::string> alpn_protocols;
    tls_version min_version = tls_version::tls1_2;
    // DTLS contexts only: the path MTU, the largest IP packet the route to the server carries
    // (1500 on Ethernet). Handshake messages are fragmented to fit it, and it bounds the size of
    // a message (dtls_socket::max_message_size). Ignored by TLS contexts.
    std::size_t datagram_mtu = 1500;
};

struct tls_server_options {
    // Required: the server's certificate (then any intermediates) and its private key, PEM.
    std::string certificate_chain_file;
    std::string private_key_file;
    // Client certificates: when a CA file is given, clients are asked for a certificate, and one
    // they send must chain to these CAs. With `require_client_certificate`, a client that sends
    // none is refused too.
    std::string client_ca_file;
    bool require_client_certificate = false;
    // ALPN protocols accepted, in the server's order of preference. A client offering none of
    // them still connects, without a protocol (alpn_protocol() is empty).
    std::vector<std::string> alpn_protocols;
    tls_version min_version = tls_version::tls1_2;
    // DTLS contexts only: the path MTU towards clients, as tls_client_options::datagram_mtu.
    std::size_t datagram_mtu = 1500;
};

// The configuration streams share (OpenSSL's SSL_CTX): a cheap, copyable handle. Make one per
// configuration and use it for every connection; it may be shared between threads.
class tls_context {
public:
    // Empty; connecting or accepting with it throws std::invalid_argument.
    tls_context() noexcept = default;

    // Both throw std::system_error when a file cannot be read (naming it and OpenSSL's reason)
    // and std::invalid_argument when it is not what it should be (not PEM, a key that does not
    // match the certificate, a missing required option).
    static tls_context client(const tls_client_options& options = {});
    static tls_context server(const tls_server_options& options);
    // The same for DTLS 1.2 over UDP (include/cogent/dtls.hpp), for dtls_socket and a DTLS
    // datagram_server (not for tls_stream or stream_server). Verification, CA files, client
    // certificates and ALPN are as above; min_version must be tls1_2 (DTLS 1.2: OpenSSL 3.0 has
    // no DTLS 1.3, and DTLS 1.0 is refused). A DTLS server context answers a new client with a
    // stateless cookie first (HelloVerifyRequest), so spoofed addresses get no state.
    static tls_context dtls_client(const tls_client_options& options = {});
    static tls_context dtls_server(const tls_server_options& options);

    bool is_server() const noexcept;
    bool is_datagram() const noexcept;  // made by dtls_client or dtls_server
    explicit operator bool() const noexcept { return impl_ != nullptr; }
    // For settings this interface does not offer (cipher lists, session caching). Change it before
    // the first connection uses it.
    ssl_ctx_st* native_handle() const noexcept;

    struct impl;

private:
    friend class tls_stream;
    friend class dtls_socket;
    friend class datagram_server;
    explicit tls_context(std::shared_ptr<impl> state) noexcept : impl_(std::move(state)) {}
    std::shared_ptr<impl> impl_;
};

// A TLS connection over a stream socket it owns (a tcp_stream or a unix_stream, kept as the
// stream_socket it is: set TCP options such as nodelay before handing it over).
//
// One greenlet may read while another writes. Bytes a write reports as written are committed:
// encrypted and queued in the stream. A write whose timeout passes (or that is killed, or whose
// stream is closed) may leave some queued; the next write, read or shutdown sends them first,
// so nothing is lost or reordered. The destructor and close() do not send close_notify: call
// shutdown() first for a clean end.
class tls_stream {
public:
    // Not open.
    tls_stream() noexcept;
    ~tls_stream();
    tls_stream(tls_stream&& other) noexcept;
    tls_stream& operator=(tls_stream&& other) noexcept;

    // The client handshake over `transport`. `host_name` is sent as SNI and the certificate must
    // be for it (a DNS name, or an IP address matched against the certificate's IP entries and
    // not sent as SNI); it may be empty only if the context does not verify the peer. The
    // transport is consumed: on failure it is closed. `timeout` covers the whole handshake.
    static tls_stream connect(stream_socket&& transport, const tls_context& context,
                              std::string_view host_name, duration timeout = forever);
    static tls_stream connect(stream_socket&& transport, const tls_context& context,
                              std::string_view host_name, duration timeout, std::error_code& ec);
    // The server handshake over an accepted `transport`.
    static tls_stream accept(stream_socket&& transport, const tls_context& context,
                             duration timeout = forever);
    static tls_stream accept(stream_socket&& transport, const tls_context& context, duration timeout,
                             std::error_code& ec);

    // As stream_socket's. read_some returns 0 once the peer has sent close_notify (and for an
    // empty buffer); a connection closed without close_notify is tls_errc::unexpected_eof.
    std::size_t read_some(std::span<char> buffer, duration timeout = forever);
    std::size_t read_some(std::span<char> buffer, duration timeout, std::error_code& ec);
    std::size_t write_some(std::string_view data, duration timeout = forever);
    std::size_t write_some(std::string_view data, duration timeout, std::error_code& ec);
    void read_exact(std::span<char> buffer, duration timeout = forever);
    std::size_t read_exact(std::span<char> buffer, duration timeout, std::error_code& ec);
    void write_all(std::string_view data, duration timeout = forever);
    std::size_t write_all(std::string_view data, duration timeout, std::error_code& ec);

    // Sends close_notify (after anything still queued), then waits for the peer's, discarding
    // any data that arrives first. A peer that closes the connection instead of answering ends
    // it as well. The transport stays open: close() or the destructor closes it.
    void shutdown(duration timeout = forever);
    void shutdown(duration timeout, std::error_code& ec);
    // Sends close_notify and returns: the peer sees the end of our stream, and reads go on until
    // it ends its own (TLS 1.3 half-close; a TLS 1.2 peer usually answers at once).
    void shutdown_write(duration timeout = forever);
    void shutdown_write(duration timeout, std::error_code& ec);

    // Closes the transport at once (no close_notify), waking any greenlet waiting on this stream
    // with net_errc::socket_closed.
    void close() noexcept;
    void close(std::error_code& ec) noexcept;
    bool is_open() const noexcept;

    stream_socket& transport();
    const stream_socket& transport() const;

    // What the handshake settled: "TLSv1.3", the cipher suite's name, the ALPN protocol (empty if
    // none), the name the client asked for (SNI, on either side; empty if none), and the peer's
    // certificate subject in RFC 2253 form ("CN=localhost,O=example"; empty if it sent none).
    std::string protocol_version() const;
    std::string cipher() const;
    std::string alpn_protocol() const;
    std::string server_name() const;
    std::string peer_certificate_subject() const;
    // OpenSSL's SSL object, for what this interface does not offer. Do not do I/O through it.
    ssl_st* native_handle() const noexcept;

    struct state;

private:
    explicit tls_stream(std::unique_ptr<state> s) noexcept;
    std::unique_ptr<state> state_;
};

// Connects to `host` (cogent::connect: resolving it and trying each address), then makes the
// client handshake with `host` as the name to send and verify. `timeout` covers everything.
tls_stream tls_connect(std::string_view host, std::uint16_t port, const tls_context& context,
                       duration timeout = forever);
tls_stream tls_connect(std::string_view host, std::uint16_t port, const tls_context& context,
                       duration timeout, std::error_code& ec);

}  // namespace cogent

template <>
struct std::is_error_condition_enum<cogent::tls_errc> : std::true_type {};
