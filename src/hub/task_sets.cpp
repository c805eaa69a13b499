// Operations on several tasks: joinall, killall, as_completed.
#include <stdexcept>

#include "cogent/task.hpp"
#include "hub/hub_impl.hpp"

namespace cogent {

as_completed::as_completed(std::vector<basic_task> tasks, duration timeout)
    : tasks_(std::move(tasks)),
      listeners_(new detail::completion_listener[tasks_.size()]),
      deadline_(deadline_after(timeout)) {
    finished_.reserve(tasks_.size());  // so that on_finished never allocates
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
        if (!tasks_[i]) throw std::invalid_argument("cogent::as_completed: empty task handle");
        if (tasks_[i].ready()) {
            finished_.push_back(i);
            continue;
        }
        listeners_[i].notify = &as_completed::on_finished;
        listeners_[i].owner = this;
        listeners_[i].attach(*tasks_[i].core());
    }
}

as_completed::~as_completed() = default;

void as_completed::on_finished(detail::completion_listener* l, detail::task_core&) noexcept {
    auto* self = static_cast<as_completed*>(l->owner);
    self->finished_.push_back(static_cast<std::size_t>(l - self->listeners_.get()));  // reserved
    if (self->waiting_ != nullptr) self->waiting_->wake();
}

std::optional<basic_task> as_completed::next() {
    if (delivered_ == tasks_.size()) return std::nullopt;
    while (delivered_ == finished_.size()) {
        if (clock::now() >= deadline_) return std::nullopt;
        waiter w("as_completed");
        waiting_ = &w;
        struct reset {
            waiter*& slot;
            ~reset() { slot = nullptr; }
        } guard{waiting_};
        if (w.wait_until(deadline_) == wake_reason::timed_out && delivered_ == finished_.size()) return std::nullopt;
    }
    return tasks_[finished_[delivered_++]];
}

std::vector<basic_task> joinall(const std::vector<basic_task>& tasks, duration timeout, bool raise_error,
                                std::size_t count) {
    std::vector<basic_task> done;
    std::size_t wanted = std::min(count, tasks.size());
    done.reserve(wanted);
    as_completed finished(tasks, timeout);
    while (done.size() < wanted) {
        std::optional<basic_task> t = finished.next();
        if (!t) break;
        if (raise_error && t->exception()) std::rethrow_exception(t->exception());
        done.push_back(std::move(*t));
    }
    return done;
}

void killall(const std::vector<basic_task>& tasks, std::exception_ptr error, bool block, duration timeout) {
    for (const basic_task& t : tasks) t.kill(error, false);
    if (block) joinall(tasks, timeout);
}

}  // namespace cogent
