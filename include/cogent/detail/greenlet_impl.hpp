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

#include "cogent/detail/greenlet_core.hpp"

// A finishing greenlet's last message and return value live in greenlet_function::run's frame
// and are read by the receiver after the switch. Under AddressSanitizer's
// detect_stack_use_after_return, instrumented locals live on a per-greenlet fake stack that ASan
// frees at that very switch; keeping run() uninstrumented keeps them on the real stack, which
// the receiver releases itself once it has read them.
#if defined(__has_attribute)
#if __has_attribute(no_sanitize)
#define COGENT_LOCALS_ON_REAL_STACK __attribute__((no_sanitize("address")))
#endif
#endif
#ifndef COGENT_LOCALS_ON_REAL_STACK
#define COGENT_LOCALS_ON_REAL_STACK
#endif

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
    bool shared_mapping = false;  // carved from a shared, unguarded mapping (see stack.cpp)
    bool split_guard = false;     // its guard is an mprotect'd page, which costs a kernel mapping
    std::byte* top() const noexcept { return base + size; }
    std::byte* bottom() const noexcept { return base + guard; }
    std::size_t usable() const noexcept { return size - guard; }
};

struct local_table;
struct greenlet_options_view {
    std::size_t stack_size;
    const std::string* name;
};

struct greenlet_impl {
    // A greenlet of the current thread, not yet started, whose first switch must carry `expects`.
    greenlet_impl(greenlet_impl* parent, const std::type_info* expects, greenlet_options_view options);
    // The main greenlet of the thread that owns `thread`.
    explicit greenlet_impl(thread_state* thread);
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
    bool survived_kill = false;                 // it refused to die once; never retried silently
    int saved_errno = 0;
    exception_globals saved_exceptions{};
    std::uint64_t thread_id = 0;
    thread_state* thread = nullptr;  // dereferenced only on its own thread while it lives
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
};

void retain(greenlet_impl* g) noexcept;
void release(greenlet_impl* g) noexcept;

// Ends the current greenlet, delivering `death` to its first live ancestor.
[[noreturn]] void die(greenlet_impl* self, message& death);

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
            death.error = std::move(error);
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
