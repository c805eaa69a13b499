// One c-ares lookup, driven by the greenlet that asked for it.
//
// Each lookup has a channel of its own, so that nothing is shared between greenlets (or
// threads): no greenlet ever has to process another's sockets, a kill or a timeout simply
// destroys the one channel, and the channel's sockets are only ever touched from inside calls
// this greenlet makes. The greenlet runs c-ares' event loop itself: it asks c-ares which sockets
// it wants watched and how long until its next retransmission, parks in cogent::poll (so the hub
// serves everyone else meanwhile), and hands back whatever became ready.
//
// The hub's backends remember the fds they watch (epoll's lazy registrations, io_uring's pending
// polls), so every fd must be announced with notify_close before it is closed. c-ares closes its
// sockets itself; we learn of it from the socket-state callback, which c-ares calls with
// readable = writable = 0 just before it closes a socket it has announced (every c-ares release,
// 1.18.1 included, does so in its one function that closes server sockets). We prefer that to
// ares_set_socket_functions: in 1.18.1 replacing close means replacing socket, connect, recvfrom
// and writev as well (it calls each pointer without checking it), and it turns off c-ares'
// TCP_NODELAY. The sockets c-ares opens and closes without announcing them (the probes of its
// address sorting, sockets that failed to configure) never reach the hub, so they need nothing.
// A (0, 0) report always comes from inside an ares_* call made by this greenlet, never while it
// is parked in cogent::poll (whose interests are withdrawn before it returns), so notify_close
// wakes nobody: it only makes the backend forget the fd.
#include "net/resolve_ares.hpp"

#include <ares.h>
#include <poll.h>
#include <sys/time.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <stdexcept>

#include "cogent/io_wait.hpp"

namespace cogent::detail {
namespace {

int initialise_library() noexcept {
    static std::once_flag once;
    static int status = ARES_SUCCESS;
    std::call_once(once, [] { status = ::ares_library_init(ARES_LIB_INIT_ALL); });
    return status;
}

// What c-ares' callback reports. It lives in the asking greenlet's frame and is written from
// inside ares_* calls that greenlet makes, so the channel (whose destruction calls the callback
// with ARES_EDESTRUCTION if the lookup is still pending) must be destroyed before it.
struct lookup_state {
    bool done = false;
    int status = ARES_SUCCESS;
    ares_addrinfo* result = nullptr;

    lookup_state() = default;
    ~lookup_state() {
        if (result != nullptr) ::ares_freeaddrinfo(result);
    }
    lookup_state(const lookup_state&) = delete;
    lookup_state& operator=(const lookup_state&) = delete;
};

// c-ares calls this exactly once per ares_getaddrinfo; it only records (no allocation, nothing
// that could throw into C code), and the result is converted once the loop is over.
void on_result(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) {
    auto* state = static_cast<lookup_state*>(arg);
    if (state->done) {
        if (result != nullptr) ::ares_freeaddrinfo(result);
        return;
    }
    state->done = true;
    state->status = status;
    state->result = result;
}

void on_socket_state(void* /*data*/, ares_socket_t fd, int readable, int writable) {
    if (readable == 0 && writable == 0) cogent::notify_close(fd);
}

// A channel for one lookup: its own name servers, hosts-file policy and retry settings.
class channel {
public:
    channel(const resolve_options& options, const resolver_retries& retries) {
        status_ = initialise_library();
        if (status_ != ARES_SUCCESS) return;
        char hosts_then_dns[] = "fb";
        char dns_only[] = "b";
        ares_options opts{};
        opts.timeout = retries.first_timeout_ms;
        opts.tries = retries.tries;
        opts.lookups = options.use_hosts_file ? hosts_then_dns : dns_only;  // c-ares copies it
        opts.sock_state_cb = on_socket_state;
        opts.sock_state_cb_data = nullptr;
        const int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS | ARES_OPT_SOCK_STATE_CB;
        status_ = ::ares_init_options(&handle_, &opts, mask);
        if (status_ != ARES_SUCCESS) {
            handle_ = nullptr;  // a failed init leaves nothing to destroy
            return;
        }
        if (!options.name_servers.empty()) {
            const int set = ::ares_set_servers_ports_csv(handle_, options.name_servers.c_str());
            if (set != ARES_SUCCESS) {
                ::ares_destroy(handle_);
                handle_ = nullptr;
                throw std::invalid_argument(
                    "cogent: resolve_options::name_servers '" + options.name_servers +
                    "' is not a list of ip[:port] entries separated by commas (c-ares: " +
                    ::ares_strerror(set) + ")");
            }
        }
    }
    ~channel() {
        if (handle_ != nullptr) ::ares_destroy(handle_);
    }
    channel(const channel&) = delete;
    channel& operator=(const channel&) = delete;

