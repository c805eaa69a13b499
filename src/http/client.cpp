// The per-thread multi handle and its driver greenlet (see client.hpp for the shape).
//
// Why an eventfd: the driver parks in cogent::poll, which only an fd can end early. A requester
// that adds a transfer makes curl ask for a timeout of 0 (it wants to be called at once to start
// connecting), and one that cancels may change the sockets to watch; if the driver is parked on
// an older wish at that moment, the requester writes to the eventfd, and the driver looks again.
// cogent::poll asks the kernel with a zero timeout before and after parking, so the driver sees
// every socket exactly as poll(2) would, on every backend: curl does not always read a socket
// until EAGAIN, which an edge-triggered wait alone would need.
//
// Sockets: curl closes its sockets itself. Every easy handle has a CURLOPT_CLOSESOCKETFUNCTION
// (request.cpp) that calls cogent::notify_close first, so the hub's backend forgets the fd (and
// the driver, if it is parked on it, is woken and does not touch it again) before the number can
// be reused.
#include "http/client.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "cogent/errors.hpp"
#include "cogent/hub.hpp"
#include "cogent/io_wait.hpp"
#include "cogent/sleep.hpp"
#include "cogent/task.hpp"

namespace cogent::http::detail {
namespace {

void initialise_curl() {
    static std::once_flag once;
    static CURLcode status = CURLE_OK;
    std::call_once(once, [] {
        status = ::curl_global_init(CURL_GLOBAL_DEFAULT);
        // Without an asynchronous resolver curl would call getaddrinfo inside the driver, and a
        // slow name server would stop the whole hub: say so, once.
        const curl_version_info_data* info = ::curl_version_info(CURLVERSION_NOW);
        if (status == CURLE_OK && (info->features & CURL_VERSION_ASYNCHDNS) == 0) {
            std::fprintf(stderr,
                         "cogent.http: libcurl %s resolves host names with a blocking getaddrinfo: "
                         "each lookup blocks the requesting thread's hub\n",
                         info->version);
        }
    });
    if (status != CURLE_OK) {
        throw std::runtime_error(std::string("cogent.http: curl_global_init failed: ") + ::curl_easy_strerror(status));
    }
}

template <class T>
void multi_option(CURLM* multi, CURLMoption option, T value) {
    if (CURLMcode rc = ::curl_multi_setopt(multi, option, value); rc != CURLM_OK) {
        throw std::runtime_error(std::string("cogent.http: curl_multi_setopt failed: ") + ::curl_multi_strerror(rc));
    }
}

}  // namespace

std::shared_ptr<client> client::for_this_thread() {
    // The hub first: thread-local objects are destroyed in the reverse order of their making, so
    // the hub then outlives this thread's client, whose end closes sockets through it.
    (void)cogent::current_backend();
    thread_local std::shared_ptr<client> mine;
    if (!mine) mine = std::make_shared<client>();
    return mine;
}

client::client() {
    initialise_curl();
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) throw std::system_error(errno, std::generic_category(), "cogent.http: eventfd");
    multi_ = ::curl_multi_init();
    if (multi_ == nullptr) {
        ::close(wake_fd_);
        throw std::runtime_error("cogent.http: curl_multi_init failed");
    }
    try {
        multi_option(multi_, CURLMOPT_SOCKETFUNCTION, &client::on_socket);
        multi_option(multi_, CURLMOPT_SOCKETDATA, static_cast<void*>(this));
        multi_option(multi_, CURLMOPT_TIMERFUNCTION, &client::on_timer);
        multi_option(multi_, CURLMOPT_TIMERDATA, static_cast<void*>(this));
    } catch (...) {
        ::curl_multi_cleanup(multi_);
        ::close(wake_fd_);
        throw;
    }
}

client::~client() {
    // Every transfer has left (each request holds a reference); what remains are idle cached
    // connections, which curl closes here through our close-socket callback.
    ::curl_multi_cleanup(multi_);
    cogent::notify_close(wake_fd_);
    ::close(wake_fd_);
}

int client::on_socket(CURL* /*easy*/, curl_socket_t fd, int what, void* self, void* /*socket_data*/) {
    auto* c = static_cast<client*>(self);
    if (what == CURL_POLL_REMOVE) {
        c->sockets_.erase(fd);
    } else {
        short events = 0;
        if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) events |= POLLIN;
        if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) events |= POLLOUT;
        try {
            c->sockets_[fd] = events;
        } catch (...) {
            return -1;  // out of memory: curl fails the transfer rather than leave it unwatched
        }
    }
    // Called from the driver itself (inside curl_multi_socket_action) it looks again anyway;
    // from a requester, a parked driver must be told.
    if (c->driver_parked_) c->wake_driver();
    return 0;
}

int client::on_timer(CURLM* /*multi*/, long timeout_ms, void* self) {
    auto* c = static_cast<client*>(self);
    if (timeout_ms < 0) {
        c->timer_ = clock::time_point::max();
    } else {
        c->timer_ = clock::now() + std::chrono::milliseconds(timeout_ms);
        if (c->driver_parked_ && c->timer_ < c->driver_wakes_at_) c->wake_driver();
    }
    return 0;
}

void client::wake_driver() noexcept {
    if (wake_pending_) return;
    const std::uint64_t one = 1;
    // It cannot fail short of a counter at its maximum, which a pending wake never lets happen.
    if (::write(wake_fd_, &one, sizeof one) == static_cast<ssize_t>(sizeof one)) wake_pending_ = true;
}

