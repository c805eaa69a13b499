// cogent::greenlet: a stackful coroutine you switch to explicitly, with all of Python greenlet's
// semantics.
//
//   cogent::greenlet consumer([](int n) { ... n = producer.switch_to<int>(); ... });
//   consumer.switch_to(1);        // the first switch calls the function with the arguments
//
// Every thread has an implicit main greenlet (its own stack). A greenlet's parent defaults to the
// greenlet that was current when it was made; when its function returns, the value goes to the
// parent's pending switch_to, and an uncaught exception is raised in the parent.
//
// A greenlet is a handle: copies refer to the same greenlet, which lives while any handle (or its
// children, or its own running code) refers to it. Destroying the last handle of a suspended
// greenlet kills it: greenlet_exit is raised at its suspension point, so its destructors run.
//
// Values cross a switch by move, with no allocation, in the sender's stack frame. The receiving
// side names the type it wants; a mismatch is a switch_type_error raised in the sender before
// anything switches. Asking for void takes (and drops) anything; asking for switch_value takes
// anything and keeps it.
//
// Greenlets belong to the thread that made them; switching to another thread's greenlet throws
// greenlet_error. When a thread ends (for the main thread: when main returns or exit() is
// called), every greenlet of that thread that is still suspended is killed, newest first, so the
// destructors on its stack run; greenlets that never started are marked dead without running.
// _exit(), quick_exit() and abort() skip this, as they skip every destructor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>

#include "cogent/detail/greenlet_core.hpp"
#include "cogent/detail/greenlet_impl.hpp"
#include "cogent/errors.hpp"
#include "cogent/switch_value.hpp"

namespace cogent {

struct greenlet_options {
    // Usable stack bytes, rounded up to whole pages; 0 picks default_stack_size().
    std::size_t stack_size = 0;
    // Shown in error reports, traces and dumps; by default "greenlet-<id>".
    std::string name;
};

// What a trace function is told about.
enum class trace_event {
    switched,  // control passed from origin to target (greenlet's 'switch')
    thrown,    // an exception is being raised in target by origin (greenlet's 'throw')
};

class greenlet {
public:
    // An empty handle, referring to no greenlet.
    greenlet() noexcept = default;

    // A new greenlet that will run `fn`, with the current greenlet as its parent. `fn` is any
    // callable with one non-template call operator; its parameters are what the first switch_to
    // must send, and its return value goes to the parent.
    template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, greenlet>>>
    explicit greenlet(F&& fn, greenlet_options options = {}) {
        using function = detail::greenlet_function<std::decay_t<F>>;
        detail::greenlet_options_view view{options.stack_size, &options.name};
        impl_ = new function(std::forward<F>(fn), current_impl(), view);
    }

    template <class F>
    greenlet(F&& fn, const greenlet& parent, greenlet_options options = {}) {
        using function = detail::greenlet_function<std::decay_t<F>>;
        check_new_parent(parent);
        detail::greenlet_options_view view{options.stack_size, &options.name};
        impl_ = new function(std::forward<F>(fn), parent.impl_, view);
    }

    greenlet(const greenlet& other) noexcept : impl_(other.impl_) {
        if (impl_ != nullptr) detail::retain(impl_);
    }
    greenlet(greenlet&& other) noexcept : impl_(std::exchange(other.impl_, nullptr)) {}
    greenlet& operator=(greenlet other) noexcept {
        std::swap(impl_, other.impl_);
        return *this;
    }
    ~greenlet() {
        if (impl_ != nullptr) detail::release(impl_);
    }

    // The greenlet running now; on a thread that has not used greenlets, its main greenlet.
    static greenlet current();

