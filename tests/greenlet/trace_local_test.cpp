// greenlet::set_trace (the events it reports, the previous function it returns, a throwing trace
// function) and greenlet_local<T> (one value per greenlet, destroyed when the greenlet dies or
// its thread ends, reset()).
#include <gtest/gtest.h>

#include <cogent/greenlet.hpp>
#include <cogent/greenlet_local.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using cogent::greenlet;
using cogent::trace_event;

struct traced {
    trace_event event;
    std::uint64_t origin;
    std::uint64_t target;
    bool operator==(const traced&) const = default;
};

// Installs a trace function recording into `log` for the scope; restores the previous one.
class trace_scope {
public:
    explicit trace_scope(std::vector<traced>& log)
        : previous_(greenlet::set_trace([&log](trace_event e, const greenlet& origin, const greenlet& target) {
              log.push_back({e, origin.id(), target.id()});
          })) {}
    explicit trace_scope(greenlet::trace_function f) : previous_(greenlet::set_trace(std::move(f))) {}
    trace_scope(const trace_scope&) = delete;
    trace_scope& operator=(const trace_scope&) = delete;
    ~trace_scope() { greenlet::set_trace(std::move(previous_)); }

private:
    greenlet::trace_function previous_;
};

TEST(Trace, ReportsSwitchesIncludingTheDeathSwitch) {
    greenlet main_g = greenlet::current();
    std::vector<traced> log;
    greenlet g([&](int x) { return main_g.switch_to<int>(x) + 1; });
    const std::uint64_t m = main_g.id(), id = g.id();
    {
        trace_scope scope(log);
        EXPECT_EQ(g.switch_to<int>(1), 1);
        EXPECT_EQ(g.switch_to<int>(5), 6);
    }
    using enum trace_event;
    EXPECT_EQ(log, (std::vector<traced>{{switched, m, id}, {switched, id, m}, {switched, m, id}, {switched, id, m}}));
}

TEST(Trace, ReportsThrowInto) {
    greenlet main_g = greenlet::current();
    std::vector<traced> log;
    greenlet g([&] {
        try {
            main_g.switch_to();
        } catch (const std::runtime_error&) {
        }
        return 3;
    });
    g.switch_to();
    const std::uint64_t m = main_g.id(), id = g.id();
    {
        trace_scope scope(log);
        EXPECT_EQ(g.throw_into<int>(std::runtime_error("x")), 3);
    }
    using enum trace_event;
    EXPECT_EQ(log, (std::vector<traced>{{thrown, m, id}, {switched, id, m}}));
}

TEST(Trace, SetTraceReturnsThePreviousFunction) {
    std::vector<std::string> calls;
    auto first = [&](trace_event, const greenlet&, const greenlet&) { calls.push_back("first"); };
    auto second = [&](trace_event, const greenlet&, const greenlet&) { calls.push_back("second"); };
    greenlet::trace_function outer = greenlet::set_trace(first);
    greenlet::trace_function got_first = greenlet::set_trace(second);
    greenlet::trace_function got_second = greenlet::set_trace(nullptr);
    greenlet::trace_function got_none = greenlet::set_trace(std::move(outer));
    ASSERT_TRUE(got_first);
    ASSERT_TRUE(got_second);
    EXPECT_FALSE(got_none);
    got_first(trace_event::switched, greenlet{}, greenlet{});
    got_second(trace_event::switched, greenlet{}, greenlet{});
    EXPECT_EQ(calls, (std::vector<std::string>{"first", "second"}));

    // Replaced functions are no longer called.
    calls.clear();
    greenlet([] {}).switch_to();
    EXPECT_TRUE(calls.empty());
}

TEST(Trace, AThrowingTraceFunctionDoesNotBreakSwitching) {
    greenlet main_g = greenlet::current();
    int calls = 0;
    greenlet g([&](int x) { return main_g.switch_to<int>(x * 2) * 2; });
    {
        trace_scope scope([&](trace_event, const greenlet&, const greenlet&) {
            ++calls;
            throw std::runtime_error("trace function failure (expected by the test)");
        });
        EXPECT_EQ(g.switch_to<int>(3), 6);
        EXPECT_EQ(g.switch_to<int>(5), 10);
    }
    EXPECT_EQ(calls, 4);  // still installed after throwing
    EXPECT_TRUE(g.dead());
}

