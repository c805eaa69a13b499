// A hub per thread: its start (start_hub and its options), other threads posting to it, and its
// end with the thread, whatever its tasks are doing then.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <latch>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cogent/greenlet.hpp"
#include "cogent/hub.hpp"
#include "cogent/io_wait.hpp"
#include "cogent/sleep.hpp"
#include "cogent/task.hpp"
#include "cogent/timeout.hpp"
#include "cogent/waiter.hpp"
#include "hub/core_test_support.hpp"

using namespace std::chrono_literals;
using cogent_test::destruction_counter;
using cogent_test::in_thread;

namespace {

using Lifecycle = cogent_test::hub_test;

TEST_F(Lifecycle, EachThreadHasItsOwnHub) {
    cogent::yield();
    const void* main_hub = cogent::detail::hub_impl::existing();
    ASSERT_NE(main_hub, nullptr);
    std::mutex mutex;
    std::vector<const void*> hubs;
    std::vector<std::thread> threads;
    std::latch all_recorded(4);
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&, i] {
            EXPECT_FALSE(cogent::hub_started());
            std::vector<int> log;
            auto a = cogent::spawn([&] {
                for (int r = 0; r < 3; ++r) {
                    log.push_back(r);
                    cogent::sleep(1ms);
                }
            });
            auto b = cogent::spawn([&] { return i; });
            EXPECT_EQ(b.get(), i);
            a.join();
            EXPECT_EQ(log, (std::vector<int>{0, 1, 2}));
            EXPECT_TRUE(cogent::hub_started());
            {
                std::lock_guard lock(mutex);
                hubs.push_back(cogent::detail::hub_impl::existing());
            }
            all_recorded.arrive_and_wait();  // every hub alive at once, so no address is reused
        });
    }
    for (auto& t : threads) t.join();
    ASSERT_EQ(hubs.size(), 4u);
    for (std::size_t i = 0; i < hubs.size(); ++i) {
        EXPECT_NE(hubs[i], main_hub);
        for (std::size_t j = i + 1; j < hubs.size(); ++j) EXPECT_NE(hubs[i], hubs[j]);
    }
}

TEST_F(Lifecycle, AThreadStuckInAWaitDoesNotHoldUpAnother) {
    std::atomic<bool> release{false};
    std::atomic<bool> other_done{false};
    std::thread stuck([&] {
        cogent::keep_alive hold;
        while (!release.load()) cogent::sleep(1ms);
    });
    std::thread other([&] {
        cogent::sleep(5ms);
        cogent::run([] { cogent::sleep(1ms); });
        other_done = true;
    });
    other.join();
    EXPECT_TRUE(other_done.load());
    release = true;
    stuck.join();
}

