// Internals of the greenlet layer that the templates in greenlet.hpp need to see. Not a public
// interface: names and layout change without notice.
//
// How a value crosses a switch without allocating: the sender builds a `message` in its own stack
// frame that points at the value, also in that frame, and passes the message's address through the
// context jump. The sender stays suspended while the receiver moves the value out, so the frame
// is alive for exactly as long as it is needed. When the sender is a greenlet that has just
// finished, its stack is released only after the receiver has taken the value (finish_receive).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "cogent/errors.hpp"
#include "cogent/switch_value.hpp"

namespace cogent::detail {

struct greenlet_impl;
struct thread_state;

// Describes a value that lives in the sender's frame.
struct payload {
    const std::type_info* type = nullptr;  // nullptr: nothing was sent
    void* object = nullptr;                // the value
    void* holder = nullptr;                // what owns it: the value itself, or a switch_value
    void (*box)(void* holder, switch_value& into) = nullptr;  // moves it into a switch_value
    void (*destroy)(void* holder) noexcept = nullptr;         // ends the holder's lifetime
};

template <class T>
payload payload_of(T& object) noexcept {
    return payload{&typeid(T), &object, &object,
                   [](void* o, switch_value& into) { into.emplace<T>(std::move(*static_cast<T*>(o))); },
                   [](void* o) noexcept { static_cast<T*>(o)->~T(); }};
}

// A switch_value is sent as what it holds, so that a value received dynamically can be passed on
// and taken by its real type.
inline payload payload_of(switch_value& held) noexcept {
    auto destroy = [](void* h) noexcept { static_cast<switch_value*>(h)->~switch_value(); };
    if (held.empty()) return payload{nullptr, nullptr, &held, nullptr, destroy};
    return payload{&held.type(), held.data(), &held,
                   [](void* h, switch_value& into) { into = std::move(*static_cast<switch_value*>(h)); },
                   destroy};
}

// What travels through a context jump.
struct message {
    greenlet_impl* from = nullptr;
    payload value;
    std::exception_ptr* error = nullptr;  // when set, raised in the receiver instead of a value
    bool sender_finished = false;   // the sender died: the receiver releases its stack
};

// The type a suspended greenlet expects the next switch into it to carry. nullptr means it takes
// anything (it asked for void or switch_value).
template <class R>
const std::type_info* expectation_of() noexcept {
    if constexpr (std::is_void_v<R> || std::is_same_v<R, switch_value>) {
        return nullptr;
    } else {
        return &typeid(R);
    }
}

// The value a switch_to(args...) sends: nothing, the one value, or a tuple of several.
template <class... A>
struct outgoing;
template <>
struct outgoing<> {
    payload describe() noexcept { return {}; }
    static const std::type_info& static_type() noexcept { return typeid(void); }
    const std::type_info& type() const noexcept { return typeid(void); }
};
template <class A>
struct outgoing<A> {
    template <class U>
    explicit outgoing(U&& u) : value(std::forward<U>(u)) {}
    A value;
    payload describe() noexcept { return payload_of(value); }
    static const std::type_info& static_type() noexcept { return typeid(A); }
    const std::type_info& type() const noexcept {
        if constexpr (std::is_same_v<A, switch_value>) {
            return value.type();  // what it holds (typeid(void) when empty)
        } else {
            return typeid(A);
        }
    }
};
template <class A, class B, class... C>
struct outgoing<A, B, C...> {
    template <class... U>
    explicit outgoing(U&&... u) : value(std::forward<U>(u)...) {}
    std::tuple<A, B, C...> value;
    payload describe() noexcept { return payload_of(value); }
    static const std::type_info& static_type() noexcept { return typeid(std::tuple<A, B, C...>); }
    const std::type_info& type() const noexcept { return typeid(std::tuple<A, B, C...>); }
};

// Throws the switch_type_error (or, for another thread's greenlet, the greenlet_error) for a
// value that `target` cannot take.
[[noreturn]] void refuse_switch(const greenlet_impl* target, const std::type_info& sent);

// The core of every switch: hands `out` to `target` (or to its first live ancestor, starting it
// if it has not started) and suspends the current greenlet, recording that it expects `expect`
// next. Returns the message that resumed it. Implemented in greenlet.cpp.
message* switch_core(greenlet_impl* target, message& out, const std::type_info* expect);

// throw_into's core: raises out.error in target at its suspension point (see
// greenlet::throw_into). `exit_value` is storage, in the caller's frame, for the greenlet_exit
// that an unstarted target's parent receives as a value.
message* throw_core(greenlet_impl* target, message& out, const std::type_info* expect, greenlet_exit& exit_value);

}  // namespace cogent::detail
