// cogent::mutex and cogent::recursive_mutex: ownership on top of detail::permits.
#include "cogent/mutex.hpp"

#include <stdexcept>
#include <string>

#include "greenlet/thread_state.hpp"

namespace cogent {
namespace {

// Owners are recorded by greenlet id rather than by pointer: ids are never reused, so a greenlet
// that died holding a lock can never be mistaken for a new one allocated at the same address.
std::uint64_t current_greenlet_id() { return detail::this_thread().current->id; }

[[noreturn]] void throw_not_held(const char* kind, std::uint64_t owner) {
    std::string what = std::string("cogent::") + kind + "::unlock() by a greenlet that does not hold it (";
    what += owner == 0 ? "nobody holds it" : "greenlet " + std::to_string(owner) + " holds it";
    throw std::logic_error(what + ")");
}

}  // namespace

bool mutex::lock_until(clock::time_point deadline) {
    std::uint64_t self = current_greenlet_id();
    if (owner_ == self) {
        throw std::logic_error(
            "cogent::mutex: the greenlet that holds it tried to lock it again, which would deadlock "
            "(use cogent::recursive_mutex to lock recursively)");
    }
    if (!permits_.acquire_until(deadline)) return false;
    owner_ = self;
    return true;
}

void mutex::lock() {
    // Without a deadline, lock_until is false only after a wake whose exception was withdrawn
    // before we ran (see permits::wait_until): nothing was acquired, so wait again.
    while (!lock_until(clock::time_point::max())) {
    }
}

bool mutex::try_lock() {
    if (!permits_.try_acquire()) return false;
    owner_ = current_greenlet_id();
    return true;
}

void mutex::unlock() {
    if (owner_ == 0 || owner_ != current_greenlet_id()) throw_not_held("mutex", owner_);
    owner_ = 0;
    permits_.release();
}

bool mutex::held_by_current() const { return owner_ != 0 && owner_ == current_greenlet_id(); }

bool mutex::relock_after_wait() {
    std::uint64_t self = current_greenlet_id();
    for (;;) {
        switch (permits_.wait_until(clock::time_point::max())) {
            case detail::permits::outcome::acquired:
                owner_ = self;
                return true;
            case detail::permits::outcome::timed_out:
                continue;  // a withdrawn exception's wake, as in lock()
            case detail::permits::outcome::destroyed:
                return false;
        }
    }
}

bool recursive_mutex::lock_until(clock::time_point deadline) {
    std::uint64_t self = current_greenlet_id();
    if (owner_ == self) {
        ++count_;
        return true;
    }
    if (!permits_.acquire_until(deadline)) return false;
    owner_ = self;
    count_ = 1;
    return true;
}

void recursive_mutex::lock() {
    while (!lock_until(clock::time_point::max())) {
    }
}

bool recursive_mutex::try_lock() {
    std::uint64_t self = current_greenlet_id();
    if (owner_ == self) {
        ++count_;
        return true;
    }
    if (!permits_.try_acquire()) return false;
    owner_ = self;
    count_ = 1;
    return true;
}

void recursive_mutex::unlock() {
    if (owner_ == 0 || owner_ != current_greenlet_id()) throw_not_held("recursive_mutex", owner_);
    if (--count_ > 0) return;
    owner_ = 0;
    permits_.release();
}

bool recursive_mutex::held_by_current() const { return owner_ != 0 && owner_ == current_greenlet_id(); }

}  // namespace cogent
