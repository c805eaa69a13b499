// Greenlets and threads: when a thread ends, its suspended greenlets are killed (newest first,
// before join returns, including greenlets started by those kills) and its unstarted ones are
// dead; a last handle dropped on another thread is killed on the greenlet's own thread; another
// thread's greenlets cannot be switched to, thrown into, killed or used as parents.
#include <gtest/gtest.h>

#include <cogent/greenlet.hpp>

#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using cogent::greenlet;
using cogent::greenlet_error;
using cogent::greenlet_exit;

struct guard {
    bool* destroyed;
    ~guard() { *destroyed = true; }
};

// Appends its name to a log when destroyed.
struct logger {
    std::vector<std::string>* order;
    std::string name;
    ~logger() { order->push_back(name); }
};

// Records the thread it was destroyed on.
struct recorder {
    std::thread::id* on;
    ~recorder() { *on = std::this_thread::get_id(); }
};

TEST(Threads, ThreadExitKillsSuspendedGreenletsNewestFirst) {
    std::vector<std::string> order;  // written by the thread, read after join
    std::vector<greenlet> outliving;  // handles that outlive the thread: only its end can kill them
    greenlet outliving_main;
    std::thread t([&] {
        greenlet main_g = greenlet::current();
        outliving_main = main_g;
        for (std::string name : {"a", "b", "c"}) {
            greenlet g([&order, main_g, name]() mutable {
                logger log{&order, name};
                main_g.switch_to();
                order.push_back(name + " resumed");
            });
            g.switch_to();
            outliving.push_back(g);
        }
        order.push_back("end of thread function");
    });
    t.join();
    EXPECT_EQ(order, (std::vector<std::string>{"end of thread function", "c", "b", "a"}));
    for (const greenlet& g : outliving) EXPECT_TRUE(g.dead());
    EXPECT_TRUE(outliving_main.dead());
    EXPECT_THROW(outliving.front().switch_to(), greenlet_error);
}

TEST(Threads, ThreadExitAlsoKillsGreenletsStartedDuringTheKills) {
    bool late_destroyed = false;
    std::vector<greenlet> outliving;
    std::thread t([&] {
        greenlet main_g = greenlet::current();
        greenlet first([&late_destroyed, &outliving, main_g]() mutable {
            try {
                main_g.switch_to();
            } catch (const greenlet_exit&) {
                // Being killed as the thread ends: start one more greenlet, which suspends.
                greenlet late([&late_destroyed] {
                    guard gd{&late_destroyed};
                    greenlet::current().parent().switch_to();
                });
                late.switch_to();
                outliving.push_back(late);
                throw;
            }
        });
        first.switch_to();
        outliving.push_back(first);
    });
    t.join();
    EXPECT_TRUE(late_destroyed);
    ASSERT_EQ(outliving.size(), 2u);
    for (const greenlet& g : outliving) EXPECT_TRUE(g.dead());
}

TEST(Threads, UnstartedGreenletsAreDeadOnceTheirThreadEnds) {
    bool ran = false;
    greenlet outliving_unstarted;
    std::thread t([&] { outliving_unstarted = greenlet([&] { ran = true; }); });
    t.join();
    EXPECT_FALSE(ran);
    EXPECT_TRUE(outliving_unstarted.dead()) << "a greenlet that never started outlived its thread, not dead";
    EXPECT_FALSE(outliving_unstarted.active());
    EXPECT_THROW(outliving_unstarted.switch_to(), greenlet_error);
    EXPECT_FALSE(ran);
}

TEST(Threads, LastHandleDroppedOnAnotherThreadIsKilledOnItsOwnThread) {
    std::promise<greenlet> handed_over;
    std::promise<void> dropped;
    std::thread::id destroyed_on;
    bool destroyed_before_switch = true;
    bool destroyed_after_switch = false;
    std::thread t([&] {
        greenlet main_g = greenlet::current();
        greenlet g([&destroyed_on, main_g]() mutable {
            recorder rec{&destroyed_on};
            main_g.switch_to();
        });
        g.switch_to();
        handed_over.set_value(std::move(g));
        dropped.get_future().wait();
        destroyed_before_switch = destroyed_on != std::thread::id{};
        greenlet([] {}).switch_to();  // its next switch
        destroyed_after_switch = destroyed_on != std::thread::id{};
        if (destroyed_after_switch) {
            EXPECT_EQ(destroyed_on, std::this_thread::get_id());
        }
    });
    {
        greenlet g = handed_over.get_future().get();
    }
    dropped.set_value();
    t.join();
    EXPECT_FALSE(destroyed_before_switch);
    EXPECT_TRUE(destroyed_after_switch);
}

TEST(Threads, LastHandleDroppedOnAnotherThreadIsKilledWhenItsThreadEnds) {
    std::promise<greenlet> handed_over;
    std::promise<void> dropped;
    std::thread::id destroyed_on;
    std::thread::id thread_id;
    std::thread t([&] {
        thread_id = std::this_thread::get_id();
        greenlet main_g = greenlet::current();
        greenlet g([&destroyed_on, main_g]() mutable {
            recorder rec{&destroyed_on};
            main_g.switch_to();
        });
        g.switch_to();
        handed_over.set_value(std::move(g));
        dropped.get_future().wait();
    });
    {
        greenlet g = handed_over.get_future().get();
    }
    dropped.set_value();
    t.join();
    EXPECT_EQ(destroyed_on, thread_id);
}

TEST(Threads, SwitchingToAnotherThreadsGreenletIsRefused) {
    std::promise<greenlet> handed_over;
    std::promise<void> tried;
    int runs = 0;
    std::thread t([&] {
        greenlet g([&] { ++runs; });
        handed_over.set_value(g);
        tried.get_future().wait();
        g.switch_to();  // its own thread may still run it
    });
    {
        greenlet g = handed_over.get_future().get();
        try {
            g.switch_to();
            ADD_FAILURE() << "no greenlet_error";
        } catch (const greenlet_error& e) {
            EXPECT_NE(std::string(e.what()).find("cannot switch to a different thread"), std::string::npos)
                << e.what();
        }
        EXPECT_THROW(g.throw_into(std::runtime_error("x")), greenlet_error);
        EXPECT_THROW(g.kill(), greenlet_error);
        EXPECT_THROW(greenlet([] {}, g), greenlet_error);
        greenlet mine([] {});
        EXPECT_THROW(mine.set_parent(g), greenlet_error);
        EXPECT_EQ(runs, 0);
    }
    tried.set_value();
    t.join();
    EXPECT_EQ(runs, 1);
}

}  // namespace
