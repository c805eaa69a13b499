// switch_to: how values pass between greenlets. The first switch calls the function with the
// arguments; later switches make the target's pending switch_to return; move-only and large
// values; type mismatches (switch_type_error in the sender, target unaffected); switch_to<void>
// and switch_to<switch_value>; switching to oneself.
#include <gtest/gtest.h>

#include <cogent/greenlet.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace {

using cogent::greenlet;
using cogent::switch_type_error;
using cogent::switch_value;

struct move_only {
    explicit move_only(int v) : value(v) {}
    move_only(move_only&&) noexcept = default;
    move_only& operator=(move_only&&) noexcept = default;
    move_only(const move_only&) = delete;
    move_only& operator=(const move_only&) = delete;
    int value;
};

int triple(int x) { return 3 * x; }

TEST(Switch, FirstSwitchWithNoArgumentsCallsTheFunction) {
    int calls = 0;
    greenlet g([&] { ++calls; });
    EXPECT_EQ(calls, 0);
    g.switch_to();
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(g.dead());
}

TEST(Switch, FirstSwitchWithOneArgumentAndTheResultComesBack) {
    greenlet g([](int x) { return x * 2; });
    EXPECT_EQ(g.switch_to<int>(21), 42);
}

TEST(Switch, FirstSwitchWithSeveralArguments) {
    greenlet g([](int a, const std::string& b, double c) { return b + ":" + std::to_string(a) + ":" + std::to_string(int(c)); });
    EXPECT_EQ(g.switch_to<std::string>(7, std::string("seven"), 7.9), "seven:7:7");
}

TEST(Switch, FunctionPointerAndFunctionObject) {
    greenlet g(&triple);
    EXPECT_EQ(g.switch_to<int>(5), 15);
    struct adder {
        int base;
        int operator()(int x) const { return base + x; }
    };
    greenlet h(adder{100});
    EXPECT_EQ(h.switch_to<int>(5), 105);
}

TEST(Switch, SeveralValuesArriveAsATuple) {
    greenlet main_g = greenlet::current();
    std::tuple<int, std::string> got;
    greenlet g([&] { got = main_g.switch_to<std::tuple<int, std::string>>(); });
    g.switch_to();
    g.switch_to(5, std::string("five"));
    EXPECT_EQ(got, std::make_tuple(5, std::string("five")));
    EXPECT_TRUE(g.dead());

    // And the other way: a greenlet switching several values to main.
    greenlet h([&] { main_g.switch_to(1, 2.5, std::string("x")); });
    auto back = h.switch_to<std::tuple<int, double, std::string>>();
    EXPECT_EQ(back, std::make_tuple(1, 2.5, std::string("x")));
}

TEST(Switch, LaterSwitchesResumeThePendingSwitchWithTheValue) {
    greenlet main_g = greenlet::current();
    std::vector<int> seen;
    greenlet g([&](int first) {
        seen.push_back(first);
        int second = main_g.switch_to<int>(first + 1);
        seen.push_back(second);
        int third = main_g.switch_to<int>(second + 1);
        seen.push_back(third);
        return third + 1;
    });
    EXPECT_EQ(g.switch_to<int>(10), 11);
    EXPECT_EQ(g.switch_to<int>(20), 21);
    EXPECT_FALSE(g.dead());
    EXPECT_EQ(g.switch_to<int>(30), 31);
    EXPECT_TRUE(g.dead());
    EXPECT_EQ(seen, (std::vector<int>{10, 20, 30}));
}

TEST(Switch, MoveOnlyValuesPassBothWays) {
    greenlet main_g = greenlet::current();
    greenlet g([&](std::unique_ptr<int> p) {
        EXPECT_NE(p, nullptr);
        *p += 1;
        move_only m = main_g.switch_to<move_only>(std::move(p));
        return move_only(m.value * 2);
    });
    std::unique_ptr<int> back = g.switch_to<std::unique_ptr<int>>(std::make_unique<int>(41));
    ASSERT_NE(back, nullptr);
    EXPECT_EQ(*back, 42);
    move_only result = g.switch_to<move_only>(move_only(8));
    EXPECT_EQ(result.value, 16);
}

TEST(Switch, LargeValuesPassIntact) {
    greenlet main_g = greenlet::current();
    const std::string big(5000, 'q');
    std::vector<int> numbers(10000);
    for (int i = 0; i < 10000; ++i) numbers[i] = i * 7;
    greenlet g([&](std::string s) {
        EXPECT_EQ(s, big);
        std::vector<int> v = main_g.switch_to<std::vector<int>>(s + "!");
        EXPECT_EQ(v, numbers);
        v.push_back(-1);
        return v;
    });
    EXPECT_EQ(g.switch_to<std::string>(big), big + "!");
    std::vector<int> back = g.switch_to<std::vector<int>>(numbers);
    ASSERT_EQ(back.size(), numbers.size() + 1);
    EXPECT_EQ(back.back(), -1);
    EXPECT_TRUE(std::equal(numbers.begin(), numbers.end(), back.begin()));
}

TEST(Switch, WrongTypeThrowsInTheSenderAndTheTargetIsUnaffected) {
    greenlet main_g = greenlet::current();
    int resumed = 0;
    int received = 0;
    greenlet g([&] {
        received = main_g.switch_to<int>();
        ++resumed;
    });
    g.switch_to();
    try {
        g.switch_to(std::string("not an int"));
        ADD_FAILURE() << "no switch_type_error";
    } catch (const switch_type_error& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("int"), std::string::npos) << what;
        EXPECT_NE(what.find("std::string"), std::string::npos) << what;
        EXPECT_EQ(e.expected(), "int");
        EXPECT_EQ(e.received(), "std::string");
    }
    EXPECT_EQ(resumed, 0);
    EXPECT_TRUE(g.active());
    EXPECT_TRUE(greenlet::current() == main_g);
    g.switch_to(99);
    EXPECT_EQ(resumed, 1);
    EXPECT_EQ(received, 99);
    EXPECT_TRUE(g.dead());
}

