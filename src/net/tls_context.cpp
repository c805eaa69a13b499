// TLS and DTLS contexts: OpenSSL's SSL_CTX made from the options, with errors that name the file
// at fault.
#include <sys/stat.h>

#include <cerrno>
#include <stdexcept>
#include <string>

#include "net/dtls_cookie.hpp"
#include "net/tls_internal.hpp"

namespace cogent {
namespace {

// OpenSSL's reasons for the errors queued, oldest first, and the errno of a failed system call
// among them (0 if none; its own message says more than OpenSSL's "system lib"). Empties the queue.
std::string take_reasons(int& system_error) {
    std::string reasons;
    system_error = 0;
    while (const unsigned long e = ERR_get_error()) {
        if (ERR_SYSTEM_ERROR(e)) {
            if (system_error == 0) system_error = ERR_GET_REASON(e);
            continue;
        }
        const char* reason = ERR_reason_error_string(e);
        const std::string text = reason != nullptr ? reason : "OpenSSL error " + std::to_string(e);
        if (reasons.find(text) != std::string::npos) continue;  // said already, by another layer
        if (!reasons.empty()) reasons += "; ";
        reasons += text;
    }
    return reasons.empty() ? "no reason given" : reasons;
}

// Throws for a file OpenSSL could not use: std::system_error if reading it failed (it is missing,
// say), std::invalid_argument if its content is wrong.
[[noreturn]] void throw_file_error(const char* what, const std::string& path) {
    int system_error = 0;
    std::string reasons = take_reasons(system_error);
    std::string message = std::string("cogent: TLS ") + what + " '" + path + "'";
    if (system_error != 0) {
        throw std::system_error(system_error, std::generic_category(), message + " cannot be read");
    }
    throw std::invalid_argument(message + " cannot be used: " + reasons);
}

[[noreturn]] void throw_openssl_error(const std::string& what) {
    int system_error = 0;
    std::string reasons = take_reasons(system_error);
    throw std::system_error(detail::tls_code(tls_errc::protocol_error), "cogent: " + what + ": " + reasons);
}

// OpenSSL checks a directory of CAs only when it looks a certificate up, so a wrong path would
// otherwise surface as a verification failure on the first connection.
void check_directory(const std::string& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
        throw std::system_error(errno, std::generic_category(),
                                "cogent: TLS CA directory '" + path + "' cannot be read");
    }
    if (!S_ISDIR(info.st_mode)) {
        throw std::system_error(std::make_error_code(std::errc::not_a_directory),
                                "cogent: TLS CA directory '" + path + "' is not a directory");
    }
}

// A context of `method` with what every cogent context has. Never asks for a password: without
// this, loading an encrypted key would prompt on the terminal and block the whole thread.
std::shared_ptr<tls_context::impl> new_context(const SSL_METHOD* method, bool server, bool datagram,
                                               tls_version min_version) {
    ERR_clear_error();
    auto impl = std::make_shared<tls_context::impl>();
    impl->server = server;
    impl->datagram = datagram;
    impl->ctx = SSL_CTX_new(method);
    if (impl->ctx == nullptr) throw_openssl_error("SSL_CTX_new");
    SSL_CTX_set_default_passwd_cb(impl->ctx, [](char*, int, int, void*) { return 0; });
    int version = min_version == tls_version::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
    if (datagram) {
        // OpenSSL 3.0 has no DTLS 1.3; DTLS 1.0 (TLS 1.1's counterpart) is as obsolete as TLS 1.1.
        if (min_version != tls_version::tls1_2)
            throw std::invalid_argument("cogent: DTLS contexts support DTLS 1.2 only (min_version tls1_2)");
        version = DTLS1_2_VERSION;
    }
    if (SSL_CTX_set_min_proto_version(impl->ctx, version) != 1)
        throw_openssl_error("SSL_CTX_set_min_proto_version");
    // Renegotiation (TLS 1.2) would let either side start a handshake in the middle of the
    // other's reads and writes; it is refused, as most of the web does.
    SSL_CTX_set_options(impl->ctx, SSL_OP_NO_RENEGOTIATION);
    // Read whole records (and whatever follows) in one recv rather than header then body. DTLS
    // reads whole datagrams anyway.
    if (!datagram) SSL_CTX_set_read_ahead(impl->ctx, 1);
    return impl;
}

// A datagram MTU cannot be smaller than the 576 bytes every IPv4 host must accept, nor larger
// than what a UDP datagram can hold.
std::size_t checked_mtu(std::size_t mtu) {
    if (mtu < 576 || mtu > 65535) {
        throw std::invalid_argument("cogent: datagram_mtu must be 576 to 65535 bytes, not " + std::to_string(mtu));
    }
    return mtu;
}

void use_certificate(SSL_CTX* ctx, const std::string& chain_file, const std::string& key_file) {
    if (chain_file.empty() != key_file.empty()) {
        throw std::invalid_argument(
            "cogent: TLS needs both a certificate chain file and a private key file, or neither");
    }
    if (chain_file.empty()) return;
    if (SSL_CTX_use_certificate_chain_file(ctx, chain_file.c_str()) != 1) {
        throw_file_error("certificate chain file", chain_file);
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        throw_file_error("private key file", key_file);
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        int ignored = 0;
        throw std::invalid_argument("cogent: TLS private key file '" + key_file +
                                    "' does not match certificate '" + chain_file +
                                    "': " + take_reasons(ignored));
    }
}

// ALPN's wire format: each protocol preceded by its length.
std::string alpn_wire(const std::vector<std::string>& protocols) {
    std::string wire;
    for (const std::string& p : protocols) {
        if (p.empty() || p.size() > 255) {
            throw std::invalid_argument("cogent: an ALPN protocol name must have 1 to 255 bytes, not '" + p +
                                        "'");
        }
        wire += static_cast<char>(p.size());
        wire += p;
    }
    return wire;
}

// Picks the first of the server's protocols the client offers.
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_size, const unsigned char* offered,
                unsigned int offered_size, void* arg) {
    const auto* impl = static_cast<const tls_context::impl*>(arg);
    unsigned char* chosen = nullptr;
    const auto* ours = reinterpret_cast<const unsigned char*>(impl->alpn_wire.data());
    if (SSL_select_next_proto(&chosen, out_size, ours, static_cast<unsigned int>(impl->alpn_wire.size()),
                              offered, offered_size) != OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_NOACK;  // go on without ALPN
    }
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

// What client contexts of both kinds are made with.
void configure_client(tls_context::impl* c, const tls_client_options& options) {
    if (options.verify_peer) {
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, nullptr);
        if (!options.ca_path.empty()) check_directory(options.ca_path);
        if (!options.ca_file.empty() || !options.ca_path.empty()) {
            const char* file = options.ca_file.empty() ? nullptr : options.ca_file.c_str();
            const char* path = options.ca_path.empty() ? nullptr : options.ca_path.c_str();
            if (SSL_CTX_load_verify_locations(c->ctx, file, path) != 1) {
                throw_file_error("CA file", file != nullptr ? options.ca_file : options.ca_path);
            }
        } else if (SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
            throw_openssl_error("cannot load the system's CA store");
        }
    } else {
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, nullptr);
    }
    use_certificate(c->ctx, options.certificate_chain_file, options.private_key_file);
    if (!options.alpn_protocols.empty()) {
        const std::string wire = alpn_wire(options.alpn_protocols);
        // Unlike most of OpenSSL, this one returns 0 on success.
        if (SSL_CTX_set_alpn_protos(c->ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                                    static_cast<unsigned int>(wire.size())) != 0) {
            throw_openssl_error("SSL_CTX_set_alpn_protos");
        }
    }
}

