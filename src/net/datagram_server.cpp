// The datagram server: a receiving greenlet, and a greenlet per datagram in a group (a pool when
// the number of handlers is limited). A DTLS server hands each datagram to its sessions
// (dtls_sessions.hpp) instead, which hand each decrypted message back to be handled the same way.
#include "cogent/datagram_server.hpp"

#include <stdexcept>
#include <vector>

#include "cogent/errors.hpp"
#include "cogent/hub.hpp"
#include "cogent/sleep.hpp"
#include "net/dtls_sessions.hpp"
#include "net/or_throw.hpp"
#include "net/server_lifecycle.hpp"

namespace cogent {

struct datagram_server::state {
    datagram_server& server;
    handler handle;
    datagram_options options;
    udp_socket socket;
    endpoint address;
    detail::server_lifecycle lifecycle;  // the receiver, and the handlers' group (or pool)
    std::unique_ptr<detail::dtls_sessions> dtls;
    std::size_t received = 0;
    std::size_t dropped = 0;  // of a plain server; a DTLS server's sessions count their own

    state(datagram_server& owner, const datagram_options& o)
        : server(owner), options(o), lifecycle("datagram_server", o.max_concurrent) {}

    // Runs the handler on one datagram (or decrypted message) in a greenlet of its own; with a
    // limit on handlers, waits for a place first.
    void dispatch(std::string datagram, const endpoint& from) {
        // A DTLS session waits here for a place (a plain server waited before receiving). Once
        // stop() has begun, messages still being decrypted are not handled: the handlers' group
        // is being joined, or was killed, and must not grow.
        if (pool* limit = lifecycle.limit(); limit != nullptr && dtls) limit->wait_available();
        if (lifecycle.stopping()) return;
        ++received;
        lifecycle.members().spawn(task_options{"datagram from " + from.to_string(), options.stack_size},
                                  [this, datagram = std::move(datagram), from]() mutable {
                                      try {
                                          handle(std::move(datagram), from, server);
                                      } catch (const timeout_error&) {
                                          // The handler's own call ran out of time: it simply ends.
                                      }
                                  });
    }

    void receive_loop() {
        std::vector<char> buffer(options.max_datagram);
        for (;;) {
            // A plain server stops receiving while its handlers are all busy. A DTLS server must
            // go on receiving (handshakes, other sessions): its sessions wait for the places.
            if (pool* limit = lifecycle.limit(); limit != nullptr && !dtls) limit->wait_available();
            endpoint from;
            std::error_code ec;
            std::size_t n = socket.receive_from(buffer, from, forever, ec);
            if (ec == net_errc::socket_closed || ec == std::errc::bad_file_descriptor) return;
            if (ec) {
                // Too large (dropped by us), or an error the kernel reports on this socket
                // (an ICMP error from an earlier send): it concerns one datagram; report it and
                // go on, after a breath so that a persistent error cannot make a spin.
                if (ec == net_errc::message_too_long) count_drop();
                report_error("datagram_server on " + address.to_string(),
                             std::make_exception_ptr(
                                 std::system_error(ec, "cogent: receive_from " + from.to_string())));
                if (ec != net_errc::message_too_long) sleep(std::chrono::milliseconds(1));
                continue;
            }
            if (dtls) {
                dtls->on_datagram({buffer.data(), n}, from);
            } else {
                dispatch(std::string(buffer.data(), n), from);
            }
        }
    }

    void count_drop() {
        if (dtls) {
            dtls->count_drop();
        } else {
            ++dropped;
        }
    }
};

datagram_server::datagram_server(const endpoint& address, handler handle, datagram_options options)
    : state_(std::make_unique<state>(*this, options)) {
    if (!handle) throw std::invalid_argument("cogent: datagram_server needs a handler");
    if (!address.is_ip()) {
        throw std::invalid_argument("cogent: datagram_server needs an IP address, not '" +
                                    address.to_string() + "'");
    }
    if (options.max_datagram == 0)
        throw std::invalid_argument("cogent: datagram_options::max_datagram must be positive");
    state_->handle = std::move(handle);
    state_->socket = udp_socket::bind(address, options.udp);
    state_->address = state_->socket.local_endpoint();
}

datagram_server::datagram_server(const endpoint& address, tls_context dtls, handler handle,
                                 datagram_options options)
    : datagram_server(address, std::move(handle), options) {
    if (!dtls || !dtls.is_server() || !dtls.is_datagram()) {
        throw std::invalid_argument(
            "cogent: a DTLS datagram_server needs a DTLS server context (tls_context::dtls_server)");
    }
    if (options.max_sessions == 0)
        throw std::invalid_argument("cogent: datagram_options::max_sessions must be positive");
    // Smaller, and the clients' full-sized datagrams (certificate flights) would all be dropped.
    if (options.max_datagram < dtls.impl_->datagram_mtu) {
        throw std::invalid_argument(
            "cogent: a DTLS datagram_server needs max_datagram of at least the context's datagram_mtu");
    }
    state& s = *state_;
    s.dtls = std::make_unique<detail::dtls_sessions>(
        dtls.impl_, s.socket, s.options, "datagram_server on " + s.address.to_string(),
        [&s](std::string message, const endpoint& from) { s.dispatch(std::move(message), from); });
}

datagram_server::~datagram_server() {
    state_->lifecycle.stop_on_destruction([this] { stop(duration::zero()); });
}

void datagram_server::start() {
    state_->lifecycle.start("datagram_server " + state_->address.to_string(),
                            [s = state_.get()] { s->receive_loop(); });
}

bool datagram_server::serve_forever(duration timeout) {
    return state_->lifecycle.serve_forever(timeout, [this] { start(); });
}

std::size_t datagram_server::stop(duration grace) {
    state& s = *state_;
    // The socket closes last: handlers answering within the grace period still send from it, and
    // a DTLS server's sessions send their close_notify from it.
    return s.lifecycle.stop(
        grace, [] {},
        [&s] {
            if (s.dtls) s.dtls->end_all();
            s.socket.close();
        });
}

std::size_t datagram_server::send_to(std::string_view datagram, const endpoint& to, duration timeout,
                                     std::error_code& ec) {
    if (state_->dtls) return state_->dtls->send_to(datagram, to, timeout, ec);
    return state_->socket.send_to(datagram, to, timeout, ec);
}
std::size_t datagram_server::send_to(std::string_view datagram, const endpoint& to, duration timeout) {
    return detail::or_throw("send_to",
                            [&](std::error_code& ec) { return send_to(datagram, to, timeout, ec); });
}

endpoint datagram_server::local_endpoint() const {
    return state_->address;
}
std::size_t datagram_server::received_count() const noexcept {
    return state_->received;
}
std::size_t datagram_server::handler_count() const noexcept {
    return state_->lifecycle.members().size();
}
std::size_t datagram_server::dropped_count() const noexcept {
    return state_->dtls ? state_->dtls->dropped() : state_->dropped;
}
std::size_t datagram_server::sessions() const noexcept {
    return state_->dtls ? state_->dtls->size() : 0;
}

}  // namespace cogent
