// cogent::group: membership kept by completion listeners, join and kill over changing members,
// and stop_tasks, which map and imap_unordered use to never leave calls running behind them.
#include "cogent/group.hpp"

#include <algorithm>
#include <stdexcept>

#include "cogent/errors.hpp"
#include "hub/hub_impl.hpp"

namespace cogent {

namespace {

// What is left of `deadline`, as a timeout for the calls that take one.
duration remaining(clock::time_point deadline) {
    if (deadline == clock::time_point::max()) return forever;
    return std::max(duration::zero(), std::chrono::duration_cast<duration>(deadline - clock::now()));
}

}  // namespace

group::~group() = default;  // each member's listener leaves its task as the member goes

bool group::acquire_slot(clock::time_point) { return true; }

void group::adopt(const basic_task& t) {
    if (t.ready() || contains(t)) {
        release_slot();
        return;
    }
    member* m;
    try {
        m = &members_[t.core()];
    } catch (...) {
        release_slot();
        throw;
    }
    m->task = t;
    m->listener.notify = &group::on_finished;
    m->listener.owner = this;
    m->listener.attach(*t.core());
}

void group::on_finished(detail::completion_listener* l, detail::task_core& t) noexcept {
    auto* self = static_cast<group*>(l->owner);
    // Destroys the listener too; task_core::finish has already detached it and does not touch it
    // again. The task itself lives on: its greenlet holds a reference until it has finished.
    self->members_.erase(&t);
    self->release_slot();
}

void group::add(const basic_task& t) {
    if (!t) throw std::invalid_argument("cogent::group::add: empty task handle");
    if (t.ready() || contains(t)) return;
    acquire_slot(clock::time_point::max());
    adopt(t);
}

void group::discard(const basic_task& t) {
    if (!t) return;
    if (members_.erase(t.core()) != 0) release_slot();
}

bool group::contains(const basic_task& t) const { return t && members_.count(t.core()) != 0; }

std::vector<basic_task> group::tasks() const {
    std::vector<basic_task> all;
    all.reserve(members_.size());
    for (const auto& entry : members_) all.push_back(entry.second.task);
    return all;
}

bool group::join(duration timeout, bool raise_error) {
    clock::time_point deadline = deadline_after(timeout);
    // Members may spawn members: wait for those present, then look again.
    while (!members_.empty()) {
        as_completed finished(tasks(), remaining(deadline));
        while (std::optional<basic_task> t = finished.next()) {
            if (raise_error && t->exception()) std::rethrow_exception(t->exception());
        }
        if (clock::now() >= deadline) break;
    }
    return members_.empty();
}

bool group::kill(std::exception_ptr error, bool block, duration timeout) {
    clock::time_point deadline = deadline_after(timeout);
    while (!members_.empty()) {
        std::vector<basic_task> victims = tasks();
        killall(victims, error, false);
        if (!block) break;
        joinall(victims, remaining(deadline));
        if (clock::now() >= deadline) break;
    }
    return members_.empty();
}

namespace detail {

void stop_tasks(const std::vector<basic_task>& tasks) noexcept {
    greenlet self = greenlet::current();
    auto running = [&] {
        return std::any_of(tasks.begin(), tasks.end(), [&](const basic_task& t) { return !t.ready() && t.thread() != self; });
    };
    while (running()) {
        hub_impl* h = hub_impl::existing();
        if (h == nullptr || h->shutting_down) return;
        try {
            for (const basic_task& t : tasks) {
                if (t.thread() != self) t.kill(nullptr, false);
            }
            for (const basic_task& t : tasks) {
                if (t.thread() != self) t.join();
            }
        } catch (const loop_exit&) {
            return;  // a task ignores its kill and waits for nothing that can come
        } catch (...) {
            // This greenlet was interrupted again (another kill, a timeout scope): the tasks may
            // still be running, and may use its frame, so it keeps at it.
        }
    }
}

}  // namespace detail
}  // namespace cogent