void client::start(transfer& t) {
    ::curl_easy_setopt(t.easy, CURLOPT_PRIVATE, static_cast<void*>(&t));
    if (CURLMcode rc = ::curl_multi_add_handle(multi_, t.easy); rc != CURLM_OK) {
        throw std::runtime_error(std::string("cogent.http: curl_multi_add_handle failed: ") + ::curl_multi_strerror(rc));
    }
    t.in_multi = true;
    t.next = first_;
    if (first_ != nullptr) first_->prev = &t;
    first_ = &t;
    ++active_;
    ensure_driver();
}

void client::unlink(transfer& t) noexcept {
    if (t.prev != nullptr) t.prev->next = t.next;
    else first_ = t.next;
    if (t.next != nullptr) t.next->prev = t.prev;
    t.prev = t.next = nullptr;
    t.in_multi = false;
    --active_;
}

void client::cancel(transfer& t) noexcept {
    if (!t.in_multi) return;
    // Removing an unfinished transfer makes curl close its connection (through notify_close),
    // so the server sees it go at once and nothing of it is left for a later request.
    ::curl_multi_remove_handle(multi_, t.easy);
    unlink(t);
    if (driver_parked_) wake_driver();
}

void client::finish(transfer& t, CURLcode result) noexcept {
    // Removing a finished transfer returns its connection to the multi's cache for reuse.
    ::curl_multi_remove_handle(multi_, t.easy);
    unlink(t);
    t.done = true;
    t.result = result;
    if (t.requester != nullptr) t.requester->wake();
}

void client::fail_all(std::exception_ptr error) noexcept {
    while (first_ != nullptr) {
        transfer& t = *first_;
        ::curl_multi_remove_handle(multi_, t.easy);
        unlink(t);
        t.failure = error;
        if (t.requester != nullptr) t.requester->wake();
    }
}

void client::ensure_driver() {
    if (driver_running_) return;
    // The task keeps the client alive while it runs; the reference moves into its frame so that
    // it is dropped when the driver returns, not whenever the task's state is freed.
    cogent::spawn(task_options{"http driver", driver_stack_size}, [self = shared_from_this()]() mutable {
        std::shared_ptr<client> me = std::move(self);
        me->drive();
    });
    driver_running_ = true;
}

void client::process(curl_socket_t fd, int events) {
    int running = 0;
    ::curl_multi_socket_action(multi_, fd, events, &running);
}

void client::collect_done() {
    int left = 0;
    while (CURLMsg* message = ::curl_multi_info_read(multi_, &left)) {
        if (message->msg != CURLMSG_DONE) continue;
        void* owner = nullptr;
        ::curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &owner);
        // The message points into curl's memory, which removing the handle frees: read it first.
        const CURLcode result = message->data.result;
        finish(*static_cast<transfer*>(owner), result);
    }
}

void client::drive() {
    struct running_flag {
        client* c;
        ~running_flag() {
            c->driver_running_ = false;
            c->driver_parked_ = false;
        }
    } flag{this};
    std::vector<pollfd> fds;
    try {
        while (active_ > 0) {
            fds.clear();
            fds.push_back(pollfd{wake_fd_, POLLIN, 0});
            for (const auto& [fd, events] : sockets_) fds.push_back(pollfd{fd, events, 0});
            duration wait = forever;
            if (timer_ != clock::time_point::max()) {
                wait = std::max(duration::zero(), std::chrono::duration_cast<duration>(timer_ - clock::now()));
            }
            driver_parked_ = true;
            driver_wakes_at_ = timer_;
            cogent::poll(fds.data(), fds.size(), wait);
            driver_parked_ = false;

            if (fds[0].revents != 0) {
                std::uint64_t count;
                while (::read(wake_fd_, &count, sizeof count) > 0) {
                }
                wake_pending_ = false;
            }
            for (std::size_t i = 1; i < fds.size(); ++i) {
                const short ready = fds[i].revents;
                // POLLNVAL: curl closed the socket meanwhile (a cancelled transfer's), and its
                // number may already be someone else's.
                if (ready == 0 || (ready & POLLNVAL) != 0) continue;
                int events = 0;
                if (ready & (POLLIN | POLLPRI | POLLHUP | POLLERR)) events |= CURL_CSELECT_IN;
                if (ready & (POLLOUT | POLLHUP | POLLERR)) events |= CURL_CSELECT_OUT;
                if (ready & POLLERR) events |= CURL_CSELECT_ERR;
                process(fds[i].fd, events);
            }
            if (timer_ != clock::time_point::max() && clock::now() >= timer_) {
                timer_ = clock::time_point::max();  // curl sets the next one from inside the call
                process(CURL_SOCKET_TIMEOUT, 0);
            }
            collect_done();
            // A stream of data always ready would otherwise keep the hub from everyone else.
            cogent::yield();
        }
    } catch (const greenlet_exit&) {
        // Killed: only the thread's end does that (nobody else has this task's handle). Its
        // requesters are being killed too; telling them keeps the rule that none waits forever.
        fail_all(std::make_exception_ptr(
            std::runtime_error("cogent.http: this thread's HTTP driver was killed (is the thread ending?)")));
        throw;
    } catch (...) {
        // The driver cannot go on (the backend cannot watch one of curl's sockets, say): every
        // request fails with the reason, and the next request starts a new driver.
        fail_all(std::current_exception());
    }
}

}  // namespace cogent::http::detail
