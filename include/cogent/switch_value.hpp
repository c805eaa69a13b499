// switch_value: a value of any type received by a switch, for code that does not know in advance
// what the other side will send (Python's switch() returns whatever object arrives).
//
//   cogent::switch_value v = g.switch_to<cogent::switch_value>();
//   if (v.holds<int>()) use(v.get<int>());
//
// Values up to two pointers in size that can be moved without throwing are kept inline; larger
// ones on the heap.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "cogent/errors.hpp"

namespace cogent {

class switch_value {
public:
    switch_value() noexcept = default;
    switch_value(switch_value&& other) noexcept { take(other); }
    switch_value& operator=(switch_value&& other) noexcept {
        if (this != &other) {
            reset();
            take(other);
        }
        return *this;
    }
    switch_value(const switch_value&) = delete;
    switch_value& operator=(const switch_value&) = delete;
    ~switch_value() { reset(); }

    // True when nothing was sent.
    bool empty() const noexcept { return ops_ == nullptr; }
    // The type of what was sent; typeid(void) when nothing was.
    const std::type_info& type() const noexcept { return ops_ ? *ops_->type : typeid(void); }

    template <class T>
    bool holds() const noexcept {
        return ops_ != nullptr && *ops_->type == typeid(T);
    }

    // The value, if it is a T; otherwise switch_type_error naming both types.
    template <class T>
    T& get() & {
        check<T>();
        return *static_cast<T*>(address());
    }
    template <class T>
    const T& get() const& {
        check<T>();
        return *static_cast<const T*>(address());
    }
    template <class T>
    T get() && {
        check<T>();
        return std::move(*static_cast<T*>(address()));
    }

    // The address of the value held, or nullptr when empty.
    void* data() noexcept { return ops_ != nullptr ? address() : nullptr; }

    template <class T>
    T* get_if() noexcept {
        return holds<T>() ? static_cast<T*>(address()) : nullptr;
    }

    // Stores a T, replacing whatever was there.
    template <class T, class... A>
    T& emplace(A&&... args) {
        reset();
        if constexpr (fits_inline<T>) {
            T* object = new (&storage_) T(std::forward<A>(args)...);
            ops_ = inline_ops<T>();
            return *object;
        } else {
            T* object = new T(std::forward<A>(args)...);
            heap_ = object;
            ops_ = heap_ops<T>();
            return *object;
        }
    }

    void reset() noexcept {
        if (ops_ != nullptr) {
            ops_->destroy(*this);
            ops_ = nullptr;
        }
    }

private:
    struct operations {
        const std::type_info* type;
        void (*destroy)(switch_value&) noexcept;
        void (*move)(switch_value& from, switch_value& to) noexcept;
        bool on_heap;
    };

    template <class T>
    static constexpr bool fits_inline = sizeof(T) <= 2 * sizeof(void*) &&
                                        alignof(T) <= alignof(std::max_align_t) &&
                                        std::is_nothrow_move_constructible_v<T>;

    template <class T>
    static void destroy_inline(switch_value& self) noexcept {
        std::launder(reinterpret_cast<T*>(&self.storage_))->~T();
    }
    template <class T>
    static void move_inline(switch_value& from, switch_value& to) noexcept {
        T* source = std::launder(reinterpret_cast<T*>(&from.storage_));
        new (&to.storage_) T(std::move(*source));
        source->~T();
    }
    template <class T>
    static void destroy_heap(switch_value& self) noexcept {
        delete static_cast<T*>(self.heap_);
    }
    static void move_heap(switch_value& from, switch_value& to) noexcept { to.heap_ = from.heap_; }

    template <class T>
    static const operations* inline_ops() noexcept {
        static constexpr operations ops{&typeid(T), &destroy_inline<T>, &move_inline<T>, false};
        return &ops;
    }
    template <class T>
    static const operations* heap_ops() noexcept {
        static constexpr operations ops{&typeid(T), &destroy_heap<T>, &move_heap, true};
        return &ops;
    }

    template <class T>
    void check() const {
        if (!holds<T>()) throw switch_type_error(type_name(typeid(T)), type_name(type()));
    }

    void* address() const noexcept {
        return ops_->on_heap ? heap_ : const_cast<void*>(static_cast<const void*>(&storage_));
    }

    void take(switch_value& other) noexcept {
        if (other.ops_ == nullptr) return;
        other.ops_->move(other, *this);
        ops_ = other.ops_;
        other.ops_ = nullptr;
    }

    const operations* ops_ = nullptr;
    union {
        alignas(std::max_align_t) std::byte storage_[2 * sizeof(void*)];
        void* heap_;
    };
};

}  // namespace cogent
