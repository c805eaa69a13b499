// The hub: one per thread, a greenlet (whose parent is the thread's main greenlet) running the
// event loop that every blocking call in cogent parks on. It starts on first use; start_hub()
// chooses its options first.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string_view>

#include "cogent/time.hpp"

namespace cogent {

// The I/O multiplexers, all compiled in, chosen at run time.
enum class backend_kind {
    select,    // fds below FD_SETSIZE only; cost grows with the number of watched fds
    poll,      // any fd; cost grows with the number of watched fds
    epoll,     // level-triggered
    epoll_et,  // edge-triggered: a waiter must have read (or written) until EAGAIN before waiting
    io_uring,  // readiness through IORING_OP_POLL_ADD
};
const char* to_string(backend_kind kind) noexcept;
// "select", "poll", "epoll", "epoll_et", "io_uring"; nullopt for anything else.
std::optional<backend_kind> parse_backend(std::string_view name) noexcept;

struct hub_options {
    // Unset: COGENT_BACKEND if the environment names one, else epoll (which the kernel always
    // offers). Asking for a backend explicitly (here or in COGENT_BACKEND) makes its absence an
    // error instead of a fallback.
    std::optional<backend_kind> backend;
    // Report a greenlet that holds the hub longer than monitor_threshold without yielding. Unset:
    // on if COGENT_MONITOR=1 (COGENT_MONITOR_THRESHOLD_MS sets the threshold).
    std::optional<bool> monitor;
    duration monitor_threshold = std::chrono::milliseconds(100);
};

// Makes this thread's hub with these options. Throws std::logic_error if it already exists, and
// backend_error if the backend asked for is unavailable.
void start_hub(const hub_options& options = {});
// Whether this thread has a hub yet.
bool hub_started() noexcept;
// The backend of this thread's hub (starting it if need be).
backend_kind current_backend();

// A handle to a thread's hub through which any thread may hand it work.
class hub_handle {
public:
    hub_handle() = default;
    // Runs `job` in that hub's thread, inside its loop, soon. `job` must not block (spawn a task
    // from it for that). False if the hub is gone; the job is then dropped unrun.
    bool post(std::function<void()> job) const;
    explicit operator bool() const noexcept { return channel_ != nullptr; }

    struct channel;  // internal

private:
    friend hub_handle this_hub();
    std::shared_ptr<channel> channel_;
};
// This thread's hub (starting it if need be).
hub_handle this_hub();

// While one exists, the hub counts as having work out (as a pending thread-pool job does), so a
// greenlet waiting for a post() from elsewhere is not told it would block forever.
class keep_alive {
public:
    keep_alive();
    ~keep_alive();
    keep_alive(const keep_alive&) = delete;
    keep_alive& operator=(const keep_alive&) = delete;
};

// What is done with an exception nobody else will see: one that escaped a task, or a hub callback
// (gevent's handle_error). `where` names the task ("hub" for a callback). The default prints
// "cogent: task '<where>' failed with <type>: <message>" on stderr. Returns the previous handler.
using error_handler = std::function<void(std::string_view where, std::exception_ptr error)>;
error_handler set_error_handler(error_handler handler);
void report_error(std::string_view where, std::exception_ptr error) noexcept;

}  // namespace cogent
