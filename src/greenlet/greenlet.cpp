// The greenlet switch: how control and a value pass from one greenlet to another. The common case
// (a started greenlet of this thread that takes what is sent) is switch_fast, inline in
// include/cogent/detail/greenlet_impl.hpp; this file is the general path, which both keep in step.
//
// Invariants:
// - thread_state::current is the greenlet whose code is running. The sender sets it to the
//   target just before the context jump, so whoever resumes finds itself current.
// - A switch saves the sender's errno and C++ exception globals in the sender and restores the
//   receiver's after the jump: each greenlet sees its own, exactly as if it were a thread.
// - A greenlet is `started` from the first jump into it until it dies; only started greenlets
//   own a stack and are in the thread's live list.
// - A dying greenlet's stack is released by whoever receives its last message, after the value
//   has been taken out of it (finish_receive_slow), never by the dying greenlet itself.
#include <cxxabi.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "context/context.hpp"
#include "greenlet/sanitizer.hpp"
#include "greenlet/thread_state.hpp"

namespace cogent::detail {
namespace {

greenlet_impl* first_live(greenlet_impl* g) {
    while (g->state == greenlet_state::dead) {
        g = g->parent;
        if (g == nullptr) throw greenlet_error("cogent: no live greenlet to switch to (the thread has ended)");
    }
    return g;
}

const std::type_info& sent_type(const message& m) noexcept {
    return m.value.type != nullptr ? *m.value.type : typeid(void);
}

bool accepts(const greenlet_impl* target, const message& m) noexcept {
    return m.error != nullptr || target->expecting == nullptr || *target->expecting == sent_type(m);
}

void throw_mismatch(const greenlet_impl* target, const message& m) {
    throw switch_type_error(type_name(*target->expecting), type_name(sent_type(m)));
}

void call_trace(thread_state& ts, trace_event event, greenlet_impl* origin, greenlet_impl* target) noexcept {
    // The trace function may itself switch; it must not trace its own switches.
    ts.tracing = false;
    try {
        ts.trace(event, greenlet::from_impl(origin), greenlet::from_impl(target));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cogent: the greenlet trace function threw %s: %s (ignored)\n",
                     type_name(typeid(e)).c_str(), e.what());
    } catch (...) {
        std::fputs("cogent: the greenlet trace function threw a non-standard exception (ignored)\n", stderr);
    }
    ts.tracing = static_cast<bool>(ts.trace);
}

// The first code a new greenlet runs.
[[noreturn]] void greenlet_entry(context::transfer t) {
    auto* first = static_cast<message*>(t.data);
    first->from->context = t.from;
    sanitizer_arrived(nullptr, first->from);
    thread_state& ts = *existing_thread_state();
    *ts.errno_location = 0;
    *ts.exceptions = exception_globals{};
    ts.current->run(first);
    __builtin_unreachable();
}

void start(thread_state& ts, greenlet_impl* g) {
    g->stack = ts.stacks.take(g->stack_size);
    // Cached or freshly mapped, the range may carry ASan poison from an earlier greenlet's frames
    // (ASan does not clear it on munmap, and a new mapping can land on the same addresses).
    sanitizer_forget_frames(g->stack);
    g->context = cogent_context_make(g->stack.top(), g->stack.usable(), greenlet_entry);
    g->sanitizer_stack_bottom = g->stack.bottom();
    g->sanitizer_stack_size = g->stack.usable();
    g->state = greenlet_state::started;
    g->ever_started = true;
    link_live(ts, g);
}

message* jump(thread_state& ts, greenlet_impl* self, greenlet_impl* target, message& out,
              const std::type_info* expect, trace_event event) {
    self->expecting = expect;
    if (ts.tracing) [[unlikely]] call_trace(ts, event, self, target);
    self->saved_errno = *ts.errno_location;
    self->saved_exceptions = *ts.exceptions;
    ts.current = target;
    void* fake_stack = nullptr;
    sanitizer_leaving(out.sender_finished ? nullptr : &fake_stack, target);
    context::transfer t = cogent_context_jump(target->context, &out);
    auto* in = static_cast<message*>(t.data);
    in->from->context = t.from;
    sanitizer_arrived(fake_stack, in->from);
    *ts.errno_location = self->saved_errno;
    *ts.exceptions = self->saved_exceptions;
    return in;
}

void check_thread(const thread_state& ts, const greenlet_impl* target) {
    if (target->thread_id != ts.id) throw greenlet_error("cannot switch to a different thread");
}

}  // namespace

