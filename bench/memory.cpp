// bench_memory: what a million suspended greenlets cost, and whether the kernel lets us have them.
//
// Each greenlet is switched into once and suspends inside its function (it switches back to
// main), so it holds a started stack, exactly like a task parked on I/O. The program reports the
// resident memory this adds per greenlet, the time to create and start them all, the time to
// destroy them (which kills each: greenlet_exit is raised at its suspension point and unwinds),
// and the number of kernel memory mappings. The last matters because the kernel caps a process at
// vm.max_map_count mappings (65530 by default): a stack guard made with mprotect splits each
// stack into two mappings, which caps a process at about 32,700 stacks.
//
// It also looks at where the memory goes: how many pages of each stack are resident (mincore on
// a sample of the stacks) and the resident size of the stack mappings (/proc/self/smaps).
//
// The peer is Boost.Context fibers on protected_fixedsize_stack, the Boost allocator with a guard
// page (made with mprotect): as many as it can make, up to a cap, which keeps it cheap.
//
//   bench_memory [greenlets, default 1000000] [boost fiber attempts, default 100000]
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <boost/context/fiber.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>
#include <cogent/greenlet.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "greenlet/stack.hpp"

namespace {

namespace ctx = boost::context;

const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));

struct snapshot {
    std::size_t rss = bench::rss_bytes();
    std::size_t page_tables = bench::status_kib_field_bytes("VmPTE");
    std::size_t mappings = bench::mapping_count();
};

double per_item(std::size_t after, std::size_t before, std::size_t count) {
    return (static_cast<double>(after) - static_cast<double>(before)) / static_cast<double>(count);
}

double ms(std::int64_t ns) { return static_cast<double>(ns) / 1e6; }

// Resident pages of a greenlet's usable stack, by mincore (which neither faults pages in nor
// counts the guard).
std::size_t resident_stack_pages(const cogent::greenlet& g) {
    const cogent::detail::stack_region& stack = g.impl()->stack;
    std::size_t pages = stack.usable() / page;
    std::vector<unsigned char> residency(pages);
    if (mincore(stack.bottom(), stack.usable(), residency.data()) != 0) return 0;
    return static_cast<std::size_t>(std::count_if(residency.begin(), residency.end(),
                                                  [](unsigned char r) { return (r & 1) != 0; }));
}

// The bytes of a suspended greenlet's stack in use: from the top down to its deepest non-zero
// word. Fresh stack memory is zero, so this is the stack's high-water mark. Only the top
// `resident_pages` pages are read: a stack is touched from the top down, so those are the resident
// ones, and reading them faults nothing in.
std::size_t stack_high_water(const cogent::greenlet& g, std::size_t resident_pages) {
    const cogent::detail::stack_region& stack = g.impl()->stack;
    const auto* top = reinterpret_cast<const std::uint64_t*>(stack.top());
    const std::uint64_t* low = top - resident_pages * page / sizeof(std::uint64_t);
    const std::uint64_t* p = low;
    while (p < top && *p == 0) ++p;
    return static_cast<std::size_t>(reinterpret_cast<const std::byte*>(top) - reinterpret_cast<const std::byte*>(p));
}

// The total Rss, from /proc/self/smaps, of the mappings that hold a stack: those containing one of
// the addresses in `inside` (sorted, one in the usable part of each stack). Other mappings (the
// vector of handles, say) are left out.
std::size_t smaps_rss_of_stacks(const std::vector<std::uintptr_t>& inside) {
    std::ifstream in("/proc/self/smaps");
    std::string line;
    bool holds_a_stack = false;
    std::size_t total = 0;
    while (std::getline(in, line)) {
        unsigned long start = 0, end = 0;
        if (std::sscanf(line.c_str(), "%lx-%lx ", &start, &end) == 2 && line.find(':') > line.find('-')) {
            auto first = std::lower_bound(inside.begin(), inside.end(), start);
            holds_a_stack = first != inside.end() && *first < end;
        } else if (holds_a_stack && line.compare(0, 4, "Rss:") == 0) {
            total += std::stoull(line.substr(4)) * 1024;
        }
    }
    return total;
}

