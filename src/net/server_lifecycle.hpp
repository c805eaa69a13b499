// The lifecycle stream_server and datagram_server share (gevent's BaseServer): a serving loop in a
// greenlet of its own, members (connections, or handlers) in a group or, when limited, a pool;
// start() once, serve_forever() until stop(), stop() with a grace period for the members, and a
// destructor that stops what is still running. Not a public interface.
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "cogent/errors.hpp"
#include "cogent/event.hpp"
#include "cogent/group.hpp"
#include "cogent/hub.hpp"
#include "cogent/pool.hpp"
#include "cogent/task.hpp"

namespace cogent::detail {

class server_lifecycle {
public:
    // `kind` names the server in messages ("stream_server"); `limit` bounds the members running at
    // once (0: no limit).
    server_lifecycle(const char* kind, std::size_t limit) : kind_(kind) {
        if (limit > 0) {
            auto limited = std::make_unique<pool>(limit);
            limit_ = limited.get();
            members_ = std::move(limited);
        } else {
            members_ = std::make_unique<group>();
        }
    }
    server_lifecycle(const server_lifecycle&) = delete;
    server_lifecycle& operator=(const server_lifecycle&) = delete;

    group& members() noexcept { return *members_; }
    const group& members() const noexcept { return *members_; }
    // The members' pool when they are limited; nullptr otherwise.
    pool* limit() const noexcept { return limit_; }
    bool started() const noexcept { return started_; }
    bool stopping() const noexcept { return stopping_; }

    // Runs `loop` in a greenlet named `name`, the first time only; a stopped server cannot start
    // again (std::logic_error).
    template <class Loop>
    void start(const std::string& name, Loop&& loop) {
        if (stopping_)
            throw std::logic_error(std::string("cogent: a stopped ") + kind_ + " cannot start again");
        if (started_) return;
        started_ = true;
        loop_ = spawn(task_options{name, 0}, std::forward<Loop>(loop));
    }

    // Waits until stop() (true; at once if stopped already) or `timeout` (false).
    // `start_server` is the server's own start(), called first if the server is not stopped.
    template <class Start>
    bool serve_forever(duration timeout, Start&& start_server) {
        if (stopping_) return true;
        start_server();
        return stopped_.wait(timeout);
    }

    // Stops once: kills the loop (parked in accept or receive, or waiting for a place in the
    // pool: either way it is gone before what it reads from), runs `before_join` (closing a
    // listener), waits up to `grace` for the members and kills the rest, runs `after_join`
    // (closing what the members still used), and wakes serve_forever. Returns how many members it
    // killed; 0 when called again.
    template <class BeforeJoin, class AfterJoin>
    std::size_t stop(duration grace, BeforeJoin&& before_join, AfterJoin&& after_join) {
        if (stopping_) return 0;
        stopping_ = true;
        if (loop_) loop_.kill();
        before_join();
        std::size_t killed = 0;
        if (!members_->join(grace)) {
            killed = members_->size();
            members_->kill();
        }
        after_join();
        stopped_.set();
        return killed;
    }

    // For the server's destructor: `stop_server` (its stop(0)) if it ever started, with anything
    // it throws sent to the hub's error handler, since a destructor must not throw.
    template <class Stop>
    void stop_on_destruction(Stop&& stop_server) noexcept {
        if (!started_) return;
        try {
            stop_server();
        } catch (...) {
            report_error(std::string(kind_) + " destructor", std::current_exception());
        }
    }

private:
    const char* kind_;
    std::unique_ptr<group> members_;
    pool* limit_ = nullptr;
    basic_task loop_;
    event stopped_;
    bool started_ = false;
    bool stopping_ = false;
};

}  // namespace cogent::detail