TEST(Switch, WrongTypeSentByAGreenletThrowsInThatGreenlet) {
    greenlet main_g = greenlet::current();
    bool caught = false;
    greenlet g([&] {
        try {
            main_g.switch_to(2.5);  // main waits for an int
        } catch (const switch_type_error& e) {
            caught = std::string(e.what()).find("double") != std::string::npos;
        }
        main_g.switch_to(3);
    });
    EXPECT_EQ(g.switch_to<int>(), 3);
    EXPECT_TRUE(caught);
}

TEST(Switch, SendingNothingToAGreenletWaitingForAValueThrows) {
    greenlet main_g = greenlet::current();
    greenlet g([&] { return main_g.switch_to<int>() + 1; });
    g.switch_to();
    try {
        g.switch_to();
        ADD_FAILURE() << "no switch_type_error";
    } catch (const switch_type_error& e) {
        EXPECT_EQ(e.expected(), "int");
        EXPECT_EQ(e.received(), "nothing");
    }
    EXPECT_EQ(g.switch_to<int>(1), 2);
}

TEST(Switch, WrongArgumentsForAnUnstartedGreenletLeaveItUnstarted) {
    bool ran = false;
    greenlet g([&](int x, int y) {
        ran = true;
        return x + y;
    });
    EXPECT_THROW(g.switch_to(std::string("a")), switch_type_error);
    EXPECT_THROW(g.switch_to(1), switch_type_error);
    EXPECT_THROW(g.switch_to(1, 2L), switch_type_error);
    EXPECT_THROW(g.switch_to(), switch_type_error);
    EXPECT_FALSE(ran);
    EXPECT_FALSE(g.started());
    EXPECT_FALSE(g.dead());
    EXPECT_EQ(g.switch_to<int>(1, 2), 3);

    greenlet no_params([&] { ran = true; });
    EXPECT_THROW(no_params.switch_to(5), switch_type_error);
    EXPECT_FALSE(no_params.started());
}

TEST(Switch, SwitchToVoidAcceptsAndDropsAnything) {
    greenlet main_g = greenlet::current();
    int wakeups = 0;
    greenlet g([&] {
        for (;;) {
            main_g.switch_to<void>();
            ++wakeups;
        }
    });
    g.switch_to();
    auto shared = std::make_shared<int>(1);
    std::weak_ptr<int> weak = shared;
    g.switch_to(std::move(shared));
    EXPECT_TRUE(weak.expired());  // dropped, not kept by the receiver
    g.switch_to(std::string("text"));
    g.switch_to(1, 2, 3);
    g.switch_to();
    EXPECT_EQ(wakeups, 4);
}

TEST(Switch, SwitchValueReceivesAnyType) {
    greenlet main_g = greenlet::current();
    std::vector<switch_value> got;
    greenlet g([&] {
        for (;;) got.push_back(main_g.switch_to<switch_value>());
    });
    g.switch_to();
    g.switch_to();
    g.switch_to(42);
    g.switch_to(std::string(100, 'z'));
    auto shared = std::make_shared<int>(7);
    std::weak_ptr<int> weak = shared;
    g.switch_to(std::move(shared));
    g.switch_to(move_only(5));
    g.switch_to(1, std::string("two"));
    ASSERT_EQ(got.size(), 6u);

    EXPECT_TRUE(got[0].empty());
    EXPECT_TRUE(got[0].type() == typeid(void));

    EXPECT_FALSE(got[1].empty());
    EXPECT_TRUE(got[1].holds<int>());
    EXPECT_FALSE(got[1].holds<long>());
    EXPECT_EQ(got[1].get<int>(), 42);
    EXPECT_THROW(got[1].get<std::string>(), switch_type_error);
    EXPECT_EQ(got[1].get_if<std::string>(), nullptr);

    EXPECT_TRUE(got[2].holds<std::string>());
    EXPECT_EQ(got[2].get<std::string>(), std::string(100, 'z'));

    EXPECT_FALSE(weak.expired());  // kept by the switch_value
    EXPECT_EQ(*got[3].get<std::shared_ptr<int>>(), 7);
    got[3].reset();
    EXPECT_TRUE(weak.expired());
    EXPECT_TRUE(got[3].empty());

    EXPECT_EQ(std::move(got[4]).get<move_only>().value, 5);

    using pair = std::tuple<int, std::string>;
    ASSERT_TRUE(got[5].holds<pair>());
    EXPECT_EQ(got[5].get<pair>(), pair(1, "two"));
}

TEST(Switch, SwitchingToSelfReturnsTheValue) {
    greenlet self = greenlet::current();
    EXPECT_EQ(self.switch_to<int>(5), 5);
    auto pair = self.switch_to<std::tuple<int, std::string>>(1, std::string("a"));
    EXPECT_EQ(pair, std::make_tuple(1, std::string("a")));
    EXPECT_THROW(self.switch_to<int>(std::string("x")), switch_type_error);

    greenlet g([] {
        greenlet me = greenlet::current();
        auto p = me.switch_to<std::unique_ptr<int>>(std::make_unique<int>(9));
        return *p;
    });
    EXPECT_EQ(g.switch_to<int>(), 9);
}

}  // namespace
