// This thread's HTTP client: one libcurl multi handle, driven by a greenlet of the hub.
//
// libcurl's multi_socket interface tells us, through two callbacks, which sockets it wants
// watched (and for what) and when it next wants to be called for a timeout; we call
// curl_multi_socket_action when a socket is ready or the time comes. A driver greenlet does
// that while transfers are active: it parks in cogent::poll over curl's sockets (plus an eventfd
// the requesting greenlets write to when they change what the driver must wait for), so every
// curl callback (the TLS handshake, the body arriving) runs on the driver's stack, and each
// requesting greenlet parks on a waiter of its own until its transfer is done.
//
// One multi per thread, made on first use, so that connections (and curl's DNS cache) are
// shared by every request of the thread: a second request to a host reuses the idle keep-alive
// connection the first left behind. The client is reference-counted by this thread (until it
// ends), by the driver while it runs, and by each request in flight, so it outlives them all
// whichever way the thread ends.
#pragma once

#include <curl/curl.h>

#include <cstddef>
#include <exception>
#include <map>
#include <memory>

#include "cogent/http.hpp"
#include "cogent/time.hpp"
#include "cogent/waiter.hpp"

namespace cogent::http::detail {

// One request in flight. It lives in the requesting greenlet's frame; the driver's callbacks
// reach it through the easy handle's CURLOPT_PRIVATE, and only while it is in the multi.
struct transfer {
    CURL* easy = nullptr;
    waiter* requester = nullptr;   // woken when done or failed
    bool in_multi = false;
    bool done = false;
    CURLcode result = CURLE_OK;
    std::exception_ptr failure;    // the driver itself failed (a backend error, say)
    transfer* prev = nullptr;      // the client's list of active transfers
    transfer* next = nullptr;
};

class client : public std::enable_shared_from_this<client> {
public:
    // This thread's client, made on first use (after the hub, so that the hub outlives it).
    static std::shared_ptr<client> for_this_thread();

    client();
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    // Adds `t`, whose easy handle is ready to go, and makes sure the driver runs.
    void start(transfer& t);
    // Takes `t` out of the multi if it is still in (the requester was killed or timed out):
    // its connection is closed, as it is in an unknown state. Does nothing once it is done.
    void cancel(transfer& t) noexcept;

    client_stats& stats() noexcept { return stats_; }

private:
    static int on_socket(CURL* easy, curl_socket_t fd, int what, void* self, void* socket_data);
    static int on_timer(CURLM* multi, long timeout_ms, void* self);

    void ensure_driver();
    void drive();
    void process(curl_socket_t fd, int events);
    void collect_done();
    void finish(transfer& t, CURLcode result) noexcept;
    void fail_all(std::exception_ptr error) noexcept;
    void unlink(transfer& t) noexcept;
    // The driver is parked on what it computed before curl's wishes changed: wake it to look again.
    void wake_driver() noexcept;

    CURLM* multi_ = nullptr;
    int wake_fd_ = -1;
    std::map<curl_socket_t, short> sockets_;  // what curl wants watched: POLLIN / POLLOUT
    clock::time_point timer_ = clock::time_point::max();  // when curl wants CURL_SOCKET_TIMEOUT
    transfer* first_ = nullptr;
    std::size_t active_ = 0;
    bool driver_running_ = false;
    bool driver_parked_ = false;
    clock::time_point driver_wakes_at_ = clock::time_point::max();
    bool wake_pending_ = false;
    client_stats stats_;
};

// The stack of the driver greenlet, on which curl's callbacks and OpenSSL's handshakes run.
// Measured (the resident pages of its stack, after the tests): about 9 KiB at most, for TLS
// handshakes with P-256 certificates. We give it far more, because it costs only address space
// (the pages are touched as used), and other paths are deeper: RSA-4096 chains, HTTP/2,
// content decoders, and the sanitizers' larger frames. There is one driver per thread.
inline constexpr std::size_t driver_stack_size = 256 * 1024;

}  // namespace cogent::http::detail
