// Unguarded greenlet stacks carved from shared mappings: the last resort when the kernel has no
// mappings left for stacks with a guard each (no MADV_GUARD_INSTALL, and the mprotect budget in
// stack.cpp is spent, or mmap itself is refused). Many stacks share one mapping, so they cost no
// further kernel mappings; they are never unmapped, only returned to a process-wide free list with
// their memory given back. That they have no guard is said once on stderr.
#include <sys/mman.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "greenlet/stack.hpp"

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define COGENT_HAVE_VALGRIND 1
#endif

namespace cogent::detail {
namespace {

std::once_flag shared_mapping_warning;

// Unguarded stacks carved from shared mappings, for when the kernel has no mappings left.
struct shared_stacks {
    static constexpr std::size_t per_mapping = 64;
    std::mutex mutex;
    std::vector<std::pair<std::size_t, std::vector<std::byte*>>> free;  // by usable size

    std::vector<std::byte*>& free_of(std::size_t usable) {
        for (auto& entry : free) {
            if (entry.first == usable) return entry.second;
        }
        free.emplace_back(usable, std::vector<std::byte*>{});
        return free.back().second;
    }
};

shared_stacks& shared() {
    static auto* stacks = new shared_stacks;  // outlives every thread's stack cache
    return *stacks;
}

}  // namespace

stack_region carve_shared_stack(std::size_t usable, int refusal) {
    std::call_once(shared_mapping_warning, [refusal] {
        std::fprintf(stderr,
                     "cogent: no memory mappings left for guarded greenlet stacks (%s; without "
                     "MADV_GUARD_INSTALL each guard costs a mapping and vm.max_map_count caps them); "
                     "further greenlet stacks share mappings and have no guard page\n",
                     refusal == ENOMEM ? "mapping budget used" : std::strerror(refusal));
    });
    shared_stacks& stacks = shared();
    std::lock_guard lock(stacks.mutex);
    std::vector<std::byte*>& free = stacks.free_of(usable);
    if (free.empty()) {
        std::size_t bytes = usable * shared_stacks::per_mapping;
        void* memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
        if (memory == MAP_FAILED) {
            throw std::system_error(errno, std::generic_category(),
                                    "cogent: cannot map greenlet stacks of " + std::to_string(usable) + " bytes");
        }
        madvise(memory, bytes, MADV_NOHUGEPAGE);
        free.reserve(free.size() + shared_stacks::per_mapping);
        for (std::size_t i = 0; i < shared_stacks::per_mapping; ++i) {
            free.push_back(static_cast<std::byte*>(memory) + i * usable);
        }
    }
    stack_region stack;
    stack.base = free.back();
    free.pop_back();
    stack.size = usable;
    stack.guard = 0;
    stack.shared_mapping = true;
#ifdef COGENT_HAVE_VALGRIND
    stack.valgrind_id = VALGRIND_STACK_REGISTER(stack.bottom(), stack.top());
#endif
    return stack;
}

void return_shared_stack(stack_region& stack) noexcept {
#ifdef COGENT_HAVE_VALGRIND
    VALGRIND_STACK_DEREGISTER(stack.valgrind_id);
#endif
    madvise(stack.base, stack.size, MADV_DONTNEED);
    shared_stacks& stacks = shared();
    std::lock_guard lock(stacks.mutex);
    try {
        stacks.free_of(stack.size).push_back(stack.base);
    } catch (...) {
        // Without room to remember it, the range stays mapped and unused; its memory is returned.
    }
    stack = stack_region{};
}

}  // namespace cogent::detail
