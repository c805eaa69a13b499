// Telling AddressSanitizer about every stack switch, so that it checks the right stack and its
// detect_stack_use_after_return fake stacks follow each greenlet. Compiled away without ASan.
// (Valgrind needs no per-switch call: each stack is registered once when mapped, in stack.cpp.)
#pragma once

#include <cstddef>

#include "cogent/detail/greenlet_impl.hpp"

#include "cogent/detail/config.hpp"

#ifdef COGENT_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace cogent::detail {

// Before jumping to `target`. `fake_stack_save` is null when the leaving greenlet has finished,
// which lets ASan free its fake stack.
inline void sanitizer_leaving([[maybe_unused]] void** fake_stack_save,
                              [[maybe_unused]] const greenlet_impl* target) noexcept {
#ifdef COGENT_ASAN
    __sanitizer_start_switch_fiber(fake_stack_save, target->sanitizer_stack_bottom, target->sanitizer_stack_size);
#endif
}

// Just after arriving from `from`. A main greenlet's stack bounds are learned here, the first time
// something switches away from it.
inline void sanitizer_arrived([[maybe_unused]] void* fake_stack, [[maybe_unused]] greenlet_impl* from) noexcept {
#ifdef COGENT_ASAN
    const void* bottom = nullptr;
    std::size_t size = 0;
    __sanitizer_finish_switch_fiber(fake_stack, &bottom, &size);
    if (from->sanitizer_stack_bottom == nullptr) {
        from->sanitizer_stack_bottom = bottom;
        from->sanitizer_stack_size = size;
    }
#endif
}

// A stack may still carry the redzones of an earlier greenlet's frames that never returned (the
// final switch leaves them in place). Clear them, or the next greenlet trips over them.
inline void sanitizer_forget_frames([[maybe_unused]] const stack_region& stack) noexcept {
#ifdef COGENT_ASAN
    __asan_unpoison_memory_region(stack.bottom(), stack.usable());
#endif
}

}  // namespace cogent::detail
