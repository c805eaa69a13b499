// A set of tasks handled together: gevent.pool.Group.
//
//   cogent::group workers;
//   for (auto& url : urls) workers.spawn(fetch, url);
//   workers.join();                                       // until every member has finished
//   std::vector<page> pages = workers.map(fetch, urls);   // concurrently, results in input order
//   for (page p : workers.imap_unordered(fetch, urls)) ...  // results as they come
//
// A task leaves the group by itself when it finishes (the group listens for that with a
// completion_listener, synchronously, so size() is never stale). A group does not own its tasks:
// destroying it leaves them running. Like the rest of the sync layer it is cooperative and for the
// greenlets of one thread: no locks.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cogent/detail/task_core.hpp"
#include "cogent/task.hpp"
#include "cogent/time.hpp"
#include "cogent/waiter.hpp"

namespace cogent {

class group;

namespace detail {

// Kills those of `tasks` still running and waits until they have finished, even if the wait is
// interrupted (they may use the caller's frame, so the caller must not leave before them). Gives
// up only if nothing could ever finish them, or the hub is shutting down (which kills them).
void stop_tasks(const std::vector<basic_task>& tasks) noexcept;

// The untyped half of imap_unordered: starts `count` calls through a group as it has room, and
// hands out their indexes in the order they finish. Destroying it stops the calls still running.
class imap_core {
public:
    // Spawns call `index` in the group, waiting for room until `deadline`; empty if none came.
    using spawner = basic_task (*)(void* context, std::size_t index, clock::time_point deadline);
    imap_core(group& owner, std::size_t count, spawner spawn, void* context);
    ~imap_core();
    imap_core(const imap_core&) = delete;
    imap_core& operator=(const imap_core&) = delete;

    // The index of the next call to finish; nullopt once all have been handed out. Throws
    // timeout_error if `timeout` passes first (the calls go on; next() may be called again).
    std::optional<std::size_t> next(duration timeout);
    const basic_task& task(std::size_t index) const { return tasks_[index]; }
    std::size_t size() const noexcept { return count_; }

private:
    static void on_finished(completion_listener* l, task_core& t) noexcept;
    void spawn_more(clock::time_point deadline);

    group& owner_;
    std::size_t count_;
    spawner spawn_;
    void* context_;
    std::vector<basic_task> tasks_;
    std::unique_ptr<completion_listener[]> listeners_;
    std::vector<std::size_t> finished_;  // reserved, so that on_finished never allocates
    std::size_t spawned_ = 0;
    std::size_t delivered_ = 0;
    waiter* waiting_ = nullptr;
};

}  // namespace detail

template <class V>
class imap_unordered_results;

class group {
public:
    group() = default;
    virtual ~group();
    group(const group&) = delete;
    group& operator=(const group&) = delete;

    // Spawns fn(args...) (as cogent::spawn, task_options first if wanted) as a member. A pool
    // waits here, as long as it takes, for room: see try_spawn for a deadline.
    template <class F, class... A>
    auto spawn(F&& fn, A&&... args) {
        return *spawn_until(clock::time_point::max(), std::forward<F>(fn), std::forward<A>(args)...);
    }
    // As spawn, but gives up (nullopt, nothing spawned) if no room comes within `timeout`.
    template <class F, class... A>
    auto try_spawn(duration timeout, F&& fn, A&&... args) {
        return spawn_until(deadline_after(timeout), std::forward<F>(fn), std::forward<A>(args)...);
    }

    // Makes a running task a member (a pool waits for room first). A finished task, or one that
    // is a member already, is left alone.
    void add(const basic_task& t);
    // Forgets a member without touching it (a pool regains its place).
    void discard(const basic_task& t);
    bool contains(const basic_task& t) const;
    std::size_t size() const noexcept { return members_.size(); }
    bool empty() const noexcept { return members_.empty(); }
    // The members, in no particular order.
    std::vector<basic_task> tasks() const;

    // Waits until the group is empty (members spawned meanwhile included) or `timeout` has
    // passed; says whether it is empty. With `raise_error`, rethrows the exception of the first
    // member seen to fail while it waits.
    bool join(duration timeout = forever, bool raise_error = false);
    // Kills every member (with `error`, greenlet_exit if null) and, with `block`, waits up to
    // `timeout` until the group is empty, killing members that join meanwhile too. Says whether
    // it is empty.
    bool kill(std::exception_ptr error = nullptr, bool block = true, duration timeout = forever);

    // fn(item) for every item of `items`, concurrently as members (a pool runs at most its size
    // at once), results in input order. The items are copied (moved from an rvalue range) first.
    // Rethrows the exception of the first call seen to fail, after killing the others and
    // waiting for them; the same if the caller is killed. fn must return a value.
    template <class F, class Range>
    auto map(F&& fn, Range&& items);
    // The same calls, as an iterable of their results in the order they finish (gevent's
    // imap_unordered); see imap_unordered_results.
    template <class F, class Range>
    auto imap_unordered(F&& fn, Range&& items);

    // Whether a spawn would start at once: always, for a group.
    virtual bool has_free_slot() const noexcept { return true; }

protected:
    // Room for one more member, waiting until `deadline` if need be; false if it passed first.
    virtual bool acquire_slot(clock::time_point deadline);
    // Gives back what acquire_slot took: a member finished or left, or a spawn failed.
    virtual void release_slot() noexcept {}

private:
    template <class V>
    friend class imap_unordered_results;
    struct member {
        basic_task task;
        detail::completion_listener listener;
    };

