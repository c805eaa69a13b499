// The per-thread greenlet state: its birth, the killing of greenlets nobody refers to, and what
// happens to the greenlets still suspended when the thread ends.
//
// Thread exit: the state's owner is a thread_local whose destructor runs when the thread ends
// (for the main thread, inside exit(), before static destructors). It kills every greenlet of
// the thread that is still suspended, newest first, from the greenlet that is ending the thread,
// so the destructors on their stacks run; then the main greenlet is marked dead. Handles that
// outlive the thread still work: their greenlets are dead.
#include "greenlet/thread_state.hpp"

#include <cxxabi.h>

#include <cerrno>
#include <cstdio>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace cogent::detail {

thread_local constinit switch_state* tls_switch __attribute__((tls_model("initial-exec"))) = nullptr;

namespace {

// Threads with a live state, by id: how a greenlet whose last handle dies on another thread
// finds its own thread to be killed on.
struct registry {
    std::mutex mutex;
    std::unordered_map<std::uint64_t, thread_state*> threads;
    std::uint64_t next_id = 1;
};

registry& threads() {
    static registry* r = new registry;  // never destroyed: threads may end after static destructors
    return *r;
}

// A thread's main greenlet: it runs on the thread's own stack and has no function.
struct main_greenlet final : greenlet_impl {
    using greenlet_impl::greenlet_impl;
    [[noreturn]] void run(message*) override {
        std::fputs("cogent: a main greenlet cannot be started\n", stderr);
        std::abort();
    }
    void discard_function() noexcept override {}
};

struct state_owner {
    thread_state* state = nullptr;
    ~state_owner() { delete state; }
};
thread_local state_owner owner;

// Queues a greenlet on one of a thread's kill lists.
void push_pending(greenlet_impl*& list, greenlet_impl* g) noexcept {
    g->pending_kill = true;
    g->pending_next = list;
    list = g;
}

void report_exception(const char* what_happened, const greenlet_impl* g) noexcept {
    std::string name = display_name(g);
    try {
        throw;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cogent: greenlet '%s' %s %s: %s\n", name.c_str(), what_happened,
                     type_name(typeid(e)).c_str(), e.what());
    } catch (...) {
        std::fprintf(stderr, "cogent: greenlet '%s' %s a non-standard exception\n", name.c_str(), what_happened);
    }
}

}  // namespace

thread_state::thread_state() {
    errno_location = &errno;
    exceptions = reinterpret_cast<exception_globals*>(abi::__cxa_get_globals());
    {
        registry& r = threads();
        std::lock_guard lock(r.mutex);
        id = r.next_id++;
        r.threads.emplace(id, this);
    }
    main = new main_greenlet(this);
    current = main;
}

void kill_all_but_current(thread_state& ts) noexcept {
    // Kill until nothing is left alive but the greenlet ending the thread: a dying greenlet's
    // cleanup may make or wake others.
    for (;;) {
        process_pending_kills(ts);
        std::vector<greenlet_impl*> victims;
        std::size_t in_flight = 0;
        {
            std::lock_guard lock(threads().mutex);
            for (greenlet_impl* g = ts.live_newest; g != nullptr; g = g->live_next) {
                if (g == ts.current || g->survived_kill) continue;
                // A greenlet at zero references is on its way to the remote queue (its last
                // handle is being dropped on another thread): wait for it to arrive there.
                std::size_t refs = g->references.load(std::memory_order_relaxed);
                while (refs != 0 && !g->references.compare_exchange_weak(refs, refs + 1)) {
                }
                if (refs != 0) {
                    victims.push_back(g);
                } else if (!g->pending_kill) {
                    ++in_flight;
                }
            }
        }
        bool pending = ts.needs_attention.load(std::memory_order_acquire);
        if (victims.empty() && !pending) {
            if (in_flight == 0) break;
            std::this_thread::yield();
            continue;
        }
        for (greenlet_impl* g : victims) {
            if (g->state == greenlet_state::started) kill_from_here(ts, g);
            release(g);
        }
    }
}

thread_state::~thread_state() {
    tracing = false;
    trace = nullptr;
    kill_all_but_current(*this);
    {
        std::lock_guard lock(threads().mutex);
        threads().threads.erase(id);
    }
    // The main greenlet's locals die with the thread.
    destroy_locals(main);
    main->state = greenlet_state::dead;
    tls_switch = nullptr;  // first: release() leaves the current greenlet alone
    release(main);
    remove_overflow_guard_for_thread();
}