    ares_channel get() const noexcept { return handle_; }
    int status() const noexcept { return status_; }

private:
    ares_channel handle_ = nullptr;
    int status_ = ARES_SUCCESS;
};

duration to_duration(const timeval& tv) {
    return std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
}

void collect(const ares_addrinfo* result, std::vector<endpoint>& out) {
    if (result == nullptr) return;
    for (const ares_addrinfo_node* node = result->nodes; node != nullptr; node = node->ai_next) {
        if (node->ai_addr == nullptr || (node->ai_family != AF_INET && node->ai_family != AF_INET6)) continue;
        endpoint e(node->ai_addr, static_cast<socklen_t>(node->ai_addrlen));
        e.set_port(0);
        if (std::find(out.begin(), out.end(), e) == out.end()) out.push_back(e);
    }
}

}  // namespace

ares_outcome ares_lookup(const std::string& host, const resolve_options& options,
                         const resolver_retries& retries, clock::time_point deadline) {
    ares_outcome outcome;
    lookup_state state;  // before the channel: it must outlive it
    channel ch(options, retries);
    if (ch.status() != ARES_SUCCESS) {
        outcome.status = ch.status();
        return outcome;
    }

    ares_addrinfo_hints hints{};
    hints.ai_family = options.family;
    hints.ai_socktype = options.socktype;
    // No service: resolve.cpp has already turned it into a port, the same way for numeric hosts
    // (which never reach c-ares) as for names.
    ::ares_getaddrinfo(ch.get(), host.c_str(), nullptr, &hints, on_result, &state);

    while (!state.done) {
        const clock::time_point now = clock::now();
        if (now >= deadline) {
            outcome.deadline_passed = true;
            break;
        }
        // At most 16 sockets are reported. A channel keeps one UDP socket (and at most one TCP
        // one) per name server it has asked, so only a list of more than 8 servers could have
        // more; an answer on one left out would be missed, and c-ares would move on at its
        // timeout as if that server were silent.
        ares_socket_t sockets[ARES_GETSOCK_MAXNUM];
        const int bits = ::ares_getsock(ch.get(), sockets, ARES_GETSOCK_MAXNUM);
        pollfd fds[ARES_GETSOCK_MAXNUM];
        std::size_t count = 0;
        for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
            const bool readable = ARES_GETSOCK_READABLE(bits, i) != 0;
            const bool writable = ARES_GETSOCK_WRITABLE(bits, i) != 0;
            if (!readable && !writable) continue;
            fds[count++] =
                pollfd{sockets[i], static_cast<short>((readable ? POLLIN : 0) | (writable ? POLLOUT : 0)), 0};
        }
        timeval tv{};
        const timeval* next = ::ares_timeout(ch.get(), nullptr, &tv);
        if (count == 0 && next == nullptr) {
            // c-ares has no query left to wait for, yet has not called back: it never should, but
            // cancelling makes it call back (ARES_ECANCELLED) rather than leaving us parked forever.
            ::ares_cancel(ch.get());
            continue;
        }
        duration wait = deadline == clock::time_point::max() ? forever : deadline - now;
        if (next != nullptr) wait = std::min(wait, to_duration(*next));

        if (cogent::poll(fds, count, wait) == 0) {
            // c-ares' own timeout (it retransmits or moves to the next server) or ours (checked
            // at the top, after c-ares has had its chance to finish).
            ::ares_process_fd(ch.get(), ARES_SOCKET_BAD, ARES_SOCKET_BAD);
            continue;
        }
        for (std::size_t i = 0; i < count && !state.done; ++i) {
            const short ready = fds[i].revents;
            if (ready == 0) continue;
            const bool read = (ready & (POLLIN | POLLPRI | POLLERR | POLLHUP | POLLNVAL)) != 0;
            const bool write = (ready & (POLLOUT | POLLERR | POLLHUP)) != 0;
            // Processing one socket may make c-ares close another listed here, whose number may
            // then be reused (by this channel or another thread): c-ares ignores an fd that is
            // not one of its sockets, and a new socket of its own just has nothing to read yet.
            ::ares_process_fd(ch.get(), read ? fds[i].fd : ARES_SOCKET_BAD,
                              write ? fds[i].fd : ARES_SOCKET_BAD);
        }
    }

    if (state.done) {
        outcome.status = state.status;
        if (state.status == ARES_SUCCESS) collect(state.result, outcome.addresses);
    }
    return outcome;
}

}  // namespace cogent::detail
