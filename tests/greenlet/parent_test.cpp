// Parents: where a greenlet's result, exception or greenlet_exit goes when its function ends;
// default and explicit parents; set_parent's refusals; switching to a dead greenlet and children
// of dead parents (first live ancestor); unstarted ancestors started by a child's death;
// started()/dead()/active().
#include <gtest/gtest.h>

#include <cogent/greenlet.hpp>

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using cogent::greenlet;
using cogent::greenlet_error;
using cogent::switch_value;

struct custom_error : std::runtime_error {
    using std::runtime_error::runtime_error;
    int code = 17;
};

TEST(Parent, ResultGoesToTheParentNotToTheLastSwitcher) {
    greenlet main_g = greenlet::current();
    std::vector<std::string> log;
    greenlet a, b, c;  // all three have main as their parent
    c = greenlet([&] {
        log.push_back("c");
        return 42;
    });
    b = greenlet([&] {
        log.push_back("b");
        c.switch_to<int>();
        log.push_back("b resumed");
    });
    a = greenlet([&] {
        log.push_back("a");
        b.switch_to<int>();
        log.push_back("a resumed");
    });
    EXPECT_TRUE(c.parent() == main_g);
    EXPECT_EQ(a.switch_to<int>(), 42);  // main hears of c's death, though b switched to c
    EXPECT_EQ(log, (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_TRUE(c.dead());
    EXPECT_TRUE(a.active());
    EXPECT_TRUE(b.active());
}

TEST(Parent, UncaughtExceptionIsRethrownInTheParent) {
    greenlet g([] { throw custom_error("boom"); });
    try {
        g.switch_to();
        ADD_FAILURE() << "nothing thrown";
    } catch (const custom_error& e) {
        EXPECT_STREQ(e.what(), "boom");
        EXPECT_EQ(e.code, 17);
    }
    EXPECT_TRUE(g.dead());
    EXPECT_TRUE(greenlet::current().is_main());

    greenlet h([] { throw 42; });  // not a std::exception
    EXPECT_THROW(h.switch_to(), int);
}

TEST(Parent, ExceptionGoesToTheParentWhoeverSwitchedLast) {
    greenlet main_g = greenlet::current();
    greenlet thrower([] { throw std::out_of_range("range"); });
    bool middle_saw_exception = false;
    greenlet middle([&] {
        try {
            thrower.switch_to();
        } catch (...) {
            middle_saw_exception = true;
        }
    });
    EXPECT_THROW(middle.switch_to(), std::out_of_range);
    EXPECT_FALSE(middle_saw_exception);
    EXPECT_TRUE(middle.active());
}

TEST(Parent, GreenletExitReachesTheParentAsAValue) {
    greenlet g([] { throw cogent::greenlet_exit{}; });
    switch_value v;
    EXPECT_NO_THROW(v = g.switch_to<switch_value>());
    EXPECT_TRUE(v.holds<cogent::greenlet_exit>());
    EXPECT_TRUE(g.dead());

    greenlet h([] { throw cogent::greenlet_exit{}; });
    EXPECT_NO_THROW(h.switch_to());
    greenlet k([] { throw cogent::greenlet_exit{}; });
    EXPECT_NO_THROW(k.switch_to<cogent::greenlet_exit>());
}

TEST(Parent, ResultOfTheWrongTypeBecomesAnErrorInTheParent) {
    greenlet g([] { return std::string("text"); });
    EXPECT_THROW(g.switch_to<int>(), cogent::switch_type_error);
    EXPECT_TRUE(g.dead());
    EXPECT_TRUE(greenlet::current().is_main());
}

TEST(Parent, DefaultsToTheCurrentGreenletAtConstruction) {
    greenlet main_g = greenlet::current();
    greenlet top([] {});
    EXPECT_TRUE(top.parent() == main_g);

    greenlet inner_parent;
    greenlet outer([&] {
        greenlet inner([] {});
        inner_parent = inner.parent();
    });
    outer.switch_to();
    EXPECT_TRUE(inner_parent == outer);
}

TEST(Parent, ExplicitParentReceivesTheResult) {
    greenlet main_g = greenlet::current();
    int p_got = 0;
    greenlet p([&] {
        p_got = main_g.switch_to<int>();
        return p_got * 2;
    });
    p.switch_to();
    greenlet c([] { return 21; }, p);
    EXPECT_TRUE(c.parent() == p);
    // c returns 21 to p (not to main, which started it); p then returns 42 to main.
    EXPECT_EQ(c.switch_to<int>(), 42);
    EXPECT_EQ(p_got, 21);
    EXPECT_TRUE(p.dead());
}

TEST(Parent, SetParentChangesWhereTheResultGoes) {
    greenlet main_g = greenlet::current();
    int p_got = 0;
    greenlet p([&] {
        p_got = main_g.switch_to<int>();
        main_g.switch_to(-1);
    });
    p.switch_to();
    greenlet c([] { return 5; });
    c.set_parent(p);
    EXPECT_TRUE(c.parent() == p);
    EXPECT_EQ(c.switch_to<int>(), -1);
    EXPECT_EQ(p_got, 5);
}

TEST(Parent, SetParentRefusals) {
    greenlet main_g = greenlet::current();
    greenlet a([] {});
    greenlet b([] {});
    b.set_parent(a);
    EXPECT_THROW(a.set_parent(b), greenlet_error);
    EXPECT_THROW(a.set_parent(a), greenlet_error);
    EXPECT_TRUE(a.parent() == main_g);
    EXPECT_THROW(main_g.set_parent(a), greenlet_error);
    EXPECT_FALSE(main_g.parent());
    EXPECT_THROW(a.set_parent(greenlet{}), greenlet_error);
    EXPECT_TRUE(a.parent() == main_g);
    EXPECT_THROW(greenlet([] {}, greenlet{}), greenlet_error);
}

TEST(Parent, SwitchingToADeadGreenletGoesToItsFirstLiveAncestor) {
    greenlet main_g = greenlet::current();
    std::vector<int> p_received;
    greenlet p([&] {
        int v = 0;
        for (;;) {
            v = main_g.switch_to<int>(v);
            p_received.push_back(v);
        }
    });
    EXPECT_EQ(p.switch_to<int>(), 0);
    greenlet d([] { return 5; }, p);
    EXPECT_EQ(d.switch_to<int>(), 5);  // d's death went to p, which echoed it to main
    EXPECT_TRUE(d.dead());
    EXPECT_EQ(d.switch_to<int>(9), 9);  // d is dead: p gets the 9
    EXPECT_EQ(p_received, (std::vector<int>{5, 9}));
    EXPECT_THROW(d.switch_to(std::string("x")), cogent::switch_type_error);  // p's type applies

    // A dead greenlet whose first live ancestor is the current one: the value comes straight back.
    greenlet e([] {});
    e.switch_to();
    EXPECT_EQ(e.switch_to<int>(7), 7);
}

TEST(Parent, ChildOfADeadParentReportsToTheFirstLiveAncestor) {
    greenlet main_g = greenlet::current();
    int gp_got = 0;
    greenlet gp([&] {
        gp_got = main_g.switch_to<int>();
        main_g.switch_to(1000);
    });
    gp.switch_to();
    greenlet p([] {}, gp);
    greenlet c([] { return 7; }, p);
    p.kill();  // dead without running
    ASSERT_TRUE(p.dead());
    EXPECT_EQ(c.switch_to<int>(), 1000);
    EXPECT_EQ(gp_got, 7);

    greenlet p2([] {});
    greenlet c2([] { return 8; }, p2);
    p2.switch_to();
    ASSERT_TRUE(p2.dead());
    EXPECT_EQ(c2.switch_to<int>(), 8);  // to main, p2's parent
}

TEST(Parent, ChildOfADeadParentWithAnExceptionReachesTheFirstLiveAncestor) {
    greenlet p([] {});
    p.switch_to();
    greenlet c([] { throw std::domain_error("from c"); }, p);
    EXPECT_THROW(c.switch_to(), std::domain_error);
}

TEST(Parent, AnUnstartedParentIsStartedWithTheChildsResult) {
    greenlet p([](int v) { return v * 2; });
    greenlet c([] { return 21; }, p);
    EXPECT_EQ(c.switch_to<int>(), 42);
    EXPECT_TRUE(p.dead());

    greenlet gp([](int v) { return v + 1; });
    greenlet dead_p([] {}, gp);
    dead_p.kill();
    greenlet c2([] { return 1; }, dead_p);
    EXPECT_EQ(c2.switch_to<int>(), 2);
    EXPECT_TRUE(gp.dead());
}

TEST(Parent, SwitchingToADeadGreenletStartsAnUnstartedAncestor) {
    greenlet p([](int v) { return v * 3; });
    greenlet d([] {}, p);
    d.kill();
    EXPECT_EQ(d.switch_to<int>(5), 15);
    EXPECT_TRUE(p.dead());
}

TEST(Parent, NestedGreenletsReturnThroughTheirParents) {
    std::function<int(int)> nest = [&](int depth) {
        if (depth == 0) return 0;
        greenlet child(nest);  // its parent is the greenlet running this
        return child.switch_to<int>(depth - 1) + 1;
    };
    EXPECT_EQ(greenlet(nest).switch_to<int>(50), 50);
}

TEST(Parent, AnUnstartedParentThatCannotTakeTheResultDiesAndItsParentGetsTheError) {
    bool ran = false;
    greenlet p([&](const std::string&) { ran = true; });
    greenlet c([] { return 21; }, p);
    EXPECT_THROW(c.switch_to(), cogent::switch_type_error);
    EXPECT_FALSE(ran);
    EXPECT_TRUE(p.dead());
    EXPECT_TRUE(c.dead());
}

TEST(Parent, StartedDeadActiveTransitions) {
    greenlet main_g = greenlet::current();
    bool running_active = false, running_started = false, running_dead = true;
    greenlet g;
    g = greenlet([&] {
        running_started = g.started();
        running_dead = g.dead();
        running_active = g.active();
        main_g.switch_to();
    });
    EXPECT_FALSE(g.started());
    EXPECT_FALSE(g.dead());
    EXPECT_FALSE(g.active());
    g.switch_to();
    EXPECT_TRUE(running_started);
    EXPECT_FALSE(running_dead);
    EXPECT_TRUE(running_active);
    EXPECT_TRUE(g.started());
    EXPECT_FALSE(g.dead());
    EXPECT_TRUE(g.active());
    g.switch_to();
    EXPECT_TRUE(g.started());
    EXPECT_TRUE(g.dead());
    EXPECT_FALSE(g.active());

    greenlet never([] {});
    never.kill();
    EXPECT_TRUE(never.dead());
    EXPECT_FALSE(never.active());
}

}  // namespace
