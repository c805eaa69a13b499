// The DTLS server's table of sessions: the cookie exchange for unknown peers, handing datagrams to
// known ones, replies, and the end of them all (dtls_sessions.hpp explains the design; each
// session's own greenlet is in dtls_session.cpp).
#include "net/dtls_sessions.hpp"

#include <exception>
#include <new>

#include "cogent/errors.hpp"
#include "cogent/hub.hpp"
#include "cogent/task.hpp"

namespace cogent::detail {
namespace {

// Whether `datagram` starts with a ClientHello of epoch 0: a client starting a new handshake.
// Record: type 22 (handshake), version, epoch (2 bytes), sequence, length; then the handshake
// message's type, 1 for ClientHello.
bool is_initial_client_hello(std::string_view datagram) {
    return datagram.size() > 13 && datagram[0] == 22 && datagram[3] == 0 && datagram[4] == 0 &&
           datagram[13] == 1;
}

}  // namespace

void report_dtls_error(const std::string& where, const std::error_code& ec, const std::string& what) {
    report_error(where, std::make_exception_ptr(std::system_error(ec, what)));
}

dtls_sessions::dtls_sessions(std::shared_ptr<tls_context::impl> context, udp_socket& server_socket,
                             const datagram_options& options, std::string server_name, deliver_fn deliver)
    : context_(std::move(context)),
      socket_(server_socket),
      options_(options),
      server_name_(std::move(server_name)),
      deliver_(std::move(deliver)),
      listen_address_(BIO_ADDR_new(), BIO_ADDR_free) {
    if (listen_address_ == nullptr) throw std::bad_alloc();
}

dtls_sessions::~dtls_sessions() = default;

void dtls_sessions::on_datagram(std::string_view datagram, const endpoint& from) {
    const std::string key = peer_key(from);
    auto found = table_.find(key);
    if (found == table_.end()) {
        listen(datagram, from, key);
        return;
    }
    session& s = *found->second;
    // A new ClientHello from the address of an established session: the client restarted (or its
    // NAT mapped a new client to the same port). RFC 6347 4.2.8: once it proves the address with
    // a cookie, it gets a new session and the old one ends; until then the old one stands.
    if (s.established && is_initial_client_hello(datagram)) {
        listen(datagram, from, key);
        return;
    }
    if (s.queued_bytes + datagram.size() > session_queue_bytes) {
        ++dropped_;
        return;
    }
    std::string copy(datagram);
    if (!s.inbox.try_put(copy)) {
        ++dropped_;
        return;
    }
    s.queued_bytes += datagram.size();
}

void dtls_sessions::listen(std::string_view datagram, const endpoint& from, const std::string& key) {
    auto old = table_.find(key);
    if (old == table_.end() && table_.size() >= options_.max_sessions) {
        ++dropped_;
        return;
    }
    if (spare_ == nullptr) {
        std::error_code ec;
        spare_ = dtls_channel::make(context_, from, ec);
        if (spare_ == nullptr) {
            ++dropped_;
            report_dtls_error(server_name_, ec, "cogent: DTLS: cannot make an SSL object");
            return;
        }
        spare_->cookie_secret = &secret_;
    }
    dtls_channel& c = *spare_;
    c.peer = from;
    // DTLSv1_listen keeps nothing between calls: a malformed datagram leaves only a note in
    // OpenSSL's error queue, which goes, and a ClientHello without a valid cookie only a
    // HelloVerifyRequest, smaller than the ClientHello, sent to the address it claims.
    ERR_clear_error();
    c.input = datagram;
    const int result = DTLSv1_listen(c.ssl, listen_address_.get());
    c.input = {};
    ERR_clear_error();
    const bool answered = !c.output.empty();
    send_now(c);
    if (result > 0) {
        if (old != table_.end()) {
            // The old session's greenlet drains its queue and ends (queue_closed); it no longer
            // owns the address, so it forgets nothing on the way out.
            old->second->established = false;
            old->second->inbox.close();
            table_.erase(old);
        }
        start_session(std::move(spare_), key);
        return;
    }
    if (result < 0) spare_.reset();  // that SSL may be unusable: the next peer gets a new one
    if (!answered) ++dropped_;
}

void dtls_sessions::start_session(std::unique_ptr<dtls_channel> channel, const std::string& key) {
    auto s = std::make_shared<session>();
    s->key = key;
    s->channel = std::move(channel);
    table_.emplace(key, s);
    greenlets_.spawn(task_options{"DTLS session " + s->channel->peer.to_string(), 0},
                     [this, s] { run_session(s); });
}

void dtls_sessions::forget(session& s) noexcept {
    s.established = false;
    auto found = table_.find(s.key);
    if (found != table_.end() && found->second.get() == &s) table_.erase(found);
}

std::size_t dtls_sessions::send_to(std::string_view message, const endpoint& to, duration timeout,
                                   std::error_code& ec) {
    const clock::time_point deadline = deadline_after(timeout);
    ec.clear();
    auto found = table_.find(peer_key(to));
    if (found == table_.end() || !found->second->established) {
        ec = std::make_error_code(std::errc::not_connected);
        return 0;
    }
    const session_ptr s = found->second;  // alive while this greenlet sends, even if it ends
    dtls_channel& c = *s->channel;
    if (c.failure) {
        ec = c.failure;
        return 0;
    }
    if (message.empty()) return 0;
    if (message.size() > c.max_message_size()) {
        ec = make_error_code(net_errc::message_too_long);
        return 0;
    }
    std::size_t written = 0;
    int result = 0;
    if (c.run({}, result, ec, [&](SSL* ssl) {
            return SSL_write_ex(ssl, message.data(), message.size(), &written);
        }) != SSL_ERROR_NONE) {
        if (!ec) ec = tls_code(tls_errc::protocol_error);
        send_now(c);
        return 0;
    }
    // The reply waits for room in the socket's buffer until the caller's deadline, as a plain
    // server's send_to does. Only this greenlet adds to the queue until it parks, so it sends
    // exactly the record it wrote.
    while (!c.output.empty()) {
        const std::string datagram = std::move(c.output.front());
        c.output.pop_front();
        socket_.send_to(datagram, c.peer, remaining_until(deadline), ec);
        if (ec) return 0;
    }
    return written;
}

void dtls_sessions::end_all() {
    for (auto& entry : table_) {
        if (entry.second->established) close_session(*entry.second);
    }
    greenlets_.kill();  // each forgets its session as it ends
    table_.clear();
    spare_.reset();
}

}  // namespace cogent::detail
