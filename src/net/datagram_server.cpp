// The datagram server: a receiving greenlet, and a greenlet per datagram in a group (a pool when
// the number of handlers is limited).
#include "cogent/datagram_server.hpp"

#include <stdexcept>
#include <vector>

#include "cogent/errors.hpp"
#include "cogent/event.hpp"
#include "cogent/group.hpp"
#include "cogent/hub.hpp"
#include "cogent/pool.hpp"
#include "cogent/sleep.hpp"
#include "cogent/task.hpp"

namespace cogent {

struct datagram_server::state {
    handler handle;
    datagram_options options;
    udp_socket socket;
    endpoint address;
    std::unique_ptr<group> handlers;
    pool* limit = nullptr;
    basic_task receiver;
    event stopped;
    bool started = false;
    bool stopping = false;
    std::size_t received = 0;

    void receive_loop(datagram_server& server) {
        std::vector<char> buffer(options.max_datagram);
        for (;;) {
            if (limit != nullptr) limit->wait_available();
            endpoint from;
            std::error_code ec;
            std::size_t n = socket.receive_from(buffer, from, forever, ec);
            if (ec == net_errc::socket_closed || ec == std::errc::bad_file_descriptor) return;
            if (ec) {
                // Too large (dropped by us), or an error the kernel reports on this socket
                // (an ICMP error from an earlier send): it concerns one datagram; report it and
                // go on, after a breath so that a persistent error cannot make a spin.
                report_error("datagram_server on " + address.to_string(),
                             std::make_exception_ptr(std::system_error(ec, "cogent: receive_from " + from.to_string())));
                if (ec != net_errc::message_too_long) sleep(std::chrono::milliseconds(1));
                continue;
            }
            ++received;
            handlers->spawn(task_options{"datagram from " + from.to_string(), options.stack_size},
                            [this, &server, datagram = std::string(buffer.data(), n), from]() mutable {
                                try {
                                    handle(std::move(datagram), from, server);
                                } catch (const timeout_error&) {
                                    // The handler's own call ran out of time: it simply ends.
                                }
                            });
        }
    }
};

datagram_server::datagram_server(const endpoint& address, handler handle, datagram_options options)
    : state_(std::make_unique<state>()) {
    if (!handle) throw std::invalid_argument("cogent: datagram_server needs a handler");
    if (!address.is_ip()) {
        throw std::invalid_argument("cogent: datagram_server needs an IP address, not '" + address.to_string() + "'");
    }
    if (options.max_datagram == 0) throw std::invalid_argument("cogent: datagram_options::max_datagram must be positive");
    state_->handle = std::move(handle);
    state_->options = options;
    state_->socket = udp_socket::bind(address, options.udp);
    state_->address = state_->socket.local_endpoint();
    if (options.max_concurrent > 0) {
        auto limited = std::make_unique<pool>(options.max_concurrent);
        state_->limit = limited.get();
        state_->handlers = std::move(limited);
    } else {
        state_->handlers = std::make_unique<group>();
    }
}

datagram_server::~datagram_server() {
    if (state_ && state_->started) {
        try {
            stop(duration::zero());
        } catch (...) {
            report_error("datagram_server destructor", std::current_exception());
        }
    }
}

void datagram_server::start() {
    if (state_->stopping) throw std::logic_error("cogent: a stopped datagram_server cannot start again");
    if (state_->started) return;
    state_->started = true;
    state_->receiver = spawn(task_options{"datagram_server " + state_->address.to_string(), 0},
                             [s = state_.get(), this] { s->receive_loop(*this); });
}

bool datagram_server::serve_forever(duration timeout) {
    if (state_->stopping) return true;
    start();
    return state_->stopped.wait(timeout);
}

std::size_t datagram_server::stop(duration grace) {
    state& s = *state_;
    if (s.stopping) return 0;
    s.stopping = true;
    if (s.receiver) s.receiver.kill();
    std::size_t killed = 0;
    if (!s.handlers->join(grace)) {
        killed = s.handlers->size();
        s.handlers->kill();
    }
    // Closed last: handlers answering within the grace period still have the socket.
    s.socket.close();
    s.stopped.set();
    return killed;
}

std::size_t datagram_server::send_to(std::string_view datagram, const endpoint& to, duration timeout,
                                     std::error_code& ec) {
    return state_->socket.send_to(datagram, to, timeout, ec);
}
std::size_t datagram_server::send_to(std::string_view datagram, const endpoint& to, duration timeout) {
    return state_->socket.send_to(datagram, to, timeout);
}

endpoint datagram_server::local_endpoint() const { return state_->address; }
std::size_t datagram_server::received_count() const noexcept { return state_->received; }
std::size_t datagram_server::handler_count() const noexcept { return state_->handlers->size(); }

}  // namespace cogent
