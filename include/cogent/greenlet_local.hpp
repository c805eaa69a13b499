// greenlet_local<T>: a variable with one instance per greenlet, as thread_local has one per thread.
//
//   static cogent::greenlet_local<std::string> request_id;
//   *request_id = "abc";            // this greenlet's value, made on first use
//
// A greenlet's values are destroyed when it dies (on its own stack, before its parent hears of
// it); a main greenlet's when its thread ends.
#pragma once

#include <cstddef>
#include <memory>

namespace cogent {
namespace detail {
std::size_t new_local_key() noexcept;
// The current greenlet's value for `key`, or nullptr.
void* local_find(std::size_t key) noexcept;
// Stores the current greenlet's value for `key`; takes ownership even if it throws.
void local_store(std::size_t key, void* object, void (*destroy)(void*) noexcept);
void local_erase(std::size_t key) noexcept;
}  // namespace detail

template <class T>
class greenlet_local {
public:
    greenlet_local() noexcept : key_(detail::new_local_key()) {}
    greenlet_local(const greenlet_local&) = delete;
    greenlet_local& operator=(const greenlet_local&) = delete;

    // The current greenlet's value, default-constructed the first time it asks.
    T& get() {
        if (void* found = detail::local_find(key_)) return *static_cast<T*>(found);
        auto made = std::make_unique<T>();
        T& value = *made;
        detail::local_store(key_, made.release(), [](void* object) noexcept { delete static_cast<T*>(object); });
        return value;
    }
    // The current greenlet's value if it has one.
    T* get_if() noexcept { return static_cast<T*>(detail::local_find(key_)); }
    // Destroys the current greenlet's value; the next get() makes a new one.
    void reset() noexcept { detail::local_erase(key_); }

    T& operator*() { return get(); }
    T* operator->() { return &get(); }

private:
    std::size_t key_;
};

}  // namespace cogent