thread_state& make_thread_state() {
    auto* state = new thread_state;
    owner.state = state;
    tls_switch = state;
    install_overflow_guard_for_thread();
    return *state;
}

bool thread_alive(std::uint64_t id) noexcept {
    registry& r = threads();
    std::lock_guard lock(r.mutex);
    return r.threads.count(id) != 0;
}

void link_live(thread_state& ts, greenlet_impl* g) noexcept {
    g->live_previous = nullptr;
    g->live_next = ts.live_newest;
    if (ts.live_newest != nullptr) ts.live_newest->live_previous = g;
    ts.live_newest = g;
    ++ts.live_count;
}

void unlink_live(thread_state& ts, greenlet_impl* g) noexcept {
    if (g->live_previous != nullptr) {
        g->live_previous->live_next = g->live_next;
    } else {
        ts.live_newest = g->live_next;
    }
    if (g->live_next != nullptr) g->live_next->live_previous = g->live_previous;
    g->live_previous = g->live_next = nullptr;
    --ts.live_count;
}

void kill_from_here(thread_state& ts, greenlet_impl* g) noexcept {
    // Become its parent so that its death comes back here; keep the old parent alive until then.
    greenlet_impl* old_parent = g->parent;
    retain(ts.current);
    g->parent = ts.current;
    try {
        std::exception_ptr error = std::make_exception_ptr(greenlet_exit{});
        message out;
        out.error = &error;
        greenlet_exit exit_value;
        receive<switch_value>(throw_core(g, out, nullptr, exit_value));
    } catch (...) {
        report_exception("raised while being killed:", g);
    }
    if (old_parent != nullptr) release(old_parent);
    if (g->state != greenlet_state::dead && !g->survived_kill) {
        g->survived_kill = true;
        std::fprintf(stderr, "cogent: greenlet '%s' caught greenlet_exit and lived on; it is left "
                             "suspended and its stack is not reclaimed\n", display_name(g).c_str());
    }
}

void queue_kill(thread_state& ts, greenlet_impl* g) noexcept {
    push_pending(ts.pending_kills, g);
    ts.needs_attention.store(true, std::memory_order_relaxed);
}

void process_pending_kills(thread_state& ts) noexcept {
    ts.needs_attention.store(false, std::memory_order_relaxed);
    greenlet_impl* victims = ts.pending_kills;
    ts.pending_kills = nullptr;
    {
        std::lock_guard lock(threads().mutex);
        while (greenlet_impl* g = ts.remote_kills) {
            ts.remote_kills = g->pending_next;
            push_pending(victims, g);
        }
    }
    while (greenlet_impl* g = victims) {
        victims = g->pending_next;
        g->pending_next = nullptr;
        g->pending_kill = false;
        // Nobody refers to it, so nobody else can be touching it: hold it while it dies.
        g->references.fetch_add(1, std::memory_order_relaxed);
        if (g->state == greenlet_state::started && g != ts.current) kill_from_here(ts, g);
        if (g->survived_kill) continue;  // leaked on purpose, and said so
        release(g);
    }
}

void retain(greenlet_impl* g) noexcept { g->references.fetch_add(1, std::memory_order_relaxed); }

void release(greenlet_impl* g) noexcept {
    if (g->references.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    thread_state* ts = existing_thread_state();
    // Running (possibly dying: a trace function may drop the last handle during the final
    // switch): whoever receives its next message deals with it (finish_receive_slow).
    if (ts != nullptr && g == ts->current) return;
    if (g->state != greenlet_state::started || g->is_main) {
        destroy_impl(g);
        return;
    }
    // Its last reference is gone while it is suspended.
    if (ts != nullptr && ts->id == g->thread_id) {
        g->references.store(1, std::memory_order_relaxed);
        kill_from_here(*ts, g);
        if (!g->survived_kill) release(g);
        return;
    }
    // On another thread: queue it for its own thread to kill.
    std::lock_guard lock(threads().mutex);
    auto found = threads().threads.find(g->thread_id);
    if (found == threads().threads.end()) {
        std::fprintf(stderr, "cogent: the last handle of a suspended greenlet was dropped after its "
                             "thread ended; it is leaked\n");
        return;
    }
    push_pending(found->second->remote_kills, g);
    found->second->needs_attention.store(true, std::memory_order_release);
}

void destroy_impl(greenlet_impl* g) noexcept {
    greenlet_impl* parent = g->parent;
    delete g;
    if (parent != nullptr) release(parent);
}

}  // namespace cogent::detail
