// throw_into and kill: raising an exception at a greenlet's suspension point; unstarted targets
// (dead without running, the error goes to the parent); dead targets (first live ancestor);
// kill() of suspended, unstarted, dead and current greenlets; the empty exception_ptr.
#include <gtest/gtest.h>

#include <cogent/greenlet.hpp>

#include <exception>
#include <memory>
#include <stdexcept>
#include <string>

namespace {

using cogent::greenlet;
using cogent::greenlet_exit;
using cogent::switch_value;

// Sets a flag when destroyed: shows that a greenlet's stack was unwound.
struct guard {
    bool* destroyed;
    ~guard() { *destroyed = true; }
};

TEST(ThrowInto, RaisesAtTheSuspensionPoint) {
    greenlet main_g = greenlet::current();
    std::string caught;
    greenlet g([&] {
        try {
            main_g.switch_to();
        } catch (const std::runtime_error& e) {
            caught = e.what();
            main_g.switch_to(42);
        }
    });
    g.switch_to();
    EXPECT_EQ(g.throw_into<int>(std::runtime_error("raised in g")), 42);
    EXPECT_EQ(caught, "raised in g");
    EXPECT_TRUE(g.active());
}

TEST(ThrowInto, AcceptsAnExceptionPtr) {
    greenlet main_g = greenlet::current();
    greenlet g([&] {
        try {
            main_g.switch_to<int>();
        } catch (const std::invalid_argument& e) {
            return std::string("caught ") + e.what();
        }
        return std::string("not caught");
    });
    g.switch_to();
    std::exception_ptr error = std::make_exception_ptr(std::invalid_argument("arg"));
    EXPECT_EQ(g.throw_into<std::string>(error), "caught arg");
    EXPECT_TRUE(g.dead());
}

TEST(ThrowInto, UncaughtErrorGoesToTheParent) {
    greenlet main_g = greenlet::current();
    bool destroyed = false;
    greenlet g([&] {
        guard gd{&destroyed};
        main_g.switch_to();
    });
    g.switch_to();
    EXPECT_THROW(g.throw_into(std::logic_error("unhandled")), std::logic_error);
    EXPECT_TRUE(destroyed);
    EXPECT_TRUE(g.dead());
}

TEST(ThrowInto, UnstartedGreenletDiesWithoutRunningAndItsParentGetsTheError) {
    bool ran = false;
    auto resource = std::make_shared<int>(1);
    std::weak_ptr<int> weak = resource;
    greenlet g([&ran, resource] { ran = true; });
    resource.reset();
    try {
        g.throw_into(std::runtime_error("never ran"));
        ADD_FAILURE() << "the error did not reach the parent (the current greenlet)";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "never ran");
    }
    EXPECT_FALSE(ran);
    EXPECT_TRUE(g.dead());
    EXPECT_TRUE(weak.expired());  // the function (and what it captured) is gone
}

TEST(ThrowInto, UnstartedGreenletGivenGreenletExitSendsItAsAValue) {
    bool ran = false;
    greenlet g([&] { ran = true; });
    switch_value v;
    EXPECT_NO_THROW(v = g.throw_into<switch_value>(greenlet_exit{}));
    EXPECT_TRUE(v.holds<greenlet_exit>());
    EXPECT_FALSE(ran);
    EXPECT_TRUE(g.dead());

    greenlet h([&] { ran = true; });
    EXPECT_NO_THROW(h.throw_into(greenlet_exit{}));
    EXPECT_FALSE(ran);
    EXPECT_TRUE(h.dead());
}

TEST(ThrowInto, UnstartedGreenletWithAnotherParent) {
    greenlet main_g = greenlet::current();
    greenlet p([&] {
        try {
            main_g.switch_to();
        } catch (const std::runtime_error& e) {
            main_g.switch_to(std::string("p caught ") + e.what());
        }
    });
    p.switch_to();
    bool ran = false;
    greenlet child([&] { ran = true; }, p);
    EXPECT_EQ(child.throw_into<std::string>(std::runtime_error("x")), "p caught x");
    EXPECT_FALSE(ran);
    EXPECT_TRUE(child.dead());
}

TEST(ThrowInto, GreenletExitThatTheParentCannotTakeLeavesTheTargetAsItWas) {
    // An unstarted greenlet's parent receives greenlet_exit as a value. If the parent waits for
    // an int, that is a switch_type_error in the sender, before anything switches: the target
    // must stay as it was (errors.hpp), i.e. unstarted and still runnable.
    greenlet main_g = greenlet::current();
    greenlet p([&] { return main_g.switch_to<int>(); });
    p.switch_to();
    bool ran = false;
    greenlet child([&] { ran = true; }, p);
    EXPECT_THROW(child.throw_into(greenlet_exit{}), cogent::switch_type_error);
    EXPECT_TRUE(p.active());
    EXPECT_FALSE(child.dead());
    EXPECT_FALSE(child.started());
    child.set_parent(main_g);
    child.switch_to();
    EXPECT_TRUE(ran);
}

