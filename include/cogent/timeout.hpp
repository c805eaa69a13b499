// Timeouts around any code: gevent's Timeout and with_timeout.
//
//   {
//       cogent::timeout limit(2s);
//       auto reply = read_reply();      // throws timeout_error if 2 s pass first
//   }
//
// When the deadline passes, timeout_error (whose source() is the scope) is raised in the greenlet
// that made the scope, at its next blocking point: a running greenlet is never interrupted.
// Scopes nest; each raises its own error, and a scope that ends first is simply cancelled.
#pragma once

#include <exception>
#include <type_traits>
#include <utility>

#include "cogent/detail/hub_core.hpp"
#include "cogent/errors.hpp"
#include "cogent/time.hpp"

namespace cogent {

class timeout {
public:
    // `limit` forever makes a scope that never expires.
    explicit timeout(duration limit);
    ~timeout();
    timeout(const timeout&) = delete;
    timeout& operator=(const timeout&) = delete;

    // Stops the clock; the scope will not raise. Its error is withdrawn if raised but not yet
    // delivered, unless its greenlet has already been woken to raise it (when cancelled from
    // another greenlet: in gevent the error would have been thrown already).
    void cancel() noexcept;
    bool expired() const noexcept { return expired_; }
    bool raised(const timeout_error& e) const noexcept { return e.source() == this; }

    // The silent variant (gevent's Timeout(d, False)): runs `fn` under a scope of `limit`;
    // false if the scope expired (its error is swallowed; any other propagates).
    template <class F>
    static bool run_silently(duration limit, F&& fn) {
        timeout scope(limit);
        try {
            std::forward<F>(fn)();
            return true;
        } catch (const timeout_error& e) {
            if (!scope.raised(e)) throw;
            return false;
        }
    }

private:
    static void on_expiry(detail::timer_node* timer) noexcept;

    detail::timer_node timer_;
    detail::deferred_error later_;  // its error, while another is pending in its greenlet
    detail::hub_core* hub_ = nullptr;
    detail::greenlet_impl* greenlet_ = nullptr;
    std::exception_ptr error_;
    duration limit_;
    bool expired_ = false;
};

// fn() under a timeout of `limit`: its value, or `fallback` if the limit passed first.
template <class F, class T>
auto with_timeout(duration limit, F&& fn, T&& fallback) -> std::invoke_result_t<F> {
    timeout scope(limit);
    try {
        return std::forward<F>(fn)();
    } catch (const timeout_error& e) {
        if (!scope.raised(e)) throw;
        return std::forward<T>(fallback);
    }
}

// fn() under a timeout of `limit`; timeout_error propagates if the limit passes first.
template <class F>
decltype(auto) with_timeout(duration limit, F&& fn) {
    timeout scope(limit);
    return std::forward<F>(fn)();
}

}  // namespace cogent
