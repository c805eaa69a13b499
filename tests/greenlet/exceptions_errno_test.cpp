// Per-greenlet runtime state that C++ and C keep per thread: the exception being handled
// (std::current_exception, `throw;`), std::uncaught_exceptions(), and errno. Each must survive a
// switch to another greenlet that uses its own, as if every greenlet were a thread.
#include <gtest/gtest.h>

#include <cogent/greenlet.hpp>

#include <cerrno>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>

namespace {

using cogent::greenlet;

// What the exception_ptr holds, for comparisons.
std::string what_of(const std::exception_ptr& e) {
    if (!e) return "none";
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& x) {
        return x.what();
    } catch (...) {
        return "non-standard";
    }
}

// The exception being handled, rethrown with `throw;` and caught.
std::string rethrow_current() {
    try {
        throw;
    } catch (const std::exception& x) {
        return x.what();
    } catch (...) {
        return "non-standard";
    }
}

TEST(ExceptionState, AnExceptionBeingHandledSurvivesASwitch) {
    greenlet a, b;
    std::string b_own, b_after_resume, a_after_switch, a_rethrown, a_after_b_died;
    bool b_clean_after_catch = false, a_clean_after_catch = false;
    b = greenlet([&] {
        try {
            throw std::logic_error("B's");
        } catch (const std::logic_error&) {
            b_own = what_of(std::current_exception());
            a.switch_to();  // back to A from inside B's catch block
            b_after_resume = what_of(std::current_exception());
        }
        b_clean_after_catch = std::current_exception() == nullptr;
    });  // b's death goes to main, its parent
    a = greenlet([&] {
        try {
            throw std::runtime_error("A's");
        } catch (const std::runtime_error&) {
            b.switch_to();
            a_after_switch = what_of(std::current_exception());
            a_rethrown = rethrow_current();
            b.switch_to();
            a_after_b_died = what_of(std::current_exception());
        }
        a_clean_after_catch = std::current_exception() == nullptr;
    });
    a.switch_to();  // returns when b dies
    EXPECT_EQ(std::current_exception(), nullptr);
    a.switch_to();
    EXPECT_EQ(b_own, "B's");
    EXPECT_EQ(a_after_switch, "A's");
    EXPECT_EQ(a_rethrown, "A's");
    EXPECT_EQ(b_after_resume, "B's");
    EXPECT_TRUE(b_clean_after_catch);
    EXPECT_EQ(a_after_b_died, "A's");
    EXPECT_TRUE(a_clean_after_catch);
    EXPECT_TRUE(a.dead());
    EXPECT_TRUE(b.dead());
}

TEST(ExceptionState, TheMainGreenletsExceptionSurvivesASwitch) {
    greenlet main_g = greenlet::current();
    std::string g_start = "unset", g_own;
    greenlet g([&] {
        g_start = what_of(std::current_exception());
        try {
            throw std::out_of_range("g's");
        } catch (...) {
            g_own = rethrow_current();
            main_g.switch_to();
        }
    });
    try {
        throw std::runtime_error("main's");
    } catch (...) {
        g.switch_to();  // started inside a catch block: g must not see main's exception
        EXPECT_EQ(what_of(std::current_exception()), "main's");
        EXPECT_EQ(rethrow_current(), "main's");
        g.switch_to();
        EXPECT_EQ(rethrow_current(), "main's");
    }
    EXPECT_EQ(std::current_exception(), nullptr);
    EXPECT_EQ(g_start, "none");
    EXPECT_EQ(g_own, "g's");
    EXPECT_TRUE(g.dead());
}

// Counts its live instances, to show that an exception object was freed.
struct counted_error : std::runtime_error {
    static inline int live = 0;
    explicit counted_error(const char* what) : std::runtime_error(what) { ++live; }
    counted_error(const counted_error& other) : std::runtime_error(other) { ++live; }
    ~counted_error() override { --live; }
};

