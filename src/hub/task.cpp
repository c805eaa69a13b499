// Tasks: their greenlet body, their end, and the handle operations.
#include <stdexcept>
#include <string>

#include "cogent/task.hpp"
#include "greenlet/thread_state.hpp"
#include "hub/hub_impl.hpp"

namespace cogent {
namespace detail {

void completion_listener::attach(task_core& t) noexcept {
    detach();
    attached = &t;
    prev = nullptr;
    next = t.listeners;
    if (next != nullptr) next->prev = this;
    t.listeners = this;
}

void completion_listener::detach() noexcept {
    if (attached == nullptr) return;
    if (prev != nullptr) {
        prev->next = next;
    } else {
        attached->listeners = next;
    }
    if (next != nullptr) next->prev = prev;
    prev = next = nullptr;
    attached = nullptr;
}

task_core::task_core() noexcept {
    start_node.abandon = [](run_node* n) noexcept { static_cast<task_core*>(n->owner)->abandon(); };
}

task_core::~task_core() {
    while (listeners != nullptr) listeners->detach();
}

void task_core::abandon() noexcept {
    // Its thread's hub ended before it started: it ends killed, as a kill before the start would
    // have ended it, and lets go of its function and its greenlet (which holds the task).
    drop_function();
    killed = true;
    state = phase::finished;
    thread = greenlet();
}

void task_core::run() noexcept {
    state = phase::running;
    ran = true;
    // Normally started by its start node; if someone switched to its greenlet by hand first, the
    // node (or spawn_later's timer) must not start it again.
    if (hub_impl* h = hub_impl::existing()) {
        if (start_node.queued()) h->ready.remove(&start_node);
        h->disarm(start_timer);
    }
    if (kill_before_start) {
        try {
            std::rethrow_exception(kill_before_start);
        } catch (const greenlet_exit&) {
            killed = true;
        } catch (...) {
            error = std::current_exception();
        }
    } else {
        try {
            invoke();
        } catch (const greenlet_exit&) {
            killed = true;
        } catch (...) {
            error = std::current_exception();
        }
    }
    drop_function();
    if (error) report_error(name.empty() ? display_name(thread.impl()) : name, error);
    finish();
}

void task_core::finish() noexcept {
    state = phase::finished;
    if (deferred_kill.queued()) {
        if (hub_impl* h = hub_impl::existing()) h->withdraw(deferred_kill);
    }
    joiners.wake_all(wake_reason::ready);
    while (completion_listener* l = listeners) {
        l->detach();
        l->notify(l, *this);
    }
    hub_impl* h = hub_impl::existing();
    std::vector<std::pair<link_kind, std::function<void(basic_task)>>> callbacks;
    callbacks.swap(links);
    if (h != nullptr && !h->shutting_down) {
        for (auto& [kind, callback] : callbacks) {
            bool wanted = kind == link_kind::any || (kind == link_kind::value) == !error;
            if (!wanted) continue;
            retain();
            try {
                spawn(std::move(callback), basic_task(this));
            } catch (...) {
                report_error("hub", std::current_exception());
            }
        }
    }
    // Keep a name given to its greenlet while it ran; an unnamed task's "greenlet-<id>" is made
    // from `id` only if someone asks (formatting it for every task cost a tenth of a spawn).
    if (thread.impl()->name != name && !thread.impl()->name.empty()) name = thread.impl()->name;
    thread = greenlet();  // breaks the cycle task -> greenlet -> function -> task
}

void launch(task_core* t, const task_options& options, duration delay) {
    hub_impl& h = hub_impl::current();
    t->name = options.name;
    t->retain();  // the greenlet's reference
    struct body {
        task_core* t;
        explicit body(task_core* core) noexcept : t(core) {}
        body(body&& other) noexcept : t(std::exchange(other.t, nullptr)) {}
        ~body() {
            if (t != nullptr) t->release();
        }
        void operator()() const noexcept { t->run(); }
    };
    body b(t);
    t->thread = greenlet(std::move(b), h.hub_greenlet_handle(), greenlet_options{options.stack_size, options.name});
    t->start_node.greenlet = t->thread.impl();
    t->id = t->thread.impl()->id;
    t->start_node.owner = t;
    if (delay <= duration::zero()) {
        h.schedule(t->start_node);
        return;
    }
    t->start_timer.owner = t;
    t->start_timer.fire = [](timer_node* timer) noexcept {
        auto* core = static_cast<task_core*>(timer->owner);
        hub_impl::current().schedule(core->start_node);
    };
    t->start_timer.abandon = [](timer_node* timer) noexcept { static_cast<task_core*>(timer->owner)->abandon(); };
    h.arm(t->start_timer, deadline_after(delay));
}

}  // namespace detail

detail::task_core& basic_task::checked() const {
    if (core_ == nullptr) throw std::logic_error("cogent: operation on an empty task handle");
    return *core_;
}

bool basic_task::started() const { return checked().ran; }
bool basic_task::ready() const { return checked().state == detail::task_core::phase::finished; }
bool basic_task::successful() const { return ready() && !core_->error; }
bool basic_task::killed() const { return ready() && core_->killed; }
std::exception_ptr basic_task::exception() const { return ready() ? core_->error : nullptr; }

void basic_task::check_same_thread(const char* operation) const {
    detail::task_core& c = checked();
    if (c.thread && c.thread.impl()->thread_id != detail::this_thread().id) {
        throw std::logic_error("cogent: cannot " + std::string(operation) + " task '" + name() +
                               "' from another thread; post to its hub (cogent::hub_handle::post) instead");
    }
}

bool basic_task::join(duration timeout) const {
    detail::task_core& c = checked();
    if (c.state == detail::task_core::phase::finished) return true;
    check_same_thread("join");
    if (c.thread && c.thread.impl() == detail::this_thread().current) {
        throw std::logic_error("cogent: task '" + name() + "' cannot join itself");
    }
    waiter w("join");
    c.joiners.push_back(w);
    w.wait(timeout);
    return c.state == detail::task_core::phase::finished;
}

bool basic_task::kill(std::exception_ptr error, bool block, duration timeout) const {
    detail::task_core& c = checked();
    if (c.state == detail::task_core::phase::finished) return true;
    check_same_thread("kill");
    if (!error) error = std::make_exception_ptr(greenlet_exit());
    detail::hub_impl& h = detail::hub_impl::current();
    detail::greenlet_impl* self = detail::this_thread().current;
    if (c.state == detail::task_core::phase::scheduled) {
        if (!c.kill_before_start) c.kill_before_start = error;
        if (c.start_timer.armed()) {  // spawn_later: start it now, to end at once
            h.disarm(c.start_timer);
            h.schedule(c.start_node);
        }
    } else if (c.thread.impl() == self) {
        std::rethrow_exception(error);
    } else {
        h.raise_in(c.thread.impl(), error, &c.deferred_kill);
    }
    if (!block || self == h.hub_greenlet) return ready();
    return join(timeout);
}

void basic_task::add_link(detail::link_kind kind, std::function<void(basic_task)> callback) const {
    detail::task_core& c = checked();
    if (!callback) throw std::invalid_argument("cogent: empty link callback");
    if (c.state == detail::task_core::phase::finished) {
        bool wanted = kind == detail::link_kind::any || (kind == detail::link_kind::value) == !c.error;
        if (wanted) spawn(std::move(callback), *this);
        return;
    }
    c.links.emplace_back(kind, std::move(callback));
}

void basic_task::link(std::function<void(basic_task)> callback) const { add_link(detail::link_kind::any, std::move(callback)); }
void basic_task::link_value(std::function<void(basic_task)> callback) const {
    add_link(detail::link_kind::value, std::move(callback));
}
void basic_task::link_exception(std::function<void(basic_task)> callback) const {
    add_link(detail::link_kind::exception, std::move(callback));
}
void basic_task::unlink_all() const { checked().links.clear(); }

std::string basic_task::name() const {
    detail::task_core& c = checked();
    if (c.thread) return detail::display_name(c.thread.impl());
    if (!c.name.empty()) return c.name;
    return "greenlet-" + std::to_string(c.id);
}

greenlet basic_task::thread() const { return checked().thread; }

}  // namespace cogent
