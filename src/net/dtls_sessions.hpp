// The DTLS side of a datagram_server: the stateless cookie exchange for unknown peers, and one
// session per peer, demultiplexed by source address from the server's one socket. Not a public
// interface.
//
// Why one socket and a table rather than a connected socket per peer (SO_REUSEPORT): a
// connected UDP socket only takes the datagrams of its peer once it exists, so the datagrams
// that race its creation (the client's retransmitted ClientHello, its next flight) still arrive
// at the listening socket and must be passed over by hand anyway; how Linux chooses between
// connected and unconnected sockets sharing a port through SO_REUSEPORT has changed between
// kernel versions; and every session would cost an fd, so max_sessions would be bounded by
// RLIMIT_NOFILE. One socket, read by one greenlet that hands each datagram to its session's
// queue, costs one lookup per datagram and nothing else.
//
// Each session's SSL reads through a BIO that holds no socket (dtls_channel.hpp): the session's
// greenlet hands it the datagrams the receiving loop queued, and sends what it writes with
// sendto. DTLSv1_listen runs on a spare SSL for datagrams from unknown peers: it answers a
// ClientHello without a valid cookie with a HelloVerifyRequest and keeps nothing; once a
// ClientHello brings a valid cookie back, that SSL becomes the peer's session and a new spare
// is made.
#pragma once

#include <openssl/bio.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>

#include "cogent/datagram_server.hpp"
#include "cogent/group.hpp"
#include "cogent/queue.hpp"
#include "net/dtls_channel.hpp"
#include "net/dtls_cookie.hpp"

namespace cogent::detail {

// What may wait for one session's greenlet: more is dropped, as a full socket buffer would drop
// it. A handshake flight is a few datagrams; a client that sends faster than its session
// decrypts is the one that loses. With the SSL object, this bounds a session's memory.
inline constexpr std::size_t session_queue = 32;
inline constexpr std::size_t session_queue_bytes = 64 * 1024;

// Sends `ec` to the hub's error handler as a std::system_error saying `what`, from `where`.
void report_dtls_error(const std::string& where, const std::error_code& ec, const std::string& what);

class dtls_sessions {
public:
    // Hands a decrypted message to the server's handler (spawning it; it may wait for room).
    using deliver_fn = std::function<void(std::string message, const endpoint& from)>;

    // `server_socket` and `options` belong to the server and outlive this.
    dtls_sessions(std::shared_ptr<tls_context::impl> context, udp_socket& server_socket,
                  const datagram_options& options, std::string server_name, deliver_fn deliver);
    ~dtls_sessions();
    dtls_sessions(const dtls_sessions&) = delete;
    dtls_sessions& operator=(const dtls_sessions&) = delete;

    // A datagram from `from` came in on the server's socket (called by its receiving loop; never
    // parks).
    void on_datagram(std::string_view datagram, const endpoint& from);
    // Encrypts `message` to `to`'s session and sends it from the server's socket.
    std::size_t send_to(std::string_view message, const endpoint& to, duration timeout, std::error_code& ec);
    // Sends close_notify to every established session's peer (without waiting: a datagram that
    // does not fit in the socket's buffer now is dropped) and ends their greenlets.
    void end_all();

    std::size_t size() const noexcept { return table_.size(); }
    std::size_t dropped() const noexcept { return dropped_; }
    // Counts one more datagram dropped (the receiving loop drops oversized ones itself).
    void count_drop() noexcept { ++dropped_; }

    struct session;

private:
    using session_ptr = std::shared_ptr<session>;

    void listen(std::string_view datagram, const endpoint& from, const std::string& key);
    void start_session(std::unique_ptr<dtls_channel> channel, const std::string& key);
    void run_session(const session_ptr& s);
    bool handshake(session& s, std::error_code& ec);
    void serve(session& s);
    void close_session(session& s);
    void forget(session& s) noexcept;
    // Sends what the channel queued to its peer, without waiting; drops what does not fit.
    void send_now(dtls_channel& c) noexcept;
    template <class Deadline, class Call>
    int drive(session& s, Deadline&& deadline, std::error_code& ec, Call&& call);

    std::shared_ptr<tls_context::impl> context_;
    udp_socket& socket_;
    const datagram_options& options_;
    std::string server_name_;
    deliver_fn deliver_;
    dtls_cookie_secret secret_;
    std::unique_ptr<dtls_channel> spare_;  // the SSL DTLSv1_listen runs on
    std::unique_ptr<BIO_ADDR, void (*)(BIO_ADDR*)> listen_address_;
    std::unordered_map<std::string, session_ptr> table_;  // by peer_key
    group greenlets_;                                     // one per session
    std::size_t dropped_ = 0;
};

// What one peer's session is: its channel, the datagrams waiting for its greenlet, and whether
// the handshake is done (replies are refused until it is, and after the session ends).
struct dtls_sessions::session {
    std::string key;
    std::unique_ptr<dtls_channel> channel;
    queue<std::string> inbox{session_queue};
    std::size_t queued_bytes = 0;  // in `inbox`
    bool established = false;
    clock::time_point last_heard = clock::now();  // the last message from the peer
};

}  // namespace cogent::detail
