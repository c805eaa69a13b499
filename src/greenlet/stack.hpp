// Greenlet stacks: mmap'd, a guard below each, recycled through a per-thread cache.
#pragma once

#include <cstddef>
#include <vector>

#include "cogent/detail/greenlet_impl.hpp"

namespace cogent::detail {

// How the guard below each stack is made.
enum class guard_method {
    madvise_guard,  // MADV_GUARD_INSTALL (Linux 6.13+): a guard that does not split the mapping
    mprotect,       // a PROT_NONE page: one more kernel mapping per stack
    none,           // guards disabled by COGENT_STACK_GUARD=none (reported once on stderr)
};

// The method in use: COGENT_STACK_GUARD=madvise|mprotect|none chooses; by default the best the
// kernel offers.
guard_method stack_guard_method() noexcept;
// Overrides the choice for stacks mapped from now on (for tests of each method).
void force_stack_guard_method(guard_method method) noexcept;
const char* guard_method_name(guard_method method) noexcept;

std::size_t page_size() noexcept;
std::size_t default_stack_size() noexcept;
// The usable size a request for `usable` bytes gets: the default for 0, at least 16 KiB, whole
// pages.
std::size_t normalized_stack_size(std::size_t usable) noexcept;

// Maps a stack with at least `usable` bytes (0: the default), with a guard below it.
// Throws std::system_error when the kernel refuses the mapping.
stack_region map_stack(std::size_t usable);
// Unmaps it. If the kernel cannot split the mapping (vm.max_map_count), the stack's memory is
// returned with MADV_DONTNEED instead and the address range kept for reuse.
void unmap_stack(stack_region& stack) noexcept;

// The last resort, in shared_stacks.cpp: an unguarded stack carved from a mapping shared with
// other stacks, after the kernel refused a guarded one with `refusal` (an errno). Says once on
// stderr that stacks go unguarded from now on.
stack_region carve_shared_stack(std::size_t usable, int refusal);
// Returns such a stack to the shared free list, giving its memory back.
void return_shared_stack(stack_region& stack) noexcept;

// Stacks of this thread that are free for reuse. Bounded: beyond the bound, stacks are unmapped.
class stack_cache {
public:
    stack_cache() = default;
    stack_cache(const stack_cache&) = delete;
    stack_cache& operator=(const stack_cache&) = delete;
    ~stack_cache();

    stack_region take(std::size_t usable);
    void give_back(stack_region& stack) noexcept;

    static constexpr std::size_t max_cached = 256;

private:
    struct bucket {
        std::size_t size;
        std::vector<stack_region> stacks;
    };
    std::vector<bucket> buckets_;
    std::size_t cached_ = 0;
};

}  // namespace cogent::detail
