// Lifetime within a thread: the last handle of a suspended greenlet kills it (from whoever drops
// it); copies keep it alive; the function is destroyed when the greenlet finishes; a greenlet
// dropping its own last handle. (Threads and lifetime: threads_test.cpp.)
#include <gtest/gtest.h>

#include <cogent/greenlet.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using cogent::greenlet;
using cogent::greenlet_exit;

struct guard {
    bool* destroyed;
    ~guard() { *destroyed = true; }
};

TEST(Lifetime, DroppingTheLastHandleKillsASuspendedGreenlet) {
    greenlet main_g = greenlet::current();
    bool destroyed = false;
    bool saw_exit = false;
    bool after = false;
    {
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
        EXPECT_FALSE(destroyed);
    }
    EXPECT_TRUE(destroyed);
    EXPECT_TRUE(saw_exit);
    EXPECT_FALSE(after);
    EXPECT_TRUE(greenlet::current() == main_g);
}

TEST(Lifetime, TheKillComesBackToWhoeverDroppedTheHandle) {
    greenlet main_g = greenlet::current();
    // p waits for an int; its child g must not bother it when g is killed by a dropped handle.
    int p_got = 0;
    greenlet p([&] { p_got = main_g.switch_to<int>(); });
    p.switch_to();
    bool destroyed = false, x_continued = false;
    greenlet x([&] {
        {
            greenlet g([&] {
                guard gd{&destroyed};
                main_g.switch_to();
            }, p);
            g.switch_to();  // g goes to main; main comes back to x
        }                   // x drops g's last handle: g dies and control comes back to x
        x_continued = destroyed;
        return 3;
    });
    x.switch_to();
    EXPECT_FALSE(destroyed);
    EXPECT_EQ(x.switch_to<int>(), 3);
    EXPECT_TRUE(destroyed);
    EXPECT_TRUE(x_continued);
    EXPECT_TRUE(p.active());
    p.switch_to(8);
    EXPECT_EQ(p_got, 8);
}

TEST(Lifetime, DroppingAnUnstartedGreenletDestroysItsFunctionWithoutRunning) {
    bool ran = false;
    auto resource = std::make_shared<int>(1);
    std::weak_ptr<int> weak = resource;
    {
        greenlet g([&ran, resource] { ran = true; });
        resource.reset();
        EXPECT_FALSE(weak.expired());
    }
    EXPECT_TRUE(weak.expired());
    EXPECT_FALSE(ran);
}

TEST(Lifetime, CopiesKeepItAlive) {
    greenlet main_g = greenlet::current();
    bool destroyed = false;
    int resumed = 0;
    std::optional<greenlet> first;
    first.emplace([&] {
        guard gd{&destroyed};
        main_g.switch_to();
        ++resumed;
        main_g.switch_to();
        ++resumed;
    });
    first->switch_to();
    greenlet copy = *first;
    first.reset();
    EXPECT_FALSE(destroyed);
    copy.switch_to();
    EXPECT_EQ(resumed, 1);
    greenlet moved = std::move(copy);
    EXPECT_FALSE(copy);
    EXPECT_FALSE(destroyed);
    moved.switch_to();
    EXPECT_EQ(resumed, 2);
    EXPECT_TRUE(destroyed);
    EXPECT_TRUE(moved.dead());
}

TEST(Lifetime, TheFunctionIsDestroyedWhenTheGreenletFinishes) {
    auto resource = std::make_shared<int>(4);
    std::weak_ptr<int> weak = resource;
    greenlet g([resource] { return *resource; });
    resource.reset();
    EXPECT_EQ(g.switch_to<int>(), 4);
    EXPECT_TRUE(weak.expired());  // though a handle to the dead greenlet remains
}

TEST(Lifetime, AGreenletDroppingItsOwnLastHandleIsKilledAtALaterSwitch) {
    greenlet main_g = greenlet::current();
    bool destroyed = false;
    bool saw_exit = false;
    bool after = false;
    std::optional<greenlet> holder;
    holder.emplace([&] {
        guard gd{&destroyed};
        holder.reset();  // the last handle to the running greenlet
        try {
            main_g.switch_to();
        } catch (const greenlet_exit&) {
            saw_exit = true;
            throw;
        }
        after = true;
    });
    holder->switch_to();
    EXPECT_FALSE(holder);
    greenlet([] {}).switch_to();  // a later switch on this thread
    EXPECT_TRUE(destroyed);
    EXPECT_TRUE(saw_exit);
    EXPECT_FALSE(after);
    EXPECT_TRUE(greenlet::current() == main_g);
}

TEST(Lifetime, AGreenletDroppingItsOwnLastHandleMayStillFinish) {
    bool destroyed = false;
    std::optional<greenlet> holder;
    holder.emplace([&] {
        guard gd{&destroyed};
        holder.reset();
        return 77;
    });
    EXPECT_EQ(holder->switch_to<int>(), 77);
    EXPECT_TRUE(destroyed);
    EXPECT_FALSE(holder);
}

}  // namespace
