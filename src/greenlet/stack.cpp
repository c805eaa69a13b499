// Greenlet stacks.
//
// Each stack is its own anonymous mapping: [guard][usable stack ......][top]. Adjacent mappings
// with the same flags merge into one kernel VMA, so a million stacks need not cost a million
// VMAs, provided the guard does not split the mapping. MADV_GUARD_INSTALL (Linux 6.13) installs
// guard markers in the page tables without splitting anything; an mprotect'd guard page splits
// every stack into two VMAs and vm.max_map_count (65530 by default) then caps a process at about
// 32,700 stacks. So: MADV_GUARD_INSTALL where the kernel has it, mprotect otherwise.
//
// mprotect guards are budgeted: they may use up to half of vm.max_map_count (a quarter as many
// stacks), leaving the rest to the program (malloc, threads, libraries all need mappings too).
// Beyond the budget, or when the kernel refuses a mapping, a new stack is carved from a shared
// mapping of many stacks, without a guard, and that is said once on stderr (shared_stacks.cpp).
//
// MAP_NORESERVE: only touched pages cost memory, and a million 64 KiB stacks must not be charged
// 64 GiB of commit. MADV_NOHUGEPAGE: a huge page would make each touched stack cost 2 MiB.
#include "greenlet/stack.hpp"

#include "cogent/detail/config.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <system_error>

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define COGENT_HAVE_VALGRIND 1
#endif

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

