// The fd table (see fd_table.hpp).
#include "hooks/fd_table.hpp"

#include <sys/mman.h>

#include <cstddef>
#include <new>

namespace cogent::hooks::fd_table {

namespace {

// fds: 256 chunks of 4096 slots, each slot the index + 1 of a state (0: untracked).
constexpr std::size_t chunk_bits = 12;
constexpr std::size_t chunk_size = std::size_t{1} << chunk_bits;
constexpr std::size_t chunk_count = 256;
using chunk = std::atomic<std::uint32_t>[chunk_size];
constinit std::atomic<std::atomic<std::uint32_t>*> chunks[chunk_count]{};

// States: slabs of 4096, indexed the same way.
constexpr std::size_t slab_count = 256;
constinit std::atomic<socket_state*> slabs[slab_count]{};
constinit std::atomic<std::uint32_t> slabs_made{0};
// The free list: index + 1 of its head in the low half, a change count in the high half (so that
// a pop racing with a pop and a push of the same state cannot succeed on a stale next).
constinit std::atomic<std::uint64_t> free_head{0};
constinit std::atomic_flag growing = ATOMIC_FLAG_INIT;

void* map(std::size_t bytes) noexcept {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? nullptr : p;
}

socket_state* state_at(std::uint32_t index_plus_one) noexcept {
    std::uint32_t i = index_plus_one - 1;
    return slabs[i >> chunk_bits].load(std::memory_order_acquire) + (i & (chunk_size - 1));
}

void push_free(std::uint32_t index_plus_one) noexcept {
    socket_state* s = state_at(index_plus_one);
    std::uint64_t head = free_head.load(std::memory_order_relaxed);
    do {
        s->next_free = static_cast<std::uint32_t>(head);
    } while (!free_head.compare_exchange_weak(head, ((head >> 32) + 1) << 32 | index_plus_one,
                                              std::memory_order_release, std::memory_order_relaxed));
}

std::uint32_t pop_free() noexcept {
    std::uint64_t head = free_head.load(std::memory_order_acquire);
    for (;;) {
        auto index_plus_one = static_cast<std::uint32_t>(head);
        if (index_plus_one == 0) return 0;
        std::uint32_t next = state_at(index_plus_one)->next_free;
        if (free_head.compare_exchange_weak(head, ((head >> 32) + 1) << 32 | next, std::memory_order_acquire,
                                            std::memory_order_acquire)) {
            return index_plus_one;
        }
    }
}

// A new slab of states, all put on the free list. One thread grows at a time (the others spin
// briefly); growth happens only in socket() and accept(), never in close().
bool grow() noexcept {
    if (growing.test_and_set(std::memory_order_acquire)) {
        while (growing.test(std::memory_order_acquire)) {
        }
        return true;  // whoever grew has filled the list; try it again
    }
    std::uint32_t n = slabs_made.load(std::memory_order_relaxed);
    bool grew = false;
    if (n < slab_count) {
        if (auto* slab = static_cast<socket_state*>(map(sizeof(socket_state) * chunk_size))) {
            for (std::size_t i = 0; i < chunk_size; ++i) new (slab + i) socket_state;
            slabs[n].store(slab, std::memory_order_release);
            slabs_made.store(n + 1, std::memory_order_relaxed);
            for (std::size_t i = chunk_size; i > 0; --i) push_free(static_cast<std::uint32_t>(n * chunk_size + i));
            grew = true;
        }
    }
    growing.clear(std::memory_order_release);
    return grew;
}

std::atomic<std::uint32_t>* slot(int fd, bool make) noexcept {
    if (fd < 0) return nullptr;
    auto f = static_cast<std::size_t>(fd);
    std::size_t c = f >> chunk_bits;
    if (c >= chunk_count) return nullptr;
    std::atomic<std::uint32_t>* table = chunks[c].load(std::memory_order_acquire);
    if (table == nullptr) {
        if (!make) return nullptr;
        auto* fresh = static_cast<std::atomic<std::uint32_t>*>(map(sizeof(chunk)));
        if (fresh == nullptr) return nullptr;
        for (std::size_t i = 0; i < chunk_size; ++i) new (fresh + i) std::atomic<std::uint32_t>(0);
        if (chunks[c].compare_exchange_strong(table, fresh, std::memory_order_acq_rel)) {
            table = fresh;
        } else {
            ::munmap(fresh, sizeof(chunk));  // another thread made it first
        }
    }
    return table + (f & (chunk_size - 1));
}

void release(std::uint32_t index_plus_one) noexcept {
    if (index_plus_one == 0) return;
    if (state_at(index_plus_one)->references.fetch_sub(1, std::memory_order_acq_rel) == 1) push_free(index_plus_one);
}

}  // namespace

socket_state* find(int fd) noexcept {
    std::atomic<std::uint32_t>* s = slot(fd, false);
    if (s == nullptr) return nullptr;
    std::uint32_t index_plus_one = s->load(std::memory_order_acquire);
    return index_plus_one == 0 ? nullptr : state_at(index_plus_one);
}

void track(int fd, bool user_nonblocking, bool stream) noexcept {
    std::atomic<std::uint32_t>* s = slot(fd, true);
    if (s == nullptr) return;
    std::uint32_t index_plus_one = pop_free();
    while (index_plus_one == 0) {
        if (!grow()) return;  // out of states or memory: the socket stays untracked
        index_plus_one = pop_free();
    }
    socket_state* state = state_at(index_plus_one);
    state->flags.store((user_nonblocking ? socket_state::user_nonblocking : 0) | (stream ? socket_state::stream : 0),
                       std::memory_order_relaxed);
    state->receive_timeout.store(0, std::memory_order_relaxed);
    state->send_timeout.store(0, std::memory_order_relaxed);
    state->references.store(1, std::memory_order_relaxed);
    release(s->exchange(index_plus_one, std::memory_order_acq_rel));
}

void share(int from, int to) noexcept {
    std::atomic<std::uint32_t>* source = slot(from, false);
    std::uint32_t index_plus_one = source == nullptr ? 0 : source->load(std::memory_order_acquire);
    if (index_plus_one == 0) {
        forget(to);
        return;
    }
    std::atomic<std::uint32_t>* target = slot(to, true);
    if (target == nullptr) return;
    state_at(index_plus_one)->references.fetch_add(1, std::memory_order_relaxed);
    release(target->exchange(index_plus_one, std::memory_order_acq_rel));
}

void forget(int fd) noexcept {
    if (std::atomic<std::uint32_t>* s = slot(fd, false)) release(s->exchange(0, std::memory_order_acq_rel));
}

}  // namespace cogent::hooks::fd_table
