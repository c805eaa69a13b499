// Greenlet identity: current(), the main greenlet (is_main, no parent), handle equality, the
// empty handle, names (default "greenlet-<id>", options, set_name) and process-unique ids.
#include <gtest/gtest.h>

#include <cogent/greenlet.hpp>

#include <cstdint>
#include <set>
#include <string>
#include <thread>

namespace {

using cogent::greenlet;

TEST(Identity, CurrentAndTheMainGreenlet) {
    greenlet main_g = greenlet::current();
    ASSERT_TRUE(main_g);
    EXPECT_TRUE(main_g == greenlet::current());
    EXPECT_TRUE(main_g.is_main());
    EXPECT_FALSE(main_g.parent());
    EXPECT_TRUE(main_g.started());
    EXPECT_TRUE(main_g.active());
    EXPECT_FALSE(main_g.dead());

    greenlet inside;
    greenlet g([&] { inside = greenlet::current(); });
    g.switch_to();
    EXPECT_TRUE(inside == g);
    EXPECT_FALSE(inside == main_g);
    EXPECT_FALSE(g.is_main());
    EXPECT_TRUE(greenlet::current() == main_g);
}

TEST(Identity, EmptyHandle) {
    greenlet empty;
    EXPECT_FALSE(empty);
    EXPECT_THROW(empty.switch_to(), cogent::greenlet_error);
    EXPECT_THROW(empty.dead(), cogent::greenlet_error);
}

TEST(Identity, NamesAndIds) {
    greenlet a([] {});
    greenlet b([] {}, cogent::greenlet_options{.stack_size = 0, .name = "worker"});
    EXPECT_NE(a.id(), b.id());
    EXPECT_EQ(a.name(), "greenlet-" + std::to_string(a.id()));
    EXPECT_EQ(b.name(), "worker");
    a.set_name("renamed");
    EXPECT_EQ(a.name(), "renamed");
    greenlet copy = a;
    EXPECT_EQ(copy.name(), "renamed");
    EXPECT_EQ(copy.id(), a.id());

    std::set<std::uint64_t> ids{greenlet::current().id()};
    for (int i = 0; i < 10; ++i) ids.insert(greenlet([] {}).id());
    EXPECT_EQ(ids.size(), 11u);
}

TEST(Identity, EachThreadHasItsOwnMainGreenlet) {
    greenlet here = greenlet::current();
    greenlet there, child_parent;
    bool there_is_main = false;
    std::thread t([&] {
        there = greenlet::current();
        there_is_main = there.is_main();
        child_parent = greenlet([] {}).parent();
    });
    t.join();
    EXPECT_TRUE(there_is_main);
    EXPECT_FALSE(there == here);
    EXPECT_TRUE(child_parent == there);
    EXPECT_NE(there.id(), here.id());
}

}  // namespace