TEST_F(Lifecycle, ThreadEndCleansUpParkedAndUnstartedTasks) {
    int destroyed = 0;
    int bodies_after_wait = 0;
    std::vector<cogent::basic_task> tasks;
    in_thread([&] {
        // parked on a waiter nobody will wake
        tasks.push_back(cogent::spawn([&] {
            destruction_counter guard(&destroyed);
            cogent::waiter never("never");
            never.wait();
            ++bodies_after_wait;
        }));
        // sleeping for an hour, inside a timeout scope
        tasks.push_back(cogent::spawn([&] {
            destruction_counter guard(&destroyed);
            cogent::timeout limit(2h);
            cogent::sleep(1h);
            ++bodies_after_wait;
        }));
        // joining a task that never ends
        tasks.push_back(cogent::spawn([&, first = tasks[0]] {
            destruction_counter guard(&destroyed);
            first.join();
            ++bodies_after_wait;
        }));
        // yielding forever (on the run queue at the end)
        tasks.push_back(cogent::spawn([&] {
            destruction_counter guard(&destroyed);
            for (;;) cogent::yield();
        }));
        cogent::sleep(1ms);  // all of the above start and park
        // never started: its function and arguments must still be destroyed
        tasks.push_back(cogent::spawn([&](destruction_counter) { ++bodies_after_wait; }, destruction_counter(&destroyed)));
        // never started, killed before it could
        auto killed = cogent::spawn([&](destruction_counter) { ++bodies_after_wait; }, destruction_counter(&destroyed));
        killed.kill(nullptr, false);
        tasks.push_back(killed);
        // due in an hour
        tasks.push_back(cogent::spawn_later(1h, [&](destruction_counter) { ++bodies_after_wait; },
                                            destruction_counter(&destroyed)));
        EXPECT_FALSE(tasks[0].ready());
        EXPECT_TRUE(tasks[0].started());
        EXPECT_FALSE(tasks[4].started());
    });
    // The four that had started unwound their stacks at the thread's end.
    EXPECT_GE(destroyed, 4);
    EXPECT_EQ(bodies_after_wait, 0);
    // The ones that were running were killed.
    for (int i = 0; i < 4; ++i) {
        EXPECT_TRUE(tasks[i].ready()) << i;
        EXPECT_TRUE(tasks[i].killed()) << i;
    }
    // The three that never started ended killed with their thread, and their functions (and
    // arguments) went with it, not with their last handle.
    for (std::size_t i = 4; i < tasks.size(); ++i) {
        EXPECT_TRUE(tasks[i].ready()) << i;
        EXPECT_TRUE(tasks[i].killed()) << i;
        EXPECT_FALSE(tasks[i].started()) << i;
    }
    EXPECT_EQ(destroyed, 7);
    // Handles outliving the thread are still safe to use and to drop here.
    for (auto& t : tasks) (void)t.name();
    tasks.clear();
    EXPECT_EQ(destroyed, 7);
}

TEST_F(Lifecycle, ThreadEndWhileTasksBlockInTheirCleanup) {
    // Destructors that block (a connection closing politely, say) still run to their end when
    // the thread ends and kills their task.
    int cleaned = 0;
    int destroyed = 0;
    in_thread([&] {
        struct polite {
            int* cleaned;
            ~polite() {
                cogent::sleep(1ms);
                cogent::yield();
                ++*cleaned;
            }
        };
        for (int i = 0; i < 3; ++i) {
            cogent::spawn([&] {
                polite p{&cleaned};
                destruction_counter guard(&destroyed);
                cogent::sleep(1h);
            });
        }
        cogent::sleep(1ms);
    });
    EXPECT_EQ(cleaned, 3);
    EXPECT_EQ(destroyed, 3);
}

TEST_F(Lifecycle, ThreadEndWithWaitListsOwnedByParkedTasks) {
    int destroyed = 0;
    in_thread([&] {
        cogent::wait_list* shared = nullptr;
        // The owner of a wait_list, parked; then tasks waiting on that list, and one idle.
        cogent::spawn([&] {
            destruction_counter guard(&destroyed);
            cogent::wait_list list;
            shared = &list;
            cogent::sleep(1h);
        });
        cogent::yield();
        for (int i = 0; i < 3; ++i) {
            cogent::spawn([&] {
                destruction_counter guard(&destroyed);
                cogent::waiter w("on the list");
                shared->push_back(w);
                w.wait();
                cogent::sleep(1h);  // woken with closed as the list dies: park again
            });
        }
        // And the reverse: a list owned by a task newer than its waiters.
        auto waiter_first = cogent::spawn([&] {
            destruction_counter guard(&destroyed);
            cogent::waiter w("on a newer list");
            cogent::sleep(2ms);
            shared->push_back(w);
            w.wait();
        });
        cogent::spawn([&] {
            destruction_counter guard(&destroyed);
            cogent::idle();
            cogent::sleep(1h);
        });
        cogent::sleep(5ms);
    });
    EXPECT_EQ(destroyed, 6);
}

TEST_F(Lifecycle, ThreadEndWithATaskWaitingOnAnFd) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    int destroyed = 0;
    in_thread([&] {
        cogent::spawn([&] {
            destruction_counter guard(&destroyed);
            cogent::wait_readable(fds[0]);
        });
        cogent::sleep(1ms);
    });
    EXPECT_EQ(destroyed, 1);
    close(fds[0]);
    close(fds[1]);
}