TEST(ThrowInto, TheCurrentGreenletRaisesAtOnce) {
    bool caught = false;
    greenlet g([&] {
        try {
            greenlet::current().throw_into(std::runtime_error("self"));
        } catch (const std::runtime_error&) {
            caught = true;
        }
        return 1;
    });
    EXPECT_EQ(g.switch_to<int>(), 1);
    EXPECT_TRUE(caught);
    EXPECT_THROW(greenlet::current().throw_into(std::runtime_error("main")), std::runtime_error);
}

TEST(ThrowInto, DeadGreenletRaisesInItsFirstLiveAncestor) {
    greenlet d([] {});
    d.switch_to();
    ASSERT_TRUE(d.dead());
    EXPECT_THROW(d.throw_into(std::runtime_error("to main")), std::runtime_error);

    greenlet main_g = greenlet::current();
    std::string p_caught;
    greenlet p([&] {
        try {
            main_g.switch_to();
        } catch (const std::runtime_error& e) {
            p_caught = e.what();
        }
        return 5;
    });
    p.switch_to();
    greenlet child([] {}, p);
    child.kill();
    EXPECT_EQ(child.throw_into<int>(std::runtime_error("to p")), 5);
    EXPECT_EQ(p_caught, "to p");
}

TEST(ThrowInto, EmptyExceptionPtrIsAnError) {
    greenlet main_g = greenlet::current();
    int resumed = 0;
    greenlet g([&] {
        main_g.switch_to();
        ++resumed;
    });
    g.switch_to();
    EXPECT_THROW(g.throw_into(std::exception_ptr{}), cogent::greenlet_error);
    EXPECT_EQ(resumed, 0);
    EXPECT_TRUE(g.active());
    g.switch_to();
    EXPECT_EQ(resumed, 1);
}

TEST(Kill, SuspendedGreenletUnwindsAndDies) {
    greenlet main_g = greenlet::current();
    bool destroyed = false;
    bool saw_exit = false;
    bool after = false;
    greenlet g([&] {
        guard gd{&destroyed};
        try {
            main_g.switch_to();
        } catch (const greenlet_exit&) {
            saw_exit = true;
            throw;
        }
        after = true;
    });
    g.switch_to();
    ASSERT_FALSE(destroyed);
    g.kill();
    EXPECT_TRUE(destroyed);
    EXPECT_TRUE(saw_exit);
    EXPECT_FALSE(after);
    EXPECT_TRUE(g.dead());
    EXPECT_TRUE(greenlet::current() == main_g);
}

TEST(Kill, BeforeStartPreventsTheRun) {
    bool ran = false;
    auto resource = std::make_shared<int>(1);
    std::weak_ptr<int> weak = resource;
    greenlet g([&ran, resource] { ran = true; });
    resource.reset();
    g.kill();
    EXPECT_TRUE(g.dead());
    EXPECT_TRUE(weak.expired());
    g.switch_to();  // dead, with main as its parent: comes straight back
    EXPECT_FALSE(ran);
}

TEST(Kill, BeforeStartLeavesItNeverStarted) {
    // started() is "whether the function has been called" (greenlet.hpp): it never was.
    greenlet g([] {});
    g.kill();
    EXPECT_TRUE(g.dead());
    EXPECT_FALSE(g.started());
}

TEST(Kill, DeadGreenletIsANoOp) {
    int runs = 0;
    greenlet g([&] { ++runs; });
    g.switch_to();
    ASSERT_TRUE(g.dead());
    EXPECT_NO_THROW(g.kill());
    EXPECT_NO_THROW(g.kill());
    EXPECT_TRUE(g.dead());
    EXPECT_EQ(runs, 1);
}

TEST(Kill, AGreenletKillingItselfUnwindsAtOnce) {
    bool destroyed = false;
    bool after = false;
    greenlet g([&] {
        guard gd{&destroyed};
        greenlet::current().kill();
        after = true;
    });
    switch_value v = g.switch_to<switch_value>();
    EXPECT_TRUE(v.holds<greenlet_exit>());
    EXPECT_TRUE(destroyed);
    EXPECT_FALSE(after);
    EXPECT_TRUE(g.dead());
}

TEST(Kill, ControlGoesToTheParent) {
    // kill() from a greenlet other than the victim's parent: the victim's death goes to its
    // parent (main), as any death does.
    greenlet main_g = greenlet::current();
    bool destroyed = false;
    greenlet victim([&] {
        guard gd{&destroyed};
        main_g.switch_to();
    });
    victim.switch_to();
    bool killer_resumed = false;
    greenlet killer([&] {
        victim.kill();
        killer_resumed = true;
    });
    switch_value v = killer.switch_to<switch_value>();
    EXPECT_TRUE(v.holds<greenlet_exit>());
    EXPECT_TRUE(destroyed);
    EXPECT_TRUE(victim.dead());
    EXPECT_FALSE(killer_resumed);
    EXPECT_TRUE(killer.active());
}

}  // namespace