namespace cogent::detail {
namespace {

constexpr std::size_t minimum_stack = 16 * 1024;

#ifdef COGENT_ASAN
constexpr std::size_t sanitizer_stack_factor = 4;  // redzones make AddressSanitizer frames larger
#else
constexpr std::size_t sanitizer_stack_factor = 1;
#endif

std::atomic<int> chosen_method{-1};
std::once_flag no_guard_warning;

guard_method choose_method() noexcept {
    const char* wanted = std::getenv("COGENT_STACK_GUARD");
    if (wanted != nullptr && std::strcmp(wanted, "mprotect") == 0) return guard_method::mprotect;
    if (wanted != nullptr && std::strcmp(wanted, "none") == 0) {
        std::call_once(no_guard_warning, [] {
            std::fputs("cogent: COGENT_STACK_GUARD=none: greenlet stacks have no guard page; an "
                       "overflow will corrupt memory silently\n", stderr);
        });
        return guard_method::none;
    }
    if (wanted != nullptr && *wanted != '\0' && std::strcmp(wanted, "madvise") != 0) {
        std::fprintf(stderr, "cogent: COGENT_STACK_GUARD=%s is not one of madvise, mprotect, none; "
                             "using the default\n", wanted);
    }
    // Probe MADV_GUARD_INSTALL on a scratch mapping.
    std::size_t page = page_size();
    void* probe = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (probe == MAP_FAILED) return guard_method::mprotect;
    bool works = madvise(probe, page, MADV_GUARD_INSTALL) == 0;
    munmap(probe, 2 * page);
    return works ? guard_method::madvise_guard : guard_method::mprotect;
}

std::atomic<std::size_t> split_guards{0};

// How many mprotect-guarded stacks the process may have: each costs about two kernel mappings.
std::size_t split_guard_budget() noexcept {
    static const std::size_t budget = [] {
        std::size_t max_map_count = 65530;
        if (FILE* file = std::fopen("/proc/sys/vm/max_map_count", "r")) {
            unsigned long value = 0;
            if (std::fscanf(file, "%lu", &value) == 1 && value > 0) max_map_count = value;
            std::fclose(file);
        }
        return max_map_count / 4;
    }();
    return budget;
}

// Returns 0, or the errno of the kernel's refusal.
int install_guard(std::byte* base, std::size_t guard) noexcept {
    guard_method method = stack_guard_method();
    if (method == guard_method::madvise_guard) {
        if (madvise(base, guard, MADV_GUARD_INSTALL) == 0) return 0;
        // Refused after the probe worked (a seccomp filter, say): mprotect from now on.
        chosen_method.store(static_cast<int>(guard_method::mprotect), std::memory_order_relaxed);
        method = guard_method::mprotect;
    }
    if (method == guard_method::mprotect) {
        if (split_guards.fetch_add(1, std::memory_order_relaxed) >= split_guard_budget()) {
            split_guards.fetch_sub(1, std::memory_order_relaxed);
            return ENOMEM;
        }
        if (mprotect(base, guard, PROT_NONE) != 0) {
            split_guards.fetch_sub(1, std::memory_order_relaxed);
            return errno;
        }
    }
    return 0;
}

}  // namespace

std::size_t page_size() noexcept {
    static const std::size_t size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    return size;
}

std::size_t default_stack_size() noexcept { return 64 * 1024 * sanitizer_stack_factor; }

guard_method stack_guard_method() noexcept {
    int method = chosen_method.load(std::memory_order_relaxed);
    if (method < 0) {
        method = static_cast<int>(choose_method());
        int expected = -1;
        if (!chosen_method.compare_exchange_strong(expected, method)) method = expected;
    }
    return static_cast<guard_method>(method);
}

void force_stack_guard_method(guard_method method) noexcept {
    chosen_method.store(static_cast<int>(method), std::memory_order_relaxed);
}

const char* guard_method_name(guard_method method) noexcept {
    switch (method) {
    case guard_method::madvise_guard: return "madvise";
    case guard_method::mprotect: return "mprotect";
    case guard_method::none: return "none";
    }
    return "?";
}

std::size_t normalized_stack_size(std::size_t usable) noexcept {
    std::size_t page = page_size();
    if (usable == 0) usable = default_stack_size();
    if (usable < minimum_stack) usable = minimum_stack;
    return (usable + page - 1) / page * page;
}

stack_region map_stack(std::size_t usable) {
    std::size_t page = page_size();
    usable = normalized_stack_size(usable);
    std::size_t guard = stack_guard_method() == guard_method::none ? 0 : page;
    std::size_t size = usable + guard;
    void* memory = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (memory == MAP_FAILED) {
        int refusal = errno;
        if (refusal == ENOMEM) return carve_shared_stack(usable, refusal);  // out of mappings
        throw std::system_error(refusal, std::generic_category(),
                                "cogent: cannot map a greenlet stack of " + std::to_string(usable) + " bytes");
    }
    stack_region stack;
    stack.base = static_cast<std::byte*>(memory);
    stack.size = size;
    stack.guard = guard;
    madvise(memory, size, MADV_NOHUGEPAGE);
    if (guard != 0) {
        if (int refusal = install_guard(stack.base, guard); refusal != 0) {
            munmap(memory, size);
            return carve_shared_stack(usable, refusal);
        }
        stack.split_guard = stack_guard_method() == guard_method::mprotect;
    }
#ifdef COGENT_HAVE_VALGRIND
    stack.valgrind_id = VALGRIND_STACK_REGISTER(stack.bottom(), stack.top());
#endif
    return stack;
}

void unmap_stack(stack_region& stack) noexcept {
    if (stack.base == nullptr) return;
    if (stack.shared_mapping) {
        return_shared_stack(stack);
        return;
    }
#ifdef COGENT_HAVE_VALGRIND
    VALGRIND_STACK_DEREGISTER(stack.valgrind_id);
#endif
    if (stack.split_guard) split_guards.fetch_sub(1, std::memory_order_relaxed);
    if (munmap(stack.base, stack.size) != 0) {
        // Unmapping from the middle of a merged mapping needs a new VMA; when the map count is
        // exhausted the kernel refuses. Give the memory back and leave the range mapped.
        madvise(stack.bottom(), stack.usable(), MADV_DONTNEED);
    }
    stack = stack_region{};
}

stack_cache::~stack_cache() {
    for (bucket& b : buckets_) {
        for (stack_region& stack : b.stacks) unmap_stack(stack);
    }
}

stack_region stack_cache::take(std::size_t usable) {
    usable = normalized_stack_size(usable);
    for (bucket& b : buckets_) {
        if (b.size == usable && !b.stacks.empty()) {
            stack_region stack = b.stacks.back();
            b.stacks.pop_back();
            --cached_;
            return stack;
        }
    }
    return map_stack(usable);
}

void stack_cache::give_back(stack_region& stack) noexcept {
    if (stack.base == nullptr) return;
    if (cached_ < max_cached) {
        for (bucket& b : buckets_) {
            if (b.size == stack.usable()) {
                try {
                    b.stacks.push_back(stack);
                } catch (...) {
                    break;
                }
                ++cached_;
                stack = stack_region{};
                return;
            }
        }
        try {
            buckets_.push_back(bucket{stack.usable(), {}});
            buckets_.back().stacks.reserve(16);
            buckets_.back().stacks.push_back(stack);
            ++cached_;
            stack = stack_region{};
            return;
        } catch (...) {
        }
    }
    unmap_stack(stack);
}

}  // namespace cogent::detail
