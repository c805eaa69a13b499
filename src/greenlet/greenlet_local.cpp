// Greenlet-local storage: each greenlet has a table of values indexed by key, made on first use.
#include <atomic>
#include <vector>

#include "cogent/greenlet_local.hpp"
#include "greenlet/thread_state.hpp"

namespace cogent::detail {

struct local_table {
    struct slot {
        void* object = nullptr;
        void (*destroy)(void*) noexcept = nullptr;
    };
    std::vector<slot> slots;
};

namespace {
std::atomic<std::size_t> next_key{0};
}

std::size_t new_local_key() noexcept { return next_key.fetch_add(1, std::memory_order_relaxed); }

void* local_find(std::size_t key) noexcept {
    local_table* table = this_thread().current->locals;
    if (table == nullptr || key >= table->slots.size()) return nullptr;
    return table->slots[key].object;
}

void local_store(std::size_t key, void* object, void (*destroy)(void*) noexcept) {
    greenlet_impl* g = this_thread().current;
    try {
        if (g->locals == nullptr) g->locals = new local_table;
        if (key >= g->locals->slots.size()) g->locals->slots.resize(key + 1);
    } catch (...) {
        destroy(object);
        throw;
    }
    local_table::slot& slot = g->locals->slots[key];
    if (slot.object != nullptr) slot.destroy(slot.object);
    slot = {object, destroy};
}

void local_erase(std::size_t key) noexcept {
    local_table* table = this_thread().current->locals;
    if (table == nullptr || key >= table->slots.size()) return;
    local_table::slot slot = table->slots[key];
    table->slots[key] = {};
    if (slot.object != nullptr) slot.destroy(slot.object);
}

void destroy_locals(greenlet_impl* g) noexcept {
    // A destructor may use another greenlet_local and make a new table: loop until none is left.
    while (local_table* table = g->locals) {
        g->locals = nullptr;
        for (local_table::slot& slot : table->slots) {
            if (slot.object != nullptr) slot.destroy(slot.object);
        }
        delete table;
    }
}

}  // namespace cogent::detail
