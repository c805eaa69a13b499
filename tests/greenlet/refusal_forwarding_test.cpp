// A refused switch loses nothing, even a value the sender moved; a switch_value received from one
// greenlet can be passed on and taken by its real type; handles work from const contexts.
#include <gtest/gtest.h>

#include <cogent/greenlet.hpp>
#include <memory>
#include <string>

namespace {

using cogent::greenlet;
using cogent::switch_value;

TEST(Refusal, AMovedValueThatIsRefusedStaysWithTheSender) {
    greenlet main_g = greenlet::current();
    greenlet wants_int([&main_g] {
        int n = main_g.switch_to<int>();
        return n;
    });
    wants_int.switch_to();  // now waiting for an int
    auto precious = std::make_unique<std::string>("keep me");
    EXPECT_THROW(wants_int.switch_to(std::move(precious)), cogent::switch_type_error);
    ASSERT_NE(precious, nullptr);
    EXPECT_EQ(*precious, "keep me");
    EXPECT_TRUE(wants_int.active());
}

TEST(Refusal, AMovedArgumentForAnUnstartedGreenletStaysWithTheSender) {
    greenlet takes_int([](int n) { return n; });
    std::string text = "a long string that does not fit in the small buffer";
    EXPECT_THROW(takes_int.switch_to(std::move(text)), cogent::switch_type_error);
    EXPECT_EQ(text, "a long string that does not fit in the small buffer");
    EXPECT_FALSE(takes_int.started());
}

TEST(Forwarding, ASwitchValueIsSentAsWhatItHolds) {
    greenlet main_g = greenlet::current();
    // A relay takes anything and passes it on; the final receiver asks for the real type.
    greenlet sink([&main_g](std::string s) { main_g.switch_to(s + "!"); });
    greenlet relay([&sink](switch_value v) { sink.switch_to(std::move(v)); });
    EXPECT_EQ(relay.switch_to<std::string>(std::string("hello")), "hello!");
}

TEST(Forwarding, AnEmptySwitchValueIsSentAsNothing) {
    greenlet main_g = greenlet::current();
    greenlet g([&main_g] {
        switch_value nothing;
        main_g.switch_to(std::move(nothing));
    });
    switch_value received = g.switch_to<switch_value>();
    EXPECT_TRUE(received.empty());
}

TEST(Forwarding, AForwardedValueOfTheWrongTypeIsRefused) {
    greenlet main_g = greenlet::current();
    greenlet wants_int([&main_g] { return main_g.switch_to<int>(); });
    wants_int.switch_to();
    switch_value v;
    v.emplace<std::string>("not an int");
    EXPECT_THROW(wants_int.switch_to(std::move(v)), cogent::switch_type_error);
    EXPECT_TRUE(wants_int.active());
}

TEST(ConstHandles, SwitchThrowAndKillWorkThroughAConstHandle) {
    const greenlet main_g = greenlet::current();
    // A non-mutable lambda holds its captures const.
    const greenlet g([main_g] {
        main_g.switch_to(1);
        main_g.switch_to(2);
    });
    EXPECT_EQ(g.switch_to<int>(), 1);
    g.kill();
    EXPECT_TRUE(g.dead());
}

}  // namespace
