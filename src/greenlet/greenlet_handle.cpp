// The greenlet handle's operations and the greenlet's lifetime outside of switching.
#include <atomic>
#include <cstdio>

#include "cogent/greenlet.hpp"
#include "greenlet/stack.hpp"
#include "greenlet/thread_state.hpp"

namespace cogent {
namespace {
std::atomic<std::uint64_t> next_id_block{0};
constexpr std::uint64_t ids_per_block = 4096;

// Process-wide unique ids without a locked instruction per greenlet: each thread takes ids in
// blocks of 4096 from the shared counter.
std::uint64_t new_greenlet_id() noexcept {
    thread_local std::uint64_t next = 0;
    thread_local std::uint64_t end = 0;
    if (next == end) {
        next = next_id_block.fetch_add(1, std::memory_order_relaxed) * ids_per_block + 1;
        end = next + ids_per_block;
    }
    return next++;
}
}  // namespace

namespace detail {

greenlet_impl::greenlet_impl(greenlet_impl* parent_greenlet, const std::type_info* expects,
                             greenlet_options_view options)
    : expecting(expects),
      parent(parent_greenlet),
      stack_size(options.stack_size),
      id(new_greenlet_id()) {
    thread_state& ts = this_thread();
    thread_id = ts.id;
    if (options.name != nullptr && !options.name->empty()) name = *options.name;
    retain(parent);
}

greenlet_impl::greenlet_impl(thread_state* owner)
    : state(greenlet_state::started),
      is_main(true),
      thread_id(owner->id),
      id(new_greenlet_id()),
      name("main") {}

std::string display_name(const greenlet_impl* g) {
    return g->name.empty() ? "greenlet-" + std::to_string(g->id) : g->name;
}

greenlet_impl::~greenlet_impl() {
    destroy_locals(this);
    // A stack is normally given back by whoever received the greenlet's last message. One that is
    // still here belongs to a greenlet that never got that far; unmap it directly, which is safe
    // on any thread.
    unmap_stack(stack);
}

}  // namespace detail

detail::greenlet_impl* greenlet::current_impl() { return detail::this_thread().current; }

greenlet greenlet::current() {
    return from_impl(detail::this_thread().current);
}

greenlet greenlet::from_impl(detail::greenlet_impl* impl) noexcept {
    greenlet g;
    g.impl_ = impl;
    if (impl != nullptr) detail::retain(impl);
    return g;
}

void greenlet::throw_empty() { throw greenlet_error("cogent: operation on an empty greenlet handle"); }

void greenlet::check_new_parent(const greenlet& parent) {
    if (!parent) throw greenlet_error("cogent: a greenlet's parent cannot be empty");
    if (parent.impl_->thread_id != detail::this_thread().id) {
        throw greenlet_error("cogent: a greenlet's parent must belong to the same thread");
    }
}

void greenlet::kill() const {
    detail::greenlet_impl* g = checked();
    if (g->state == detail::greenlet_state::dead) return;
    if (g->thread_id != detail::this_thread().id) throw greenlet_error("cannot switch to a different thread");
    if (g->state == detail::greenlet_state::unstarted) {
        // Killed before it ran: it never will (gevent's kill-before-start), and nobody is told.
        g->state = detail::greenlet_state::dead;
        g->discard_function();
        return;
    }
    throw_into<switch_value>(greenlet_exit{});
}

bool greenlet::started() const { return checked()->ever_started || impl_->is_main; }
bool greenlet::dead() const {
    const detail::greenlet_impl* g = checked();
    if (g->state == detail::greenlet_state::dead) return true;
    // A greenlet that never started cannot start once its thread has ended: it is dead too. (It
    // is not in any list the ending thread could mark, so this is decided when asked.)
    if (g->state == detail::greenlet_state::unstarted && g->thread_id != detail::this_thread().id) {
        return !detail::thread_alive(g->thread_id);
    }
    return false;
}
bool greenlet::is_main() const { return checked()->is_main; }

greenlet greenlet::parent() const { return from_impl(checked()->parent); }

void greenlet::set_parent(const greenlet& new_parent) {
    detail::greenlet_impl* g = checked();
    if (g->is_main) throw greenlet_error("cogent: a main greenlet has no parent to change");
    if (!new_parent) throw greenlet_error("cogent: a greenlet's parent cannot be empty");
    if (new_parent.impl_->thread_id != g->thread_id) {
        throw greenlet_error("cogent: a greenlet's parent must belong to the same thread");
    }
    for (detail::greenlet_impl* p = new_parent.impl_; p != nullptr; p = p->parent) {
        if (p == g) throw greenlet_error("cogent: cyclic parent chain");
    }
    detail::greenlet_impl* old = g->parent;
    detail::retain(new_parent.impl_);
    g->parent = new_parent.impl_;
    if (old != nullptr) detail::release(old);
}

std::string greenlet::name() const { return detail::display_name(checked()); }

void greenlet::set_name(std::string new_name) {
    detail::greenlet_impl* g = checked();
    detail::thread_state* ts = detail::existing_thread_state();
    if (ts != nullptr && ts->observer != nullptr && g->thread_id == ts->id) [[unlikely]] {
        // The observer may be copying this name on its own thread (see greenlet_observer).
        std::lock_guard lock(ts->observer->lock);
        g->name.swap(new_name);  // the old name is freed after the lock is let go
        return;
    }
    g->name = std::move(new_name);
}

std::uint64_t greenlet::id() const { return checked()->id; }

std::size_t greenlet::stack_size() const {
    const detail::greenlet_impl* g = checked();
    if (g->is_main) return 0;
    return g->stack.base != nullptr ? g->stack.usable() : detail::normalized_stack_size(g->stack_size);
}

greenlet::trace_function greenlet::set_trace(trace_function trace) {
    detail::thread_state& ts = detail::this_thread();
    trace_function previous = std::move(ts.trace);
    ts.trace = std::move(trace);
    ts.tracing = static_cast<bool>(ts.trace);
    return previous;
}

std::size_t greenlet::default_stack_size() noexcept { return detail::default_stack_size(); }

}  // namespace cogent
