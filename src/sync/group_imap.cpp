// detail::imap_core, the engine of group::map and group::imap_unordered: it starts calls as the
// group has room and hands out their indexes as they finish.
#include "cogent/group.hpp"

#include <string>

#include "cogent/errors.hpp"

namespace cogent::detail {

imap_core::imap_core(group& owner, std::size_t count, spawner spawn, void* context)
    : owner_(owner), count_(count), spawn_(spawn), context_(context), tasks_(count), listeners_(new completion_listener[count]) {
    finished_.reserve(count);
}

imap_core::~imap_core() {
    try {
        std::vector<basic_task> started(tasks_.begin(), tasks_.begin() + static_cast<std::ptrdiff_t>(spawned_));
        stop_tasks(started);
    } catch (...) {
        // Out of memory for the list: nothing better can be done from a destructor.
    }
}

void imap_core::on_finished(completion_listener* l, task_core&) noexcept {
    auto* self = static_cast<imap_core*>(l->owner);
    self->finished_.push_back(static_cast<std::size_t>(l - self->listeners_.get()));  // reserved
    if (self->waiting_ != nullptr) self->waiting_->wake();
}

void imap_core::spawn_more(clock::time_point deadline) {
    while (spawned_ < count_) {
        // With calls of ours running, start more only where that does not wait: their ends will
        // bring room. With none running, wait for room (in turn with other spawners of a pool).
        bool ours_running = spawned_ > finished_.size();
        if (ours_running && !owner_.has_free_slot()) return;
        basic_task t = spawn_(context_, spawned_, deadline);
        if (!t) throw timeout_error(nullptr, "cogent: imap_unordered: no room in the pool came in time");
        listeners_[spawned_].notify = &imap_core::on_finished;
        listeners_[spawned_].owner = this;
        listeners_[spawned_].attach(*t.core());
        tasks_[spawned_] = std::move(t);
        ++spawned_;
    }
}

std::optional<std::size_t> imap_core::next(duration timeout) {
    clock::time_point deadline = deadline_after(timeout);
    for (;;) {
        spawn_more(deadline);
        if (delivered_ < finished_.size()) return finished_[delivered_++];
        if (delivered_ == count_) return std::nullopt;
        if (clock::now() >= deadline) throw timeout_error(nullptr, "cogent: imap_unordered: no call finished in time");
        waiter self("imap_unordered");
        waiting_ = &self;
        struct reset {
            waiter*& slot;
            ~reset() { slot = nullptr; }
        } guard{waiting_};
        self.wait_until(deadline);
    }
}

}  // namespace cogent::detail
