// Timeout scopes (gevent's Timeout), timeout::run_silently and with_timeout.
#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cogent/greenlet.hpp"
#include "cogent/hub.hpp"
#include "cogent/sleep.hpp"
#include "cogent/task.hpp"
#include "cogent/timeout.hpp"
#include "cogent/waiter.hpp"
#include "hub/core_test_support.hpp"

using namespace std::chrono_literals;
using cogent_test::busy_for;

namespace {

using Timeout = cogent_test::hub_test;

TEST_F(Timeout, RaisesAtTheNextBlockingPointWithItsSource) {
    cogent::timeout limit(10ms);
    EXPECT_FALSE(limit.expired());
    try {
        cogent::sleep(1h);
        ADD_FAILURE() << "sleep returned";
    } catch (const cogent::timeout_error& e) {
        EXPECT_EQ(e.source(), &limit);
        EXPECT_TRUE(limit.raised(e));
        EXPECT_TRUE(limit.expired());
        EXPECT_NE(std::string(e.what()).find("timed out"), std::string::npos) << e.what();
    }
}

TEST_F(Timeout, RaisesInAWaitWithoutTimeout) {
    cogent::waiter never("never");
    cogent::timeout limit(5ms);
    try {
        never.wait();
        ADD_FAILURE() << "wait returned";
    } catch (const cogent::timeout_error& e) {
        EXPECT_TRUE(limit.raised(e));
        EXPECT_EQ(never.reason(), cogent::wake_reason::cancelled);
    }
}

TEST_F(Timeout, RaisesInAJoin) {
    cogent::waiter release("release");
    auto t = cogent::spawn([&] { release.wait(); });
    {
        cogent::timeout limit(5ms);
        EXPECT_THROW(t.join(), cogent::timeout_error);
    }
    EXPECT_FALSE(t.ready());
    release.wake();
    t.join();
}

TEST_F(Timeout, ScopeThatEndsFirstNeverRaises) {
    {
        cogent::timeout limit(5ms);  // ends before the hub has had a chance to see it expire
    }
    {
        cogent::timeout limit(10s);
        cogent::sleep(1ms);  // blocks inside the scope, which ends long before it expires
    }
    EXPECT_EQ(cogent::detail::hub_impl::current().timer_count(), 0u);  // both timers are gone
    cogent::sleep(20ms);  // past the first scope's deadline: nothing is raised
    cogent::yield();
    SUCCEED();
}

TEST_F(Timeout, CancelStopsTheClock) {
    cogent::timeout limit(5ms);
    limit.cancel();
    cogent::sleep(20ms);
    EXPECT_FALSE(limit.expired());
}

// The scope expired while its greenlet was away (switched out by hand, not parked, so the error
// stayed pending) and ended without blocking again: the error must not surface later.
TEST_F(Timeout, ScopeThatExpiredButNeverBlockedAgainDoesNotRaiseLater) {
    {
        cogent::timeout limit(5ms);
        cogent::greenlet away([] { cogent::sleep(30ms); });  // a plain greenlet whose parent is main
        away.switch_to();  // main is neither parked nor ready while it sleeps
        EXPECT_TRUE(away.dead());
        EXPECT_TRUE(limit.expired());
    }
    EXPECT_NO_THROW(cogent::sleep(1ms));
    EXPECT_NO_THROW(cogent::yield());
}

// Another greenlet cancels the scope after it expired, while its greenlet has been woken to raise
// the error but has not run yet. The error stands (in gevent it has already been thrown): the
// greenlet must not come back from its wait as if nothing had happened.
TEST_F(Timeout, CancelFromElsewhereAfterExpiryDoesNotCutAWaitShort) {
    cogent::timeout* scope = nullptr;
    auto t = cogent::spawn([&] {
        cogent::timeout limit(1ms);
        scope = &limit;
        auto start = cogent::clock::now();
        try {
            cogent::sleep(50ms);
        } catch (const cogent::timeout_error& e) {
            scope = nullptr;
            return limit.raised(e) ? std::string("raised") : std::string("another error");
        }
        scope = nullptr;
        return cogent::clock::now() - start >= 50ms ? std::string("slept") : std::string("woke early");
    });
    cogent::yield();
    ASSERT_NE(scope, nullptr);
    busy_for(5ms);  // the scope is due: the hub fires it at its next pass, then runs posted jobs
    cogent::this_hub().post([&] {
        if (scope != nullptr) scope->cancel();
    });
    std::string outcome = t.get();
    EXPECT_TRUE(outcome == "raised" || outcome == "slept") << outcome;
}

TEST_F(Timeout, CpuBoundSectionIsNotInterrupted) {
    cogent::timeout limit(1ms);
    long work = 0;
    auto end = cogent::clock::now() + 20ms;
    while (cogent::clock::now() < end) ++work;  // never blocks: nothing can interrupt it
    EXPECT_GT(work, 0);
    try {
        cogent::sleep(1h);  // the first blocking point
        ADD_FAILURE() << "sleep returned";
    } catch (const cogent::timeout_error& e) {
        EXPECT_TRUE(limit.raised(e));
    }
}

TEST_F(Timeout, ALoopOfYieldsGetsItSoon) {
    // A greenlet alone on the run queue may yield to itself a few times (the handoff budget)
    // before the hub looks at the clock, but no more.
    cogent::timeout limit(1ms);
    cogent_test::busy_for(5ms);
    int yields = 0;
    try {
        for (;;) {
            cogent::yield();
            ASSERT_LT(++yields, 1000) << "the expired scope was never raised";
        }
    } catch (const cogent::timeout_error& e) {
        EXPECT_TRUE(limit.raised(e));
    }
}

TEST_F(Timeout, InnerShorterScope) {
    cogent::timeout outer(1h);
    cogent::timeout* inner_address = nullptr;
    bool caught = false;
    {
        cogent::timeout inner(5ms);
        inner_address = &inner;
        try {
            cogent::sleep(1h);
        } catch (const cogent::timeout_error& e) {
            EXPECT_TRUE(inner.raised(e));
            EXPECT_FALSE(outer.raised(e));
            EXPECT_EQ(e.source(), inner_address);
            caught = true;
        }
    }
    EXPECT_TRUE(caught);
    EXPECT_FALSE(outer.expired());
    EXPECT_NO_THROW(cogent::sleep(1ms));
}

TEST_F(Timeout, OuterShorterScopeIsNotSwallowedByTheInner) {
    cogent::timeout outer(5ms);
    bool inner_swallowed = false;
    bool outer_caught = false;
    try {
        cogent::timeout inner(1h);
        try {
            cogent::sleep(1h);
        } catch (const cogent::timeout_error& e) {
            if (inner.raised(e)) {
                inner_swallowed = true;
            } else {
                throw;
            }
        }
    } catch (const cogent::timeout_error& e) {
        outer_caught = outer.raised(e);
    }
    EXPECT_FALSE(inner_swallowed);
    EXPECT_TRUE(outer_caught);
}

TEST_F(Timeout, RunSilentlyOfAnInnerScopeLetsTheOuterErrorThrough) {
    cogent::timeout outer(5ms);
    try {
        cogent::timeout::run_silently(1h, [] { cogent::sleep(1h); });
        ADD_FAILURE() << "run_silently returned";
    } catch (const cogent::timeout_error& e) {
        EXPECT_TRUE(outer.raised(e));
    }
}

// Both scopes expire while the greenlet is busy, the inner one first. The inner error is raised
// and handled; the outer one must still be raised at the next blocking point (gevent raises
// each in turn).
TEST_F(Timeout, NestedScopesExpiringTogetherRaiseBoth) {
    cogent::timeout outer(100ms);
    bool inner_expired = false;
    bool outer_raised = false;
    try {
        inner_expired = !cogent::timeout::run_silently(10ms, [] {
            busy_for(150ms);    // both deadlines pass while it cannot be interrupted
            cogent::sleep(1h);  // the inner scope's error comes here
        });
        cogent::sleep(5s);  // and the outer's here, at once
    } catch (const cogent::timeout_error& e) {
        outer_raised = outer.raised(e);
    }
    EXPECT_TRUE(inner_expired);
    EXPECT_TRUE(outer_raised);
}

TEST_F(Timeout, ScopeExpiringWhileAnotherErrorIsPendingStillRaises) {
    // A task's inner scope and outer scope; the outer's deadline passes while the inner's error
    // is still pending (not yet delivered).
    auto t = cogent::spawn([] {
        cogent::timeout outer(100ms);
        bool inner_silenced = !cogent::timeout::run_silently(10ms, [] {
            cogent::waiter never("never");
            busy_for(150ms);
            never.wait();
        });
        EXPECT_TRUE(inner_silenced);
        try {
            cogent::sleep(5s);
        } catch (const cogent::timeout_error& e) {
            return outer.raised(e);
        }
        return false;
    });
    EXPECT_TRUE(t.get());
}

TEST_F(Timeout, ExpiringBehindAPendingKillIsWithdrawnWithItsScope) {
    // Killed first (the kill pending while the task is switched out by hand), then its scope
    // expires (queued behind the kill); the scope ends, then the kill is raised: only the kill.
    std::vector<std::string> log;
    auto t = cogent::spawn([&] {
        try {
            {
                cogent::timeout limit(1ms);
                cogent::greenlet away([] { cogent::sleep(20ms); });
                away.switch_to();
            }
            log.push_back("left the scope");
            cogent::sleep(1h);
        } catch (const cogent::timeout_error&) {
            log.push_back("timeout");
        } catch (const cogent::greenlet_exit&) {
            log.push_back("killed");
            throw;
        }
        cogent::sleep(1h);
    });
    cogent::yield();      // it starts and switches to `away`, which parks
    t.kill(nullptr, false);  // pending in the task, which is neither parked nor ready
    EXPECT_TRUE(t.join(10s));
    EXPECT_EQ(log, (std::vector<std::string>{"left the scope", "killed"}));
    if (!t.ready()) t.kill(std::make_exception_ptr(std::runtime_error("cleanup")), true, 10s);
}

TEST_F(Timeout, RunSilently) {
    EXPECT_FALSE(cogent::timeout::run_silently(5ms, [] { cogent::sleep(1h); }));
    bool ran = false;
    EXPECT_TRUE(cogent::timeout::run_silently(1h, [&] {
        cogent::sleep(1ms);
        ran = true;
    }));
    EXPECT_TRUE(ran);
    // Other exceptions go through.
    EXPECT_THROW(cogent::timeout::run_silently(1h, [] { throw std::runtime_error("x"); }), std::runtime_error);
    // A timeout_error that is not its own goes through.
    EXPECT_THROW(cogent::timeout::run_silently(1h, [] { throw cogent::timeout_error(); }), cogent::timeout_error);
}

TEST_F(Timeout, WithTimeoutAndFallback) {
    int v = cogent::with_timeout(5ms, [] {
        cogent::sleep(1h);
        return 1;
    }, -1);
    EXPECT_EQ(v, -1);
    int w = cogent::with_timeout(1h, [] {
        cogent::sleep(1ms);
        return 1;
    }, -1);
    EXPECT_EQ(w, 1);
    std::string s = cogent::with_timeout(5ms, []() -> std::string {
        cogent::sleep(1h);
        return "value";
    }, "fallback");
    EXPECT_EQ(s, "fallback");
}

TEST_F(Timeout, WithTimeoutWithoutFallbackThrows) {
    try {
        cogent::with_timeout(5ms, [] {
            cogent::sleep(1h);
            return 1;
        });
        ADD_FAILURE() << "with_timeout returned";
    } catch (const cogent::timeout_error& e) {
        EXPECT_NE(e.source(), nullptr);  // its own scope's
    }
    EXPECT_EQ(cogent::with_timeout(1h, [] { return 7; }), 7);
}

TEST_F(Timeout, WithTimeoutFallbackDoesNotSwallowAnOuterTimeout) {
    cogent::timeout outer(5ms);
    try {
        cogent::with_timeout(1h, [] {
            cogent::sleep(1h);
            return 1;
        }, -1);
        ADD_FAILURE() << "with_timeout returned";
    } catch (const cogent::timeout_error& e) {
        EXPECT_TRUE(outer.raised(e));
    }
}

TEST_F(Timeout, InATaskDoesNotTouchMain) {
    auto t = cogent::spawn([] {
        cogent::timeout limit(5ms);
        try {
            cogent::sleep(1h);
        } catch (const cogent::timeout_error& e) {
            return limit.raised(e);
        }
        return false;
    });
    cogent::sleep(20ms);  // main blocks past the task's deadline, unharmed
    EXPECT_TRUE(t.get());
}

TEST_F(Timeout, InMainDoesNotTouchTasks) {
    int rounds = 0;
    auto t = cogent::spawn([&] {
        for (int i = 0; i < 5; ++i) {
            cogent::sleep(2ms);
            ++rounds;
        }
    });
    EXPECT_FALSE(cogent::timeout::run_silently(1ms, [] { cogent::sleep(1h); }));
    t.join();
    EXPECT_EQ(rounds, 5);
}

TEST_F(Timeout, UncaughtInATaskEndsTheTask) {
    cogent_test::recorded_errors errors;
    auto t = cogent::spawn([] {
        cogent::timeout limit(1ms);
        cogent::sleep(1h);
    });
    EXPECT_THROW(t.get(), cogent::timeout_error);
    EXPECT_FALSE(t.successful());
    EXPECT_EQ(errors.entries.size(), 1u);
}

TEST_F(Timeout, ForeverNeverExpires) {
    cogent::timeout limit(cogent::forever);
    cogent::sleep(2ms);
    EXPECT_FALSE(limit.expired());
}

TEST_F(Timeout, ZeroExpiresAtTheFirstBlockingPoint) {
    cogent::timeout limit(0ms);
    cogent::waiter w("never");
    EXPECT_THROW(w.wait(1h), cogent::timeout_error);
    EXPECT_TRUE(limit.expired());
}

TEST_F(Timeout, ReusedPatternInALoop) {
    int expired = 0;
    for (int i = 0; i < 20; ++i) {
        if (!cogent::timeout::run_silently(1ms, [] { cogent::sleep(1h); })) ++expired;
        EXPECT_TRUE(cogent::timeout::run_silently(1h, [] { cogent::yield(); }));
    }
    EXPECT_EQ(expired, 20);
}

TEST_F(Timeout, ExpiryAfterAWakeStillRaisesAndTheHandlerSeesTheWake) {
    // The waiter is woken (ready) and, before the greenlet runs, its scope expires: the error is
    // raised, and the handler can see the wake through reason() to undo what it was handed.
    cogent::wake_reason seen = cogent::wake_reason::none;
    cogent::waiter* parked = nullptr;
    auto t = cogent::spawn([&] {
        cogent::timeout limit(1ms);
        cogent::waiter w("handed something");
        parked = &w;
        try {
            w.wait();
        } catch (const cogent::timeout_error& e) {
            EXPECT_TRUE(limit.raised(e));
            seen = w.reason();
            return true;
        }
        return false;
    });
    cogent::yield();
    ASSERT_NE(parked, nullptr);
    busy_for(10ms);  // the scope is due
    // More ready greenlets ahead of it than the handoff budget: the hub gets control (and fires
    // the timer) before the woken task runs.
    std::vector<cogent::basic_task> ahead;
    for (int i = 0; i < 200; ++i) ahead.push_back(cogent::spawn([] {}));
    parked->wake(cogent::wake_reason::ready);
    EXPECT_TRUE(t.get());
    cogent::joinall(ahead);
    EXPECT_EQ(seen, cogent::wake_reason::ready);
}

TEST_F(Timeout, InTheHubIsALogicError) {
    cogent_test::recorded_errors errors;
    bool threw = false;
    cogent::this_hub().post([&] {
        try {
            cogent::timeout limit(1ms);
        } catch (const std::logic_error&) {
            threw = true;
        }
    });
    cogent::sleep(5ms);
    EXPECT_TRUE(threw);
}

}  // namespace