void bench_cogent(std::size_t count) {
    using cogent::detail::guard_method_name;
    using cogent::detail::stack_guard_method;
    std::printf("cogent: %zu greenlets, %zu KiB stacks, guard method: %s\n", count,
                cogent::greenlet::default_stack_size() / 1024, guard_method_name(stack_guard_method()));

    cogent::greenlet main_greenlet = cogent::greenlet::current();
    auto park = [&main_greenlet] { main_greenlet.switch_to(); };
    {
        cogent::greenlet warm_up(park);  // the thread's state and the stack cache exist from here on
        warm_up.switch_to();
    }
    std::vector<cogent::greenlet> greenlets;
    greenlets.reserve(count);

    snapshot before;
    std::int64_t start = bench::now_ns();
    for (std::size_t i = 0; i < count; ++i) {
        greenlets.emplace_back(park);
        greenlets.back().switch_to();
    }
    std::int64_t created = bench::now_ns() - start;
    snapshot after;

    // Where the memory went: a sample of the stacks, and the stack mappings as a whole.
    std::size_t sampled = 0, resident_pages = 0, min_pages = SIZE_MAX, max_pages = 0;
    std::vector<std::size_t> stack_use;
    std::vector<std::uintptr_t> stack_addresses;
    stack_addresses.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        const cogent::detail::stack_region& stack = greenlets[i].impl()->stack;
        stack_addresses.push_back(reinterpret_cast<std::uintptr_t>(stack.top()) - 1);
        if (i % std::max<std::size_t>(1, count / 1000) != 0) continue;
        std::size_t pages = resident_stack_pages(greenlets[i]);
        ++sampled;
        resident_pages += pages;
        min_pages = std::min(min_pages, pages);
        max_pages = std::max(max_pages, pages);
        stack_use.push_back(stack_high_water(greenlets[i], pages));
    }
    std::sort(stack_addresses.begin(), stack_addresses.end());
    std::size_t stack_rss = smaps_rss_of_stacks(stack_addresses);
    std::vector<std::uintptr_t>().swap(stack_addresses);

    start = bench::now_ns();
    greenlets.clear();
    std::int64_t destroyed = bench::now_ns() - start;
    greenlets.shrink_to_fit();
    snapshot end;

    double bytes = per_item(after.rss, before.rss, count);
    std::printf("  RSS added per suspended greenlet:      %8.0f bytes (%.2f KiB)   target <= 4.5 KiB: %s\n",
                bytes, bytes / 1024, bytes <= 4.5 * 1024 ? "met" : "MISSED");
    std::printf("  of which stack pages (smaps Rss):      %8.0f bytes per greenlet\n",
                static_cast<double>(stack_rss) / static_cast<double>(count));
    std::printf("  the rest: a %zu-byte greenlet object on the heap and an %zu-byte handle in the vector\n",
                sizeof(cogent::detail::greenlet_function<decltype(park)>), sizeof(cogent::greenlet));
    std::printf("  page tables added (VmPTE, not in RSS): %8.0f bytes per greenlet\n",
                per_item(after.page_tables, before.page_tables, count));
    std::sort(stack_use.begin(), stack_use.end());
    std::printf("  resident stack pages, %zu sampled:    min %zu, mean %.2f, max %zu\n", sampled, min_pages,
                static_cast<double>(resident_pages) / static_cast<double>(sampled), max_pages);
    std::printf("  stack bytes used (high-water mark):    min %zu, median %zu, max %zu\n", stack_use.front(),
                stack_use[stack_use.size() / 2], stack_use.back());
    std::printf("  create + start:  %8.1f ms (%6.0f ns per greenlet)\n", ms(created),
                static_cast<double>(created) / static_cast<double>(count));
    std::printf("  destroy (kill):  %8.1f ms (%6.0f ns per greenlet)\n", ms(destroyed),
                static_cast<double>(destroyed) / static_cast<double>(count));
    std::printf("  kernel mappings: %zu before, %zu with all greenlets suspended, %zu after destroying them "
                "(vm.max_map_count 65530)\n",
                before.mappings, after.mappings, end.mappings);
    // What is left is memory malloc keeps for reuse, not a leak: malloc_trim hands it back.
    malloc_trim(0);
    std::printf("  RSS after destroying: %.1f MiB above the start; %.1f MiB after malloc_trim (the thread "
                "keeps up to %zu stacks cached)\n",
                per_item(end.rss, before.rss, 1) / (1024.0 * 1024.0),
                per_item(bench::rss_bytes(), before.rss, 1) / (1024.0 * 1024.0), cogent::detail::stack_cache::max_cached);
}

