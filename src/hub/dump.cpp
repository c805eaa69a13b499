// dump_greenlets: every greenlet of this thread and what it is doing. The format is documented,
// and promised stable, in include/cogent/observability.hpp.
//
// Where the greenlets are found: the thread's main greenlet, its list of started live greenlets
// (the hub's among them), and the hub's run queue, whose nodes for greenlets not yet started are
// tasks waiting to start. What each one is doing is read from the hub layer's own bookkeeping: a
// parked greenlet's `parked_on` names its waiter, and a greenlet on the run queue is ready.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ostream>
#include <string>
#include <unordered_set>
#include <vector>

#include "cogent/observability.hpp"
#include "cogent/waiter.hpp"
#include "greenlet/thread_state.hpp"
#include "hub/hub_impl.hpp"

namespace cogent {
namespace {

enum class category { running, ready, waiting, suspended, unstarted, hub };

struct entry {
    std::uint64_t id;
    std::string name;
    std::string state;
    category kind;
};

std::string time_left(clock::time_point deadline) {
    duration left = deadline - clock::now();
    if (left <= duration::zero()) return "overdue";
    char text[32];
    double ms = std::chrono::duration<double, std::milli>(left).count();
    if (ms >= 1000) {
        std::snprintf(text, sizeof text, "%.3f s", ms / 1000);
    } else {
        std::snprintf(text, sizeof text, "%.1f ms", ms);
    }
    return text;
}

entry describe(const detail::thread_state& ts, const detail::hub_impl* h,
               const std::unordered_set<const detail::greenlet_impl*>& queued, const detail::greenlet_impl* g) {
    entry e{g->id, detail::display_name(g), {}, category::suspended};
    const auto* parked = static_cast<const waiter*>(g->parked_on);
    if (g == ts.current) {
        e.kind = category::running;
        e.state = "running";
    } else if (h != nullptr && g == h->hub_greenlet) {
        e.kind = category::hub;
        e.state = g->state == detail::greenlet_state::unstarted ? "hub loop (not started yet)" : "hub loop";
    } else if (g->state == detail::greenlet_state::unstarted) {
        e.kind = category::unstarted;
        e.state = "unstarted";
    } else if (parked != nullptr && parked->woken()) {
        e.kind = category::ready;
        e.state = std::string("ready (woken from ") + parked->what() + ")";
    } else if (parked != nullptr) {
        e.kind = category::waiting;
        e.state = std::string("waiting on ") + parked->what();
        if (clock::time_point deadline = parked->deadline(); deadline != clock::time_point::max()) {
            e.state += " (" + time_left(deadline) + " left)";
        }
    } else if (queued.count(g) != 0) {
        e.kind = category::ready;  // it yielded
        e.state = "ready";
    } else {
        e.state = "suspended";
    }
    return e;
}

std::string plural(std::size_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

void dump_greenlets(std::ostream& out) {
    const detail::thread_state* ts = detail::existing_thread_state();
    if (ts == nullptr) {
        out << "cogent: 0 greenlets on this thread (it has not used greenlets)\n";
        return;
    }
    const detail::hub_impl* h = detail::hub_impl::existing();

    std::vector<const detail::greenlet_impl*> all{ts->main};
    for (const detail::greenlet_impl* g = ts->live_newest; g != nullptr; g = g->live_next) all.push_back(g);
    std::unordered_set<const detail::greenlet_impl*> queued;
    if (h != nullptr) {
        // The hub has no stack until something first waits, and is then on the live list.
        if (h->hub_greenlet->state == detail::greenlet_state::unstarted) all.push_back(h->hub_greenlet);
        h->ready.for_each([&](const detail::run_node* n) {
            queued.insert(n->greenlet);
            // A task queued to start is on no other list: its greenlet has no stack yet.
            if (n->greenlet->state == detail::greenlet_state::unstarted) all.push_back(n->greenlet);
        });
    }

    std::vector<entry> entries;
    entries.reserve(all.size());
    for (const detail::greenlet_impl* g : all) entries.push_back(describe(*ts, h, queued, g));
    std::sort(entries.begin(), entries.end(), [](const entry& a, const entry& b) { return a.id < b.id; });

    std::size_t id_width = 0;
    std::size_t name_width = 0;
    std::size_t counts[6] = {};
    for (const entry& e : entries) {
        id_width = std::max(id_width, std::to_string(e.id).size());
        name_width = std::max(name_width, e.name.size());
        ++counts[static_cast<int>(e.kind)];
    }
    name_width = std::min<std::size_t>(name_width, 32);  // one long name must not push every state off screen

    out << "cogent: " << plural(entries.size(), "greenlet", "greenlets") << " on this thread\n";
    for (const entry& e : entries) {
        std::string id = std::to_string(e.id);
        std::string line = "  #" + id + std::string(id_width - id.size(), ' ') + "  " + e.name;
        if (e.name.size() < name_width) line.append(name_width - e.name.size(), ' ');
        out << line << "  " << e.state << '\n';
    }
    out << "cogent: " << counts[0] << " running, " << counts[1] << " ready, " << counts[2] << " waiting, " << counts[3]
        << " suspended, " << counts[4] << " unstarted; ";
    if (h == nullptr) {
        out << "no hub\n";
        return;
    }
    out << to_string(h->options().backend.value_or(backend_kind::epoll)) << " backend, "
        << plural(h->timer_count(), "timer", "timers") << ", " << plural(h->fd_waits(), "fd wait", "fd waits")
        << ", " << plural(h->holds, "job out", "jobs out") << '\n';
}

}  // namespace cogent