// What server contexts of both kinds are made with.
void configure_server(const std::shared_ptr<tls_context::impl>& c, const tls_server_options& options) {
    use_certificate(c->ctx, options.certificate_chain_file, options.private_key_file);
    if (!options.client_ca_file.empty()) {
        const std::string& file = options.client_ca_file;
        if (SSL_CTX_load_verify_locations(c->ctx, file.c_str(), nullptr) != 1)
            throw_file_error("client CA file", file);
        // The CAs' names are sent to clients, to help them pick a certificate.
        STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(file.c_str());
        if (names == nullptr) throw_file_error("client CA file", file);
        SSL_CTX_set_client_CA_list(c->ctx, names);
        int mode = SSL_VERIFY_PEER;
        if (options.require_client_certificate) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        SSL_CTX_set_verify(c->ctx, mode, nullptr);
    } else if (options.require_client_certificate) {
        throw std::invalid_argument(
            "cogent: require_client_certificate needs a client_ca_file to verify them with");
    }
    // Sessions resumed with a client certificate need an id context (OpenSSL refuses them without).
    static const unsigned char session_context[] = "cogent";
    SSL_CTX_set_session_id_context(c->ctx, session_context, sizeof session_context - 1);
    if (!options.alpn_protocols.empty()) {
        c->alpn_wire = alpn_wire(options.alpn_protocols);
        SSL_CTX_set_alpn_select_cb(c->ctx, select_alpn, c.get());
    }
}

void require_certificate(const tls_server_options& options) {
    if (options.certificate_chain_file.empty() || options.private_key_file.empty()) {
        throw std::invalid_argument(
            "cogent: a TLS server needs a certificate chain file and a private key file");
    }
}

}  // namespace

tls_context tls_context::client(const tls_client_options& options) {
    std::shared_ptr<impl> c = new_context(TLS_client_method(), false, false, options.min_version);
    configure_client(c.get(), options);
    return tls_context(std::move(c));
}

tls_context tls_context::server(const tls_server_options& options) {
    require_certificate(options);
    std::shared_ptr<impl> c = new_context(TLS_server_method(), true, false, options.min_version);
    configure_server(c, options);
    return tls_context(std::move(c));
}

tls_context tls_context::dtls_client(const tls_client_options& options) {
    const std::size_t mtu = checked_mtu(options.datagram_mtu);
    std::shared_ptr<impl> c = new_context(DTLS_client_method(), false, true, options.min_version);
    c->datagram_mtu = mtu;
    configure_client(c.get(), options);
    return tls_context(std::move(c));
}

tls_context tls_context::dtls_server(const tls_server_options& options) {
    require_certificate(options);
    const std::size_t mtu = checked_mtu(options.datagram_mtu);
    std::shared_ptr<impl> c = new_context(DTLS_server_method(), true, true, options.min_version);
    c->datagram_mtu = mtu;
    configure_server(c, options);
    detail::install_dtls_cookie_callbacks(c->ctx);
    return tls_context(std::move(c));
}

bool tls_context::is_server() const noexcept {
    return impl_ != nullptr && impl_->server;
}

bool tls_context::is_datagram() const noexcept {
    return impl_ != nullptr && impl_->datagram;
}

ssl_ctx_st* tls_context::native_handle() const noexcept {
    return impl_ != nullptr ? impl_->ctx : nullptr;
}

}  // namespace cogent