TEST(ExceptionState, KillingAGreenletSuspendedInACatchBlock) {
    greenlet main_g = greenlet::current();
    std::string main_after;
    {
        greenlet g([&] {
            try {
                throw counted_error("g's");
            } catch (const counted_error&) {
                main_g.switch_to();
            }
        });
        try {
            throw std::runtime_error("main's");
        } catch (...) {
            g.switch_to();
            EXPECT_EQ(counted_error::live, 1);
            g.kill();  // unwinds g through its catch block, ending its handling of "g's"
            main_after = rethrow_current();
        }
        EXPECT_TRUE(g.dead());
    }
    EXPECT_EQ(main_after, "main's");
    EXPECT_EQ(counted_error::live, 0);
    EXPECT_EQ(std::current_exception(), nullptr);
}

// Runs a function from its destructor (during unwinding, when there is an exception in flight).
struct on_destruction {
    std::function<void()> run;
    ~on_destruction() { run(); }
};

TEST(ExceptionState, UncaughtExceptionsIsPerGreenlet) {
    greenlet a, b;
    int a_before = -1, a_after = -1, a_in_handler = -1, a_at_end = -1;
    int b_start = -1, b_unwinding = -1, b_after_catch = -1;
    b = greenlet([&] {
        b_start = std::uncaught_exceptions();
        try {
            on_destruction rec{[&] { b_unwinding = std::uncaught_exceptions(); }};
            throw 1;
        } catch (int) {
        }
        b_after_catch = std::uncaught_exceptions();
        a.switch_to();
    });
    a = greenlet([&] {
        try {
            on_destruction sw{[&] {
                a_before = std::uncaught_exceptions();
                b.switch_to();  // from a destructor run by unwinding
                a_after = std::uncaught_exceptions();
            }};
            throw std::runtime_error("unwinding A");
        } catch (const std::runtime_error&) {
            a_in_handler = std::uncaught_exceptions();
        }
        a_at_end = std::uncaught_exceptions();
    });
    EXPECT_EQ(std::uncaught_exceptions(), 0);
    a.switch_to();
    EXPECT_EQ(std::uncaught_exceptions(), 0);
    EXPECT_EQ(a_before, 1);
    EXPECT_EQ(b_start, 0);
    EXPECT_EQ(b_unwinding, 1);
    EXPECT_EQ(b_after_catch, 0);
    EXPECT_EQ(a_after, 1);
    EXPECT_EQ(a_in_handler, 0);
    EXPECT_EQ(a_at_end, 0);
    EXPECT_TRUE(a.dead());
}

TEST(ExceptionState, DroppingAGreenletDuringUnwindingKillsItCleanly) {
    greenlet main_g = greenlet::current();
    bool destroyed = false;
    int inside = -1, main_after_kill = -1;
    try {
        on_destruction after{[&] { main_after_kill = std::uncaught_exceptions(); }};
        greenlet g([&] {
            on_destruction d{[&] {
                inside = std::uncaught_exceptions();
                destroyed = true;
            }};
            main_g.switch_to();
        });
        g.switch_to();
        throw std::runtime_error("leaving the scope");  // unwinding drops g's last handle
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "leaving the scope");
    }
    EXPECT_TRUE(destroyed);
    EXPECT_EQ(inside, 1);           // g's own greenlet_exit
    EXPECT_EQ(main_after_kill, 1);  // main's exception, still in flight
    EXPECT_EQ(std::uncaught_exceptions(), 0);
}

TEST(Errno, IsPerGreenlet) {
    greenlet a, b;
    int a_after = -1, b_start = -1, b_after = -1;
    b = greenlet([&] {
        b_start = errno;
        errno = EAGAIN;
        a.switch_to();
        b_after = errno;
    });
    a = greenlet([&] {
        errno = EINTR;
        b.switch_to();
        a_after = errno;
        b.switch_to();  // b finishes; its death goes to main
    });
    errno = EDOM;
    a.switch_to();
    int main_after = errno;
    EXPECT_EQ(main_after, EDOM);
    EXPECT_EQ(b_start, 0);  // a new greenlet starts with errno 0, as a new thread does
    EXPECT_EQ(a_after, EINTR);
    EXPECT_EQ(b_after, EAGAIN);
}

TEST(Errno, SurvivesAGreenletsDeath) {
    greenlet g([] {
        errno = ERANGE;
        return 1;
    });
    errno = ENOENT;
    int got = g.switch_to<int>();
    int main_after = errno;
    EXPECT_EQ(got, 1);
    EXPECT_EQ(main_after, ENOENT);
}

}  // namespace