TEST(Trace, IsPerThread) {
    std::vector<traced> log;
    trace_scope scope(log);
    std::thread t([] { greenlet([] {}).switch_to(); });
    t.join();
    EXPECT_TRUE(log.empty());
    greenlet([] {}).switch_to();
    EXPECT_EQ(log.size(), 2u);
}

TEST(Trace, ReportsTheDeathOfAGreenletNobodyRefersTo) {
    // The trace function gets handles to the dying greenlet; when they go away, the greenlet
    // must not be freed under its own feet (it is still running on its stack).
    std::vector<traced> log;
    std::optional<greenlet> holder;
    holder.emplace([&] {
        holder.reset();
        return 5;
    });
    const std::uint64_t id = holder->id();
    int result = 0;
    {
        trace_scope scope(log);
        result = holder->switch_to<int>();
    }
    EXPECT_EQ(result, 5);
    ASSERT_EQ(log.size(), 2u);
    EXPECT_EQ(log[1].origin, id);
}

// Counts its destructions through a counter set after it is made.
struct counted {
    int* destroyed = nullptr;
    std::uint64_t* destroyed_in = nullptr;  // the greenlet running the destructor
    int value = 0;
    ~counted() {
        if (destroyed != nullptr) ++*destroyed;
        if (destroyed_in != nullptr) *destroyed_in = greenlet::current().id();
    }
};

TEST(GreenletLocal, EachGreenletSeesItsOwnValue) {
    cogent::greenlet_local<int> local;
    greenlet main_g = greenlet::current();
    *local = 1;
    std::vector<int> seen_in_g;
    greenlet g([&] {
        seen_in_g.push_back(local.get_if() == nullptr ? -1 : *local.get_if());
        seen_in_g.push_back(*local);  // default-constructed on first use
        *local = 2;
        main_g.switch_to();
        seen_in_g.push_back(*local);
    });
    g.switch_to();
    EXPECT_EQ(*local, 1);
    *local = 10;
    greenlet h([&] { return *local; });
    EXPECT_EQ(h.switch_to<int>(), 0);
    g.switch_to();
    EXPECT_EQ(*local, 10);
    EXPECT_EQ(seen_in_g, (std::vector<int>{-1, 0, 2}));
}

TEST(GreenletLocal, ValuesAreDestroyedWhenTheGreenletDies) {
    cogent::greenlet_local<counted> local;
    greenlet main_g = greenlet::current();
    int destroyed = 0;
    std::uint64_t destroyed_in = 0;
    greenlet g([&] {
        local->destroyed = &destroyed;
        local->destroyed_in = &destroyed_in;
        local->value = 5;
    });
    g.switch_to();
    EXPECT_EQ(destroyed, 1);
    EXPECT_EQ(destroyed_in, g.id());  // on its own stack, before main heard of its death

    // Killed greenlets lose theirs too.
    int killed_destroyed = 0;
    {
        greenlet k([&] {
            local->destroyed = &killed_destroyed;
            main_g.switch_to();
        });
        k.switch_to();
        EXPECT_EQ(killed_destroyed, 0);
    }
    EXPECT_EQ(killed_destroyed, 1);
    EXPECT_EQ(local.get_if(), nullptr);  // main never made one
}

TEST(GreenletLocal, AMainGreenletsValuesAreDestroyedWhenItsThreadEnds) {
    cogent::greenlet_local<counted> local;
    int destroyed = 0;
    int seen_in_thread = -1;
    std::thread t([&] {
        local->destroyed = &destroyed;
        seen_in_thread = local->value;
        local->value = 9;
    });
    t.join();
    EXPECT_EQ(destroyed, 1);
    EXPECT_EQ(seen_in_thread, 0);
    EXPECT_EQ(local.get_if(), nullptr);
}

TEST(GreenletLocal, Reset) {
    cogent::greenlet_local<counted> local;
    int destroyed = 0;
    local->destroyed = &destroyed;
    local->value = 3;
    local.reset();
    EXPECT_EQ(destroyed, 1);
    EXPECT_EQ(local.get_if(), nullptr);
    EXPECT_EQ(local->value, 0);
    local.reset();
    EXPECT_EQ(destroyed, 1);  // the new one had no counter
    EXPECT_EQ(local.get_if(), nullptr);
    local.reset();  // resetting nothing is fine
}

}  // namespace
