// The DTLS channel: our datagram BIO, the channel's setup, and OpenSSL's retransmission timer
// (dtls_channel.hpp explains the design).
#include "net/dtls_channel.hpp"

#include <netinet/in.h>
#include <sys/time.h>

#include <algorithm>
#include <chrono>
#include <cstring>

namespace cogent::detail {
namespace {

dtls_channel& channel_of(BIO* bio) {
    return *static_cast<dtls_channel*>(BIO_get_data(bio));
}

// Gives OpenSSL the datagram of the current call, once; nothing else is ever there to read. A
// buffer too small for it gets its beginning, as recv would: OpenSSL always offers room for the
// largest record, so that cannot cut a valid datagram.
int bio_read(BIO* bio, char* data, int size) {
    dtls_channel& c = channel_of(bio);
    BIO_clear_retry_flags(bio);
    if (c.input.empty() || size <= 0) {
        BIO_set_retry_read(bio);
        return -1;
    }
    const std::size_t n = std::min(c.input.size(), static_cast<std::size_t>(size));
    std::memcpy(data, c.input.data(), n);
    c.input = {};
    return static_cast<int>(n);
}

// One write is one datagram, queued for the driver to send.
int bio_write(BIO* bio, const char* data, int size) {
    BIO_clear_retry_flags(bio);
    channel_of(bio).output.emplace_back(data, static_cast<std::size_t>(size));
    return size;
}

// The IP and UDP headers in front of every datagram to the peer.
long header_overhead(const dtls_channel& c) {
    return c.peer.family() == AF_INET6 ? 40 + 8 : 20 + 8;
}

long bio_ctrl(BIO* bio, int command, long, void*) {
    switch (command) {
        case BIO_CTRL_FLUSH:
            return 1;  // sending is the driver's job, after the call
        case BIO_CTRL_WPENDING:
        case BIO_CTRL_PENDING:
            return 0;  // every datagram is complete as soon as it is written
        case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
            return header_overhead(channel_of(bio));
        case BIO_CTRL_DGRAM_SET_MTU:
        case BIO_CTRL_DGRAM_SET_PEER:
        case BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT:
            return 1;  // noted by OpenSSL itself; nothing to do here
        default:
            // Among the rest: the peer's address (we keep it, and DTLSv1_listen copes without),
            // the path MTU (there is no socket to ask), "the MTU was exceeded" (our writes never
            // fail), a receive timeout (timers are the driver's). 0 is "not supported".
            return 0;
    }
}

int bio_create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
}

// Our BIO type: a number OpenSSL hands out once, which tells our BIOs from anyone else's.
int datagram_bio_type() {
    static const int type = BIO_get_new_index() | BIO_TYPE_SOURCE_SINK;
    return type;
}

// Made once and kept for the life of the process, as OpenSSL's own methods are.
const BIO_METHOD* datagram_bio_method() {
    static BIO_METHOD* const method = [] {
        BIO_METHOD* m = BIO_meth_new(datagram_bio_type(), "cogent datagram");
        if (m == nullptr) return m;
        BIO_meth_set_read(m, bio_read);
        BIO_meth_set_write(m, bio_write);
        BIO_meth_set_ctrl(m, bio_ctrl);
        BIO_meth_set_create(m, bio_create);
        return m;
    }();
    return method;
}

}  // namespace

bool attach_datagram_bio(dtls_channel& channel) {
    const BIO_METHOD* method = datagram_bio_method();
    BIO* bio = method != nullptr ? BIO_new(method) : nullptr;
    if (bio == nullptr) return false;
    BIO_set_data(bio, &channel);
    SSL_set_bio(channel.ssl, bio, bio);  // one reference, for both directions
    return true;
}

dtls_channel* dtls_channel::of(SSL* ssl) {
    BIO* bio = SSL_get_rbio(ssl);
    if (bio == nullptr || BIO_method_type(bio) != datagram_bio_type()) return nullptr;
    return static_cast<dtls_channel*>(BIO_get_data(bio));
}

std::unique_ptr<dtls_channel> dtls_channel::make(const std::shared_ptr<tls_context::impl>& context,
                                                 const endpoint& peer, std::error_code& ec) {
    auto c = std::make_unique<dtls_channel>();
    c->context = context;
    c->peer = peer;
    ERR_clear_error();
    c->ssl = SSL_new(context->ctx);
    if (c->ssl == nullptr || !attach_datagram_bio(*c)) {
        ec = take_openssl_error();
        return nullptr;
    }
    // The MTU is ours to give: SSL_set_mtu wants the room for DTLS in a datagram, what is left
    // of the path MTU after the IP and UDP headers.
    SSL_set_options(c->ssl, SSL_OP_NO_QUERY_MTU);
    const long room = static_cast<long>(context->datagram_mtu) - header_overhead(*c);
    if (SSL_set_mtu(c->ssl, room) <= 0) {
        ec = take_openssl_error();
        return nullptr;
    }
    if (context->server) {
        SSL_set_accept_state(c->ssl);
    } else {
        SSL_set_connect_state(c->ssl);
    }
    return c;
}

clock::time_point dtls_channel::timer_deadline() const {
    timeval left{};
    if (DTLSv1_get_timeout(ssl, &left) != 1) return clock::time_point::max();
    const auto wait = std::chrono::seconds(left.tv_sec) + std::chrono::microseconds(left.tv_usec);
    return clock::now() + std::chrono::duration_cast<duration>(wait);
}

bool dtls_channel::on_timer(std::error_code& ec) {
    ERR_clear_error();
    if (DTLSv1_handle_timeout(ssl) >= 0) {
        ERR_clear_error();
        return true;
    }
    ec = fatal_error();
    return false;
}

std::size_t dtls_channel::max_message_size() const {
    return SSL_is_init_finished(ssl) ? DTLS_get_data_mtu(ssl) : 0;
}

std::error_code dtls_channel::fatal_error() {
    // The BIO never fails a read or write, so there is no system error to look for: what failed
    // is in OpenSSL's queue (or, if nothing is, the protocol in general).
    failure = take_openssl_error(ssl);
    return failure;
}

std::string peer_key(const endpoint& peer) {
    std::string key(1, static_cast<char>(peer.family()));
    auto append = [&key](const void* data, std::size_t size) {
        key.append(static_cast<const char*>(data), size);
    };
    if (peer.family() == AF_INET) {
        const auto* a = reinterpret_cast<const sockaddr_in*>(peer.data());
        append(&a->sin_port, sizeof a->sin_port);
        append(&a->sin_addr, sizeof a->sin_addr);
    } else if (peer.family() == AF_INET6) {
        const auto* a = reinterpret_cast<const sockaddr_in6*>(peer.data());
        append(&a->sin6_port, sizeof a->sin6_port);
        append(&a->sin6_addr, sizeof a->sin6_addr);
        append(&a->sin6_scope_id, sizeof a->sin6_scope_id);
    } else {
        append(peer.data(), peer.size());
    }
    return key;
}

duration remaining_until(clock::time_point deadline) {
    if (deadline == clock::time_point::max()) return forever;
    return std::max(deadline - clock::now(), clock::time_point::duration::zero());
}

}  // namespace cogent::detail