    template <class F, class... A>
    auto spawn_until(clock::time_point deadline, F&& fn, A&&... args)
        -> std::optional<decltype(cogent::spawn(std::forward<F>(fn), std::forward<A>(args)...))> {
        if (!acquire_slot(deadline)) return std::nullopt;
        decltype(cogent::spawn(std::forward<F>(fn), std::forward<A>(args)...)) t;
        try {
            t = cogent::spawn(std::forward<F>(fn), std::forward<A>(args)...);
        } catch (...) {
            release_slot();
            throw;
        }
        adopt(t);
        return t;
    }
    // Makes `t` a member, holding the slot taken for it (given back if `t` cannot join).
    void adopt(const basic_task& t);
    static void on_finished(detail::completion_listener* l, detail::task_core& t) noexcept;

    // unordered_map never moves its elements, so the listeners can stay linked into the tasks.
    std::unordered_map<detail::task_core*, member> members_;
};

// The results of group::imap_unordered, in the order the calls finish. It starts the calls as the
// group has room (a pool: at most its size at once, queueing fairly with other spawners), each
// time more is asked of it. next() rethrows a failed call's exception; the other calls go on, and
// iteration may continue. Destroying it kills the calls still running and waits for them, since
// they may use the caller's frame.
template <class V>
class imap_unordered_results {
public:
    using value_type = V;
    imap_unordered_results(const imap_unordered_results&) = delete;
    imap_unordered_results& operator=(const imap_unordered_results&) = delete;

    // The next result; nullopt when all have been given. Throws timeout_error if `timeout` passes
    // first (the calls go on).
    std::optional<V> next(duration timeout = forever) {
        std::optional<std::size_t> index = core_.next(timeout);
        if (!index) return std::nullopt;
        return take(*index);
    }
    std::size_t size() const noexcept { return core_.size(); }

    class iterator {
    public:
        using value_type = V;
        using difference_type = std::ptrdiff_t;
        iterator() = default;
        explicit iterator(imap_unordered_results* owner) : owner_(owner) { ++*this; }
        V& operator*() const { return *current_; }
        iterator& operator++() {
            current_ = owner_->next();
            return *this;
        }
        void operator++(int) { ++*this; }
        friend bool operator==(const iterator& it, std::default_sentinel_t) { return !it.current_; }

    private:
        imap_unordered_results* owner_ = nullptr;
        mutable std::optional<V> current_;
    };
    iterator begin() { return iterator(this); }
    std::default_sentinel_t end() { return {}; }

private:
    friend class group;
    // What the calls need, shared with them: it lives as long as the last of them.
    template <class F, class Item>
    struct source {
        group* owner;
        F fn;
        std::vector<Item> items;
    };

    template <class F, class Item>
    imap_unordered_results(group& owner, F fn, std::vector<Item> items)
        : source_(std::make_shared<source<F, Item>>(source<F, Item>{&owner, std::move(fn), std::move(items)})),
          core_(owner, static_cast<source<F, Item>*>(source_.get())->items.size(), &spawn_call<F, Item>, &source_) {}

    template <class F, class Item>
    static basic_task spawn_call(void* context, std::size_t index, clock::time_point deadline) {
        auto shared = std::static_pointer_cast<source<F, Item>>(*static_cast<std::shared_ptr<void>*>(context));
        group& owner = *shared->owner;
        auto t = owner.spawn_until(deadline, [shared, index]() -> V {
            return std::invoke(shared->fn, std::move(shared->items[index]));
        });
        return t ? basic_task(std::move(*t)) : basic_task();
    }
    // The value of finished call `index`, or its exception (task_killed if it was killed).
    V take(std::size_t index) {
        detail::task_core* core = core_.task(index).core();
        core->retain();
        return std::move(task<V>(core).get());
    }

    std::shared_ptr<void> source_;
    detail::imap_core core_;  // after source_: destroyed first, stopping the calls
};

template <class F, class Range>
auto group::imap_unordered(F&& fn, Range&& items) {
    using item_type = std::ranges::range_value_t<Range>;
    using value_type = std::decay_t<std::invoke_result_t<std::decay_t<F>&, item_type&&>>;
    static_assert(!std::is_void_v<value_type>, "cogent::group::map/imap_unordered: fn must return a value");
    std::vector<item_type> copied;
    for (auto&& item : items) {
        if constexpr (std::is_lvalue_reference_v<Range>) {
            copied.push_back(item);
        } else {
            copied.push_back(std::move(item));
        }
    }
    return imap_unordered_results<value_type>(*this, std::decay_t<F>(std::forward<F>(fn)), std::move(copied));
}

template <class F, class Range>
auto group::map(F&& fn, Range&& items) {
    auto results = imap_unordered(std::forward<F>(fn), std::forward<Range>(items));
    using value_type = typename decltype(results)::value_type;
    std::vector<std::optional<value_type>> by_index(results.size());
    while (std::optional<std::size_t> index = results.core_.next(forever)) by_index[*index].emplace(results.take(*index));
    std::vector<value_type> values;
    values.reserve(by_index.size());
    for (std::optional<value_type>& value : by_index) values.push_back(std::move(*value));
    return values;
}

}  // namespace cogent
