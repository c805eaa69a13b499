// The state behind a greenlet handle. Not a public interface.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "cogent/detail/config.hpp"
#include "cogent/detail/context_jump.hpp"
#include "cogent/detail/greenlet_core.hpp"

namespace cogent::detail {

enum class greenlet_state : std::uint8_t { unstarted, started, dead };

// The C++ runtime's per-thread exception state (__cxa_eh_globals in the Itanium ABI): the stack
// of caught exceptions and the count of uncaught ones. Saved per greenlet, so an exception being
// handled in one greenlet is not seen, or clobbered, by another.
struct exception_globals {
    void* caught_exceptions = nullptr;
    unsigned int uncaught_exceptions = 0;
};

// A greenlet's stack mapping: `guard` bytes of guard at `base`, then the usable stack up to
// base + size. Empty for a main greenlet, which runs on its thread's own stack.
struct stack_region {
    std::byte* base = nullptr;
    std::size_t size = 0;
    std::size_t guard = 0;
    unsigned valgrind_id = 0;
    bool shared_mapping = false;  // carved from a shared, unguarded mapping (shared_stacks.cpp)
    bool split_guard = false;     // its guard is an mprotect'd page, which costs a kernel mapping
    std::byte* top() const noexcept { return base + size; }
    std::byte* bottom() const noexcept { return base + guard; }
    std::size_t usable() const noexcept { return size - guard; }
};

// The part of a thread's greenlet state that every switch reads (the rest is internal, in
// src/greenlet/thread_state.hpp). Reached through one initial-exec TLS pointer.
struct switch_state {
    greenlet_impl* current = nullptr;
    int* errno_location = nullptr;
    exception_globals* exceptions = nullptr;
    std::uint64_t id = 0;
    // Set when something must be done before the next switch (greenlets queued to be killed).
    std::atomic<bool> needs_attention{false};
    bool tracing = false;
};
// constinit: statically initialised, so no TLS wrapper call guards each access.
extern thread_local constinit switch_state* tls_switch __attribute__((tls_model("initial-exec")));

struct local_table;
struct greenlet_options_view {
    std::size_t stack_size;
    const std::string* name;
};

struct greenlet_impl {
    // A greenlet of the current thread, not yet started, whose first switch must carry `expects`.
    greenlet_impl(greenlet_impl* parent, const std::type_info* expects, greenlet_options_view options);
    // The main greenlet of the thread whose state is `owner`.
    explicit greenlet_impl(thread_state* owner);
    greenlet_impl(const greenlet_impl&) = delete;
    greenlet_impl& operator=(const greenlet_impl&) = delete;
    virtual ~greenlet_impl();

    // Runs the user's function, taking its arguments from `first`; ends by dying (never returns).
    [[noreturn]] virtual void run(message* first) = 0;
    // Destroys the user's function without running it.
    virtual void discard_function() noexcept = 0;