    // Suspends the current greenlet and runs this one, sending `args` (none, one, or several: the
    // receiver gets one value or a std::tuple). Returns when something switches back, with the
    // value sent as an R. A dead target passes the switch to its first live ancestor.
    template <class R = void, class... A>
    [[gnu::always_inline]] R switch_to(A&&... args) const {
        detail::greenlet_impl* target = checked();
        constexpr bool forwards_dynamic_type = (std::is_same_v<std::decay_t<A>, switch_value> || ...);
        if constexpr (!forwards_dynamic_type) {
            // Refuse a value the target cannot take before the arguments are moved from, so that
            // a refused std::move(x) leaves x as it was. (A dead target passes the switch to an
            // ancestor, and a greenlet switching to itself gets its value back, whatever it
            // expected: switch_core judges those.)
            const std::type_info& sent = detail::outgoing<std::decay_t<A>...>::static_type();
            if (target->expecting != nullptr && *target->expecting != sent &&
                target->state != detail::greenlet_state::dead) [[unlikely]] {
                if (detail::tls_switch == nullptr || target != detail::tls_switch->current) {
                    detail::refuse_switch(target, sent);
                }
            }
        }
        detail::outgoing<std::decay_t<A>...> value(std::forward<A>(args)...);
        detail::message out;
        out.value = value.describe();
        detail::message* in = detail::switch_fast<!forwards_dynamic_type>(target, out, value.type(),
                                                                           detail::expectation_of<R>());
        return detail::receive<R>(in);
    }

    // Raises `error` inside this greenlet at its suspension point and runs it. An unstarted
    // greenlet is marked dead without running its function and the error goes to its parent as
    // if it had raised it; for a dead one the error is raised in its first live ancestor.
    // Returns what is next switched to the current greenlet, as an R.
    template <class R = void>
    R throw_into(std::exception_ptr error) const {
        if (!error) throw greenlet_error("cogent::greenlet::throw_into: empty exception_ptr");
        detail::message out;
        out.error = &error;
        greenlet_exit exit_value;
        detail::message* in = detail::throw_core(checked(), out, detail::expectation_of<R>(), exit_value);
        return detail::receive<R>(in);
    }
    template <class R = void, class E, class = std::enable_if_t<!std::is_same_v<std::decay_t<E>, std::exception_ptr>>>
    R throw_into(E&& error) const {
        return throw_into<R>(std::make_exception_ptr(std::forward<E>(error)));
    }

    // Raises greenlet_exit inside this greenlet so that it unwinds and dies. As with any death,
    // control then goes to its parent. Killing an unstarted greenlet marks it dead; killing a
    // dead one does nothing; a greenlet killing itself unwinds at once.
    void kill() const;

    // Whether the function has been called; whether it has finished (or was killed unstarted).
    bool started() const;
    bool dead() const;
    // Started and not dead (Python's bool(g)).
    bool active() const { return started() && !dead(); }
    // Whether this is a thread's main greenlet.
    bool is_main() const;

    // The parent; an empty handle for a main greenlet.
    greenlet parent() const;
    // Changes the parent. Refuses an empty parent, a parent on another thread, a cycle, and any
    // change to a main greenlet.
    void set_parent(const greenlet& parent);

    std::string name() const;
    void set_name(std::string name);
    // A process-wide unique number, for logs.
    std::uint64_t id() const;
    // The usable stack bytes this greenlet has (or will have once started).
    std::size_t stack_size() const;

    explicit operator bool() const noexcept { return impl_ != nullptr; }
    friend bool operator==(const greenlet& a, const greenlet& b) noexcept { return a.impl_ == b.impl_; }

    // A trace function for the calling thread, told about every switch and throw (greenlet's
    // settrace). Returns the previous one. An exception escaping it is reported and dropped.
    using trace_function = std::function<void(trace_event, const greenlet& origin, const greenlet& target)>;
    static trace_function set_trace(trace_function trace);

    // The stack size a greenlet gets when its options do not say.
    static std::size_t default_stack_size() noexcept;

    // For the layers above: wraps an implementation pointer, taking a new reference.
    static greenlet from_impl(detail::greenlet_impl* impl) noexcept;
    detail::greenlet_impl* impl() const noexcept { return impl_; }

private:
    detail::greenlet_impl* checked() const {
        if (impl_ == nullptr) [[unlikely]] throw_empty();
        return impl_;
    }
    [[noreturn]] static void throw_empty();
    // The running greenlet of this thread, without taking a reference.
    static detail::greenlet_impl* current_impl();
    static void check_new_parent(const greenlet& parent);

    detail::greenlet_impl* impl_ = nullptr;
};

}  // namespace cogent