namespace {

// What every switch does first: kill what is queued, name the sender, refuse other threads.
greenlet_impl* begin_switch(thread_state& ts, greenlet_impl* target, message& out) {
    if (ts.needs_attention.load(std::memory_order_relaxed)) [[unlikely]] process_pending_kills(ts);
    out.from = ts.current;
    check_thread(ts, target);
    return ts.current;
}

// What every switch does last: a dead target passes the message to its first live ancestor, a
// greenlet switching to itself gets it straight back, the receiver must take what is sent, and
// an unstarted receiver is started.
message* deliver(thread_state& ts, greenlet_impl* target, message& out, const std::type_info* expect,
                 trace_event event) {
    greenlet_impl* self = ts.current;
    target = first_live(target);
    if (target == self) return &out;
    if (!accepts(target, out)) [[unlikely]] throw_mismatch(target, out);
    if (target->state == greenlet_state::unstarted) start(ts, target);
    return jump(ts, self, target, out, expect, event);
}

}  // namespace

message* switch_core(greenlet_impl* target, message& out, const std::type_info* expect) {
    thread_state& ts = this_thread();
    begin_switch(ts, target, out);
    return deliver(ts, target, out, expect, trace_event::switched);
}

message* throw_core(greenlet_impl* target, message& out, const std::type_info* expect,
                    greenlet_exit& exit_value) {
    thread_state& ts = this_thread();
    greenlet_impl* self = begin_switch(ts, target, out);
    if (target->state == greenlet_state::unstarted) {
        // It dies without running, and its parent hears of it as if the function had raised the
        // error: greenlet_exit arrives as a value, anything else as an exception. Whoever hears
        // must be able to take it, or nothing happens at all.
        greenlet_impl* receiver = first_live(target->parent);
        try {
            std::rethrow_exception(*out.error);
        } catch (const greenlet_exit& e) {
            exit_value = e;
            out.error = nullptr;
            out.value = payload_of(exit_value);
        } catch (...) {
        }
        const std::type_info* wanted = receiver == self ? expect : receiver->expecting;
        if (out.error == nullptr && wanted != nullptr && *wanted != sent_type(out)) [[unlikely]] {
            throw switch_type_error(type_name(*wanted), type_name(sent_type(out)));
        }
        target->state = greenlet_state::dead;
        target->discard_function();
        target = receiver;
    }
    return deliver(ts, target, out, expect, trace_event::thrown);
}

// Uninstrumented like greenlet_function::run, for the same reason: `failure` is read by the
// receiver after the final switch, when ASan has already freed this greenlet's fake stack.
[[noreturn]] COGENT_LOCALS_ON_REAL_STACK void die(greenlet_impl* self, message& death) {
    thread_state& ts = *existing_thread_state();
    std::exception_ptr failure;  // what the ancestor gets instead, if it cannot take the death
    destroy_locals(self);
    self->state = greenlet_state::dead;
    unlink_live(ts, self);
    greenlet_impl* target = self->parent;
    for (;;) {
        while (target->state == greenlet_state::dead) target = target->parent;  // main outlives us
        try {
            if (!accepts(target, death)) throw_mismatch(target, death);
            if (target->state == greenlet_state::unstarted) start(ts, target);
            break;
        } catch (...) {
            // The ancestor cannot take this death (wrong type, or no stack for it): it gets the
            // error instead, and if it cannot even be started, its own parent does.
            if (death.value.destroy != nullptr) death.value.destroy(death.value.holder);
            death.value = payload{};
            failure = std::current_exception();
            death.error = &failure;
            if (target->state == greenlet_state::unstarted) {
                target->state = greenlet_state::dead;
                target->discard_function();
                target = target->parent;
            }
        }
    }
    if (ts.observer != nullptr) [[unlikely]] {
        std::lock_guard lock(ts.observer->lock);
        ts.observer->forget(self, target);
    }
    jump(ts, self, target, death, nullptr, trace_event::switched);
    std::fputs("cogent: a dead greenlet was resumed\n", stderr);
    std::abort();
}

void finish_receive_slow(message* m) noexcept {
    greenlet_impl* from = m->from;
    thread_state& ts = *existing_thread_state();
    if (m->sender_finished) {
        // The value has been moved out; end its life, then the stack it lived on can go.
        if (m->value.destroy != nullptr) m->value.destroy(m->value.holder);
        if (m->error != nullptr) *m->error = nullptr;
        ts.stacks.give_back(from->stack);
        if (from->references.load(std::memory_order_acquire) == 0) destroy_impl(from);
        return;
    }
    if (from != ts.current && from->state == greenlet_state::started && !from->pending_kill &&
        from->references.load(std::memory_order_acquire) == 0) {
        // It dropped its last reference to itself while running and then switched away.
        queue_kill(ts, from);
    }
}

void refuse_switch(const greenlet_impl* target, const std::type_info& sent) {
    if (target->thread_id != this_thread().id) throw greenlet_error("cannot switch to a different thread");
    throw switch_type_error(type_name(*target->expecting), type_name(sent));
}

void throw_received_type_mismatch(const std::type_info& expected, const payload& got) {
    throw switch_type_error(type_name(expected), got.type != nullptr ? type_name(*got.type) : "nothing");
}

}  // namespace cogent::detail