    std::atomic<std::size_t> references{1};
    void* context = nullptr;                    // where it is suspended (context::handle)
    const std::type_info* expecting = nullptr;  // see expectation_of(); nullptr takes anything
    greenlet_state state = greenlet_state::unstarted;
    bool is_main = false;
    bool ever_started = false;                  // its function was called (it may be dead now)
    bool survived_kill = false;                 // it refused to die once; never retried silently
    int saved_errno = 0;
    exception_globals saved_exceptions{};
    std::uint64_t thread_id = 0;     // the owning thread (thread_state::id, never reused)
    greenlet_impl* parent = nullptr; // an owned reference; null only for a main greenlet
    greenlet_impl* live_previous = nullptr;  // links in the thread's list of started, live greenlets
    greenlet_impl* live_next = nullptr;
    greenlet_impl* pending_next = nullptr;   // link in the thread's queue of greenlets to kill
    bool pending_kill = false;
    stack_region stack;
    std::size_t stack_size = 0;  // the requested usable size; 0 for the default
    std::uint64_t id = 0;
    std::string name;
    local_table* locals = nullptr;
    const void* sanitizer_stack_bottom = nullptr;  // the bounds AddressSanitizer is told about
    std::size_t sanitizer_stack_size = 0;
    // Owned by the hub layer (src/hub/), kept here so that finding them costs no lookup: the
    // waiter this greenlet is parked on, if any, and an exception (a kill, an expired timeout) to
    // raise in it at its next blocking point.
    void* parked_on = nullptr;
    std::exception_ptr pending_error;
};

void retain(greenlet_impl* g) noexcept;
void release(greenlet_impl* g) noexcept;

// Ends the current greenlet, delivering `death` to its first live ancestor.
[[noreturn]] void die(greenlet_impl* self, message& death);

// Whether the sender of `m` left work for its receiver: it finished (its stack and value must be
// released), or nobody refers to it any more (it must be killed).
inline bool sender_needs_attention(const message* m) noexcept {
    return m->sender_finished || m->from->references.load(std::memory_order_relaxed) == 0;
}

// Releases what a finished sender left behind once the receiver has taken its value.
void finish_receive_slow(message* m) noexcept;

inline void finish_receive(message* m) noexcept {
    if (sender_needs_attention(m)) finish_receive_slow(m);
}

[[noreturn]] void throw_received_type_mismatch(const std::type_info& expected, const payload& got);

// Takes the received value out of the message as an R, then releases the sender if it finished.
template <class R>
[[gnu::always_inline]] inline R receive(message* m) {
    if (m->error != nullptr) {
        std::exception_ptr error = *m->error;
        finish_receive(m);
        std::rethrow_exception(std::move(error));
    }
    if constexpr (std::is_void_v<R>) {
        finish_receive(m);
    } else if constexpr (std::is_same_v<R, switch_value>) {
        switch_value v;
        if (m->value.type != nullptr) m->value.box(m->value.holder, v);
        finish_receive(m);
        return v;
    } else {
        // Senders check the type before switching; this guards the invariant, not the user.
        if (m->value.type == nullptr || *m->value.type != typeid(R)) [[unlikely]] {
            payload got = m->value;
            finish_receive(m);
            throw_received_type_mismatch(typeid(R), got);
        }
        R result(std::move(*static_cast<R*>(m->value.object)));
        finish_receive(m);
        return result;
    }
}

// The receiving side of a greenlet's first switch: its function's arguments.
template <class... P>
struct arguments_of_call {
    using tuple = std::tuple<std::decay_t<P>...>;
    static const std::type_info* expectation() noexcept {
        if constexpr (sizeof...(P) == 0) {
            return &typeid(void);
        } else if constexpr (sizeof...(P) == 1) {
            return expectation_of<std::tuple_element_t<0, tuple>>();  // a switch_value takes anything
        } else {
            return &typeid(tuple);
        }
    }
    static tuple take(message* m) {
        if constexpr (sizeof...(P) == 0) {
            receive<void>(m);
            return {};
        } else if constexpr (sizeof...(P) == 1) {
            return tuple(receive<std::tuple_element_t<0, tuple>>(m));
        } else {
            return receive<tuple>(m);
        }
    }
};

// Deduces the parameter list of a callable with one non-template call operator.
template <class T>
struct call_signature : call_signature<decltype(&T::operator())> {};
template <class R, class... P>
struct call_signature<R (*)(P...)> {
    using result = R;
    using arguments = arguments_of_call<P...>;
};
template <class R, class... P>
struct call_signature<R(P...)> : call_signature<R (*)(P...)> {};
template <class C, class R, class... P>
struct call_signature<R (C::*)(P...)> : call_signature<R (*)(P...)> {};
template <class C, class R, class... P>
struct call_signature<R (C::*)(P...) const> : call_signature<R (*)(P...)> {};
template <class C, class R, class... P>
struct call_signature<R (C::*)(P...) noexcept> : call_signature<R (*)(P...)> {};
template <class C, class R, class... P>
struct call_signature<R (C::*)(P...) const noexcept> : call_signature<R (*)(P...)> {};
template <class R, class... P>
struct call_signature<R (*)(P...) noexcept> : call_signature<R (*)(P...)> {};

// The common switch, inline: to a started greenlet of this thread that takes what is sent, with
// no tracing and nothing pending. Everything else, and every switch under AddressSanitizer, takes
// switch_core. Being inline matters beyond saving a call: the jump leaves the return-stack
// predictor one entry out of step (it ends with jmp, not ret), so every return made after a
// switch from a frame entered before it mispredicts; here there are none.
// `type_checked`: the caller has already checked `sent` against the target's expectation.
template <bool type_checked>
[[gnu::always_inline]] inline message* switch_fast(greenlet_impl* target, message& out, const std::type_info& sent,
                                                   const std::type_info* expect) {
#ifdef COGENT_ASAN
    return switch_core(target, out, expect);
#endif
    switch_state* ts = tls_switch;
    if (ts == nullptr || ts->tracing || ts->needs_attention.load(std::memory_order_relaxed) ||
        target->state != greenlet_state::started || target->thread_id != ts->id || target == ts->current ||
        (!type_checked && target->expecting != nullptr && *target->expecting != sent)) [[unlikely]] {
        return switch_core(target, out, expect);
    }
    greenlet_impl* self = ts->current;
    out.from = self;
    self->expecting = expect;
    self->saved_errno = *ts->errno_location;
    self->saved_exceptions = *ts->exceptions;
    ts->current = target;
    context::transfer t = cogent_context_jump(target->context, &out);
    auto* in = static_cast<message*>(t.data);
    in->from->context = t.from;
    *ts->errno_location = self->saved_errno;
    *ts->exceptions = self->saved_exceptions;
    return in;
}

template <class F>
struct greenlet_function final : greenlet_impl {
    using signature = call_signature<F>;
    using result = std::decay_t<typename signature::result>;

    template <class G>
    greenlet_function(G&& fn, greenlet_impl* parent_greenlet, greenlet_options_view options)
        : greenlet_impl(parent_greenlet, signature::arguments::expectation(), options),
          function(std::in_place, std::forward<G>(fn)) {}

    [[noreturn]] COGENT_LOCALS_ON_REAL_STACK void run(message* first) override {
        // Everything with a destructor must be gone before die(), which never returns; only the
        // value being delivered outlives this frame's scope, and the receiver destroys it.
        std::optional<result_holder> value;
        std::exception_ptr error;
        bool exited = false;
        try {
            auto arguments = signature::arguments::take(first);
            if constexpr (std::is_void_v<result>) {
                std::apply(*function, std::move(arguments));
            } else {
                value.emplace(result_holder{std::apply(*function, std::move(arguments))});
            }
        } catch (const greenlet_exit&) {
            exited = true;
        } catch (...) {
            error = std::current_exception();
        }
        function.reset();
        greenlet_exit exit_value;
        message death;
        death.from = this;
        death.sender_finished = true;
        if (error) {
            death.error = &error;
        } else if (exited) {
            death.value = payload_of(exit_value);
        } else if constexpr (!std::is_void_v<result>) {
            death.value = payload_of(value->value);
        }
        die(this, death);
    }

    void discard_function() noexcept override { function.reset(); }

    struct result_holder {
        std::conditional_t<std::is_void_v<result>, char, result> value;
    };
    std::optional<F> function;
};

}  // namespace cogent::detail