// protected_fixedsize_stack, remembering where each stack's guard page is. Boost mprotects the
// guard and only asserts that this worked, an assert that release builds compile out: when the
// kernel has no mapping left to split the guard off, the fiber silently runs without one.
struct guard_recording_stack {
    ctx::protected_fixedsize_stack inner;
    std::vector<std::uintptr_t>* guards;

    ctx::stack_context allocate() {
        ctx::stack_context stack = inner.allocate();
        guards->push_back(reinterpret_cast<std::uintptr_t>(stack.sp) - stack.size);
        return stack;
    }
    void deallocate(ctx::stack_context& stack) noexcept { inner.deallocate(stack); }
};

// How many of the addresses in `pages` (sorted) lie in a mapping with no access at all.
std::size_t count_inaccessible(const std::vector<std::uintptr_t>& pages) {
    std::ifstream in("/proc/self/maps");
    std::string line;
    std::size_t count = 0;
    while (std::getline(in, line)) {
        unsigned long start = 0, end = 0;
        char permissions[5] = {};
        if (std::sscanf(line.c_str(), "%lx-%lx %4s", &start, &end, permissions) != 3) continue;
        if (std::string(permissions) != "---p") continue;
        auto first = std::lower_bound(pages.begin(), pages.end(), start);
        count += static_cast<std::size_t>(std::lower_bound(first, pages.end(), end) - first);
    }
    return count;
}

void bench_boost(std::size_t attempts) {
    std::size_t stack_size = cogent::greenlet::default_stack_size();
    std::printf("\nboost: up to %zu fibers on protected_fixedsize_stack(%zu KiB), each resumed once and "
                "suspended\n", attempts, stack_size / 1024);
    std::vector<std::uintptr_t> guards;
    guards.reserve(attempts);  // reserved up front: near the end, nothing more can be mapped
    guard_recording_stack allocator{ctx::protected_fixedsize_stack(stack_size), &guards};
    std::vector<ctx::fiber> fibers;
    fibers.reserve(attempts);

    snapshot before;
    std::string failure = "none";
    std::int64_t start = bench::now_ns();
    try {
        for (std::size_t i = 0; i < attempts; ++i) {
            ctx::fiber f(std::allocator_arg, allocator, [](ctx::fiber&& caller) {
                caller = std::move(caller).resume();  // park, as the greenlets do
                return std::move(caller);
            });
            fibers.push_back(std::move(f).resume());
        }
    } catch (const std::exception& e) {
        failure = e.what();  // the kernel refused a mapping: vm.max_map_count
    }
    std::int64_t created = bench::now_ns() - start;
    snapshot after;
    std::size_t made = fibers.size();
    std::sort(guards.begin(), guards.end());
    std::size_t guarded = count_inaccessible(guards);

    start = bench::now_ns();
    fibers.clear();  // each unwinds with boost::context::detail::forced_unwind
    std::int64_t destroyed = bench::now_ns() - start;

    std::printf("  fibers made: %zu of %zu (failure: %s); %zu of them have their guard page\n", made, attempts,
                failure.c_str(), guarded);
    if (made == 0) return;
    std::printf("  RSS added per suspended fiber: %8.0f bytes (%.2f KiB)\n", per_item(after.rss, before.rss, made),
                per_item(after.rss, before.rss, made) / 1024);
    std::printf("  kernel mappings: %zu before, %zu with the fibers suspended\n", before.mappings, after.mappings);
    std::printf("  create + start: %8.1f ms (%6.0f ns per fiber); destroy: %8.1f ms (%6.0f ns per fiber)\n",
                ms(created), static_cast<double>(created) / static_cast<double>(made), ms(destroyed),
                static_cast<double>(destroyed) / static_cast<double>(made));
}

}  // namespace

int main(int argc, char** argv) {
    long count = argc > 1 ? std::atol(argv[1]) : 1'000'000;
    long attempts = argc > 2 ? std::atol(argv[2]) : 100'000;
    if (count < 1 || attempts < 0) {
        std::fprintf(stderr, "usage: %s [greenlets >= 1] [boost fiber attempts >= 0]\n", argv[0]);
        return 2;
    }
    bench_cogent(static_cast<std::size_t>(count));
    // The peer runs second: once it has exhausted the mapping count, little else can be mapped.
    if (attempts > 0) bench_boost(static_cast<std::size_t>(attempts));
    return 0;
}
