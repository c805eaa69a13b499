// A value (or an exception) that will be delivered later: gevent.event.AsyncResult.
//
//   cogent::async_result<std::string> reply;
//   cogent::spawn([&] { reply.set(fetch()); });
//   std::string& text = reply.get(5s);     // waits; rethrows what set_exception() stored
//
// A single-thread, cooperative primitive built only on cogent::waiter and wait_list: no
// std::mutex, no std::condition_variable, no atomics. Use it from greenlets of one thread.
//
// Set once: a second set() or set_exception() throws std::logic_error and leaves the first
// outcome in place (gevent lets a result be set again; here that would silently drop a value a
// waiter may already hold a reference to). Setting wakes every waiter.
//
// Waiting hands nothing over, so a waiter that is killed or whose timeout scope expires leaves the
// result as it was. Destroying a result while greenlets wait on it makes their wait() return
// false and their get() throw std::logic_error; they do not touch it again.
#pragma once

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "cogent/time.hpp"
#include "cogent/waiter.hpp"

namespace cogent {
namespace detail {

// What does not depend on the value's type.
class async_result_base {
public:
    async_result_base(const async_result_base&) = delete;
    async_result_base& operator=(const async_result_base&) = delete;

    // Holds a value or an exception.
    bool ready() const noexcept { return ready_; }
    // Holds a value.
    bool successful() const noexcept { return ready_ && !error_; }
    // The exception stored by set_exception(); null if none (yet).
    std::exception_ptr exception() const noexcept { return error_; }

    // Stores `error` (which must not be null: std::invalid_argument) for get() to rethrow, and
    // wakes every waiter. Throws std::logic_error if the result was already set.
    void set_exception(std::exception_ptr error);

    // Waits up to `timeout` for the result; true once it is set, false if the time ran out or
    // the result was destroyed first. Returns at once, without yielding, if it is already set;
    // a zero or negative timeout never blocks.
    bool wait(duration timeout = forever);

protected:
    async_result_base() noexcept = default;
    ~async_result_base() = default;

    // Throws std::logic_error if a value or an exception is already stored.
    void check_unset() const;
    // Marks the result set and wakes every waiter.
    void finish() noexcept;
    // Returns once the result is set; throws timeout_error if `timeout` passes first, and
    // std::logic_error if the result is destroyed meanwhile.
    void wait_for_get(duration timeout);

    std::exception_ptr error_;

private:
    bool ready_ = false;
    wait_list waiting_;
    // Woken by finish() and not yet resumed. Keeping them listed lets get() tell, when it runs,
    // whether the result still exists (its destructor takes them off) before reading the value.
    wait_list woken_;
};

}  // namespace detail

template <class T>
class async_result : public detail::async_result_base {
public:
    using value_type = T;

    async_result() noexcept = default;

    // Stores the value and wakes every waiter. Throws std::logic_error if the result was already
    // set (the first outcome stays).
    template <class U = T>
        requires(!std::is_void_v<T> && std::is_constructible_v<T, U &&>)
    void set(U&& value) {
        check_unset();
        value_.emplace(std::forward<U>(value));
        finish();
    }
    void set()
        requires std::is_void_v<T>
    {
        check_unset();
        value_.emplace();
        finish();
    }

    // Waits up to `timeout` for the result and returns the value (a reference to the one stored
    // here), or rethrows the stored exception. Throws timeout_error if the time runs out first
    // (get(duration::zero()) never blocks: gevent's get_nowait), and std::logic_error if the
    // result is destroyed while the caller waits.
    std::add_lvalue_reference_t<T> get(duration timeout = forever) {
        wait_for_get(timeout);
        if (error_) std::rethrow_exception(error_);
        if constexpr (!std::is_void_v<T>) return *value_;
    }

private:
    std::optional<std::conditional_t<std::is_void_v<T>, std::monostate, T>> value_;
};

}  // namespace cogent