TEST_F(Lifecycle, ThreadEndWithLinksPending) {
    int linked = 0;
    int destroyed = 0;
    in_thread([&] {
        auto t = cogent::spawn([] { cogent::sleep(1h); });
        t.link([&, guard = std::make_shared<destruction_counter>(&destroyed)](cogent::basic_task) { ++linked; });
        cogent::sleep(1ms);
    });
    EXPECT_EQ(linked, 0);  // a hub that is ending starts nothing new
    EXPECT_EQ(destroyed, 1);
}

TEST_F(Lifecycle, ThreadEndWhileTheMainGreenletHoldsATimeout) {
    in_thread([] {
        cogent::timeout limit(1h);
        auto t = cogent::spawn([] { cogent::sleep(1h); });
        cogent::sleep(1ms);
    });
    SUCCEED();
}

TEST_F(Lifecycle, ManyThreadsAtOnce) {
    std::atomic<int> total{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&] {
            std::vector<cogent::basic_task> tasks;
            for (int j = 0; j < 100; ++j) {
                tasks.push_back(cogent::spawn([&] {
                    cogent::sleep(std::chrono::microseconds(100));
                    ++total;
                }));
            }
            for (int j = 0; j < 10; ++j) cogent::spawn([] { cogent::sleep(1h); });  // left parked
            cogent::joinall(tasks);
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(total.load(), 800);
}

TEST_F(Lifecycle, StartHubTwiceIsALogicError) {
    in_thread([] {
        EXPECT_FALSE(cogent::hub_started());
        cogent::start_hub();
        EXPECT_TRUE(cogent::hub_started());
        EXPECT_THROW(cogent::start_hub(), std::logic_error);
        EXPECT_EQ(cogent::run([] { return 1; }), 1);
    });
}

TEST_F(Lifecycle, StartHubAfterFirstUseIsALogicError) {
    in_thread([] {
        cogent::yield();
        EXPECT_THROW(cogent::start_hub(), std::logic_error);
    });
}

TEST_F(Lifecycle, StartHubChoosesTheBackend) {
    in_thread([] {
        cogent::hub_options options;
        options.backend = cogent::backend_kind::epoll;
        cogent::start_hub(options);
        EXPECT_EQ(cogent::current_backend(), cogent::backend_kind::epoll);
        EXPECT_EQ(cogent::run([] {
                      cogent::sleep(1ms);
                      return 2;
                  }),
                  2);
    });
    in_thread([] {
        cogent::hub_options options;
        options.backend = cogent::backend_kind::epoll_et;
        cogent::start_hub(options);
        EXPECT_EQ(cogent::current_backend(), cogent::backend_kind::epoll_et);
    });
}

TEST_F(Lifecycle, BackendComesFromTheEnvironment) {
    const char* name = std::getenv("COGENT_BACKEND");
    if (name == nullptr || *name == '\0') {
        EXPECT_EQ(cogent::current_backend(), cogent::backend_kind::epoll);
        return;
    }
    auto kind = cogent::parse_backend(name);
    ASSERT_TRUE(kind.has_value());
    EXPECT_EQ(cogent::current_backend(), *kind);
    EXPECT_STREQ(cogent::to_string(*kind), name);
}

TEST_F(Lifecycle, PostFromAnotherThreadRunsInTheHubsThread) {
    cogent::waiter w("posted");
    std::thread::id ran_on;
    cogent::hub_handle hub = cogent::this_hub();
    ASSERT_TRUE(hub);
    cogent::keep_alive hold;
    std::thread other([&] {
        std::this_thread::sleep_for(5ms);
        EXPECT_TRUE(hub.post([&] {
            ran_on = std::this_thread::get_id();
            w.wake();
        }));
    });
    EXPECT_EQ(w.wait(), cogent::wake_reason::ready);
    other.join();
    EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST_F(Lifecycle, PostedJobsRunInOrderAndMaySpawn) {
    cogent::hub_handle hub = cogent::this_hub();
    std::vector<int> log;
    cogent::waiter w("last job");
    cogent::keep_alive hold;
    std::thread other([&] {
        for (int i = 0; i < 100; ++i) EXPECT_TRUE(hub.post([&log, i] { log.push_back(i); }));
        EXPECT_TRUE(hub.post([&] {
            cogent::spawn([&] {
                cogent::sleep(1ms);  // a task may block
                w.wake();
            });
        }));
    });
    EXPECT_EQ(w.wait(), cogent::wake_reason::ready);
    other.join();
    ASSERT_EQ(log.size(), 100u);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(log[i], i);
}

TEST_F(Lifecycle, ManyPostersAtOnce) {
    cogent::hub_handle hub = cogent::this_hub();
    int received = 0;
    constexpr int posters = 4;
    constexpr int each = 500;
    cogent::waiter w("all posted");
    cogent::keep_alive hold;
    std::vector<std::thread> threads;
    for (int p = 0; p < posters; ++p) {
        threads.emplace_back([&] {
            for (int i = 0; i < each; ++i) {
                EXPECT_TRUE(hub.post([&] {
                    if (++received == posters * each) w.wake();
                }));
            }
        });
    }
    EXPECT_EQ(w.wait(), cogent::wake_reason::ready);
    for (auto& t : threads) t.join();
    EXPECT_EQ(received, posters * each);
}

TEST_F(Lifecycle, PostAfterTheHubsThreadEndedReturnsFalse) {
    cogent::hub_handle hub;
    bool ran = false;
    in_thread([&] {
        hub = cogent::this_hub();
        cogent::yield();
    });
    ASSERT_TRUE(hub);
    EXPECT_FALSE(hub.post([&] { ran = true; }));
    EXPECT_FALSE(ran);
}

TEST_F(Lifecycle, JobsPostedButNotRunWhenTheThreadEndsAreDropped) {
    std::atomic<bool> ran{false};
    auto flag = std::make_shared<int>(0);
    std::weak_ptr<int> watch = flag;
    in_thread([&] {
        cogent::hub_handle hub = cogent::this_hub();
        // Posted from this very thread, which then ends without running its loop again.
        EXPECT_TRUE(hub.post([&ran, flag = std::move(flag)] { ran = true; }));
    });
    EXPECT_FALSE(ran.load());
    EXPECT_TRUE(watch.expired());  // the job was destroyed
}

TEST_F(Lifecycle, EmptyHubHandle) {
    cogent::hub_handle h;
    EXPECT_FALSE(h);
    EXPECT_THROW(h.post([] {}), std::logic_error);
}

TEST_F(Lifecycle, MainGreenletKeepsItsHubAcrossTests) {
    // The test thread's hub is made once and reused: it is still the same after a task or two.
    cogent::yield();
    const void* before = cogent::detail::hub_impl::existing();
    cogent::run([] { cogent::sleep(1ms); });
    EXPECT_EQ(cogent::detail::hub_impl::existing(), before);
    EXPECT_TRUE(cogent::hub_started());
}

TEST_F(Lifecycle, JoiningOrKillingAnotherThreadsTaskIsRefused) {
    cogent::waiter release("release");
    auto t = cogent::spawn([&] { release.wait(); });
    cogent::yield();
    std::string join_error, kill_error;
    std::thread other([&] {
        try {
            t.join(1s);
        } catch (const std::logic_error& e) {
            join_error = e.what();
        }
        try {
            t.kill();
        } catch (const std::logic_error& e) {
            kill_error = e.what();
        }
    });
    other.join();
    EXPECT_NE(join_error.find("another thread"), std::string::npos) << join_error;
    EXPECT_NE(kill_error.find("another thread"), std::string::npos) << kill_error;
    EXPECT_FALSE(t.ready());  // untouched
    release.wake();
    EXPECT_TRUE(t.join(10s));
}

}  // namespace
