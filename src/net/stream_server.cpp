// The stream server: an accepting greenlet, and a greenlet per connection in a group (a pool when
// the number of connections is limited).
#include "cogent/stream_server.hpp"

#include <cerrno>
#include <cstdio>
#include <optional>
#include <stdexcept>

#include "cogent/errors.hpp"
#include "cogent/hub.hpp"
#include "cogent/sleep.hpp"
#include "cogent/tcp.hpp"
#include "cogent/unix.hpp"
#include "net/server_lifecycle.hpp"

namespace cogent {
namespace {

// Errors that mean the process or the system ran out of something, which passes: back off.
bool is_exhaustion(const std::error_code& ec) {
    return ec == std::errc::too_many_files_open || ec == std::errc::too_many_files_open_in_system ||
           ec == std::errc::no_buffer_space || ec == std::errc::not_enough_memory;
}

// The ordinary ways for a connection to end from the other side (or by stop()).
bool is_connection_end(const std::error_code& ec) {
    return ec == std::errc::connection_reset || ec == std::errc::broken_pipe || ec == net_errc::end_of_stream ||
           ec == net_errc::socket_closed || ec == std::errc::timed_out || ec == tls_errc::unexpected_eof;
}

}  // namespace

struct stream_server::state {
    handler handle;
    tls_handler handle_tls;
    std::optional<tls_context> tls;
    server_options options;
    endpoint address;  // as bound (the port filled in)
    std::optional<tcp_listener> tcp;
    std::optional<unix_listener> unix;
    detail::server_lifecycle lifecycle;  // the acceptor, and the connections' group (or pool)
    std::size_t accepted = 0;

    explicit state(std::size_t max_connections) : lifecycle("stream_server", max_connections) {}

    // Accepts one connection and starts its greenlet; false once the listener is closed.
    template <class Listener>
    bool accept_one(Listener& listener, duration& backoff) {
        endpoint peer;
        std::error_code ec;
        auto stream = listener.accept(peer, forever, ec);
        if (ec) return survive(ec, backoff);
        if (backoff != duration::zero()) {
            std::fprintf(stderr, "cogent: stream_server on %s: accepting again\n", address.to_string().c_str());
            backoff = duration::zero();
        }
        ++accepted;
        task_options task{"connection " + peer.to_string(), options.stack_size};
        lifecycle.members().spawn(task, [this, s = std::move(stream), peer]() mutable { serve(s, peer); });
        return true;
    }

    bool survive(const std::error_code& ec, duration& backoff) {
        if (ec == net_errc::socket_closed || ec == std::errc::bad_file_descriptor) return false;
        if (is_exhaustion(ec)) {
            if (backoff == duration::zero()) {
                std::fprintf(stderr, "cogent: stream_server on %s: accept failed: %s; retrying with back-off\n",
                             address.to_string().c_str(), ec.message().c_str());
                backoff = std::chrono::milliseconds(10);
            } else {
                backoff = std::min<duration>(backoff * 2, std::chrono::seconds(1));
            }
            sleep(backoff);
            return true;
        }
        // Anything else (a protocol error on one connection, a firewall's EPERM) concerns that
        // connection only: report it and go on, after a breath so that a persistent error cannot
        // make a spin.
        report_error("stream_server accept on " + address.to_string(),
                     std::make_exception_ptr(std::system_error(ec, "cogent: accept")));
        sleep(std::chrono::milliseconds(1));
        return true;
    }

    void serve(stream_socket& stream, const endpoint& peer) {
        if (options.nodelay && tcp) {
            try {
                static_cast<tcp_stream&>(stream).set_nodelay(true);
            } catch (const std::system_error&) {
                // The peer may be gone already; the handler will find out on its first call.
            }
        }
        try {
            if (tls) {
                serve_tls(stream, peer);
            } else {
                handle(stream, peer);
            }
        } catch (const std::system_error& e) {
            if (!is_connection_end(e.code())) throw;
        } catch (const timeout_error&) {
            // A read or write that ran out of its time (an idle client): the connection ends.
        }
    }

    void serve_tls(stream_socket& transport, const endpoint& peer) {
        std::error_code ec;
        tls_stream stream = tls_stream::accept(std::move(transport), *tls, options.handshake_timeout, ec);
        if (ec) {
            if (is_connection_end(ec)) return;
            throw std::system_error(ec, "cogent: TLS handshake with " + peer.to_string());
        }
        handle_tls(stream, peer);
        // A clean end for the client: close_notify, and the client's if it answers in time.
        stream.shutdown(options.handshake_timeout, ec);
    }

    void accept_loop() {
        duration backoff = duration::zero();
        for (;;) {
            if (pool* limit = lifecycle.limit()) limit->wait_available();
            bool open = tcp ? accept_one(*tcp, backoff) : accept_one(*unix, backoff);
            if (!open) return;
        }
    }
};

stream_server::stream_server(const endpoint& address, handler handle, server_options options)
    : state_(std::make_unique<state>(options.max_connections)) {
    if (!handle) throw std::invalid_argument("cogent: stream_server needs a handler");
    state_->handle = std::move(handle);
    state_->options = options;
    if (address.is_ip()) {
        state_->tcp = tcp_listener::bind(address, options.listen);
        state_->address = state_->tcp->local_endpoint();
    } else if (address.family() == AF_UNIX) {
        state_->unix = unix_listener::bind(address, options.listen);
        state_->address = address;
    } else {
        throw std::invalid_argument("cogent: stream_server needs an IP or Unix-domain address, not '" +
                                    address.to_string() + "'");
    }
}

stream_server::stream_server(const endpoint& address, tls_context tls, tls_handler handle, server_options options)
    : stream_server(address, [](stream_socket&, const endpoint&) {}, options) {
    if (!handle) throw std::invalid_argument("cogent: stream_server needs a handler");
    if (!tls || !tls.is_server() || tls.is_datagram()) {
        throw std::invalid_argument("cogent: a TLS stream_server needs a TLS server context (tls_context::server)");
    }
    state_->tls = std::move(tls);
    state_->handle_tls = std::move(handle);
}

stream_server::~stream_server() {
    state_->lifecycle.stop_on_destruction([this] { stop(duration::zero()); });
}

void stream_server::start() {
    state_->lifecycle.start("stream_server " + state_->address.to_string(),
                            [s = state_.get()] { s->accept_loop(); });
}

bool stream_server::serve_forever(duration timeout) {
    return state_->lifecycle.serve_forever(timeout, [this] { start(); });
}

std::size_t stream_server::stop(duration grace) {
    state& s = *state_;
    // The listener closes once the acceptor is gone; the connections keep their own sockets.
    return s.lifecycle.stop(
        grace,
        [&s] {
            if (s.tcp) s.tcp->close();
            if (s.unix) s.unix->close();
        },
        [] {});
}

endpoint stream_server::local_endpoint() const { return state_->address; }
bool stream_server::started() const noexcept { return state_->lifecycle.started(); }
bool stream_server::stopped() const noexcept { return state_->lifecycle.stopping(); }
std::size_t stream_server::connection_count() const noexcept { return state_->lifecycle.members().size(); }
std::size_t stream_server::accepted_count() const noexcept { return state_->accepted; }

}  // namespace cogent
