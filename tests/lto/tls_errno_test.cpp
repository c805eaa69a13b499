// Built at -O2 with link-time optimisation, library included, so the optimiser sees as much as
// it ever will: a switch must still not let it keep errno or a thread_local in a register (or
// keep their addresses) across the switch in a way that breaks what each greenlet sees.
#include <gtest/gtest.h>

#include <cerrno>
#include <cogent/greenlet.hpp>

namespace {

thread_local int shared_by_the_thread = 0;

TEST(OptimisedSwitch, ErrnoIsPerGreenlet) {
    cogent::greenlet main = cogent::greenlet::current();
    cogent::greenlet other([&main] {
        errno = EAGAIN;
        main.switch_to();
        int seen = errno;  // must still be this greenlet's EAGAIN, not main's EINTR
        main.switch_to(seen);
    });
    errno = EINTR;
    other.switch_to();
    EXPECT_EQ(errno, EINTR);
    int other_saw = other.switch_to<int>();
    EXPECT_EQ(other_saw, EAGAIN);
    EXPECT_EQ(errno, EINTR);
}

TEST(OptimisedSwitch, ThreadLocalWritesAreSeenAcrossSwitches) {
    cogent::greenlet main = cogent::greenlet::current();
    cogent::greenlet writer([&main] {
        for (int i = 1; i <= 100; ++i) {
            shared_by_the_thread = i;
            main.switch_to();
        }
    });
    shared_by_the_thread = 0;
    for (int i = 1; i <= 100; ++i) {
        int before = shared_by_the_thread;
        writer.switch_to();
        // Without a reload after the switch, an optimiser that cached `before` would see i - 1.
        EXPECT_EQ(shared_by_the_thread, i);
        EXPECT_EQ(before, i - 1);
    }
}

TEST(OptimisedSwitch, ErrnoAddressIsStableAcrossSwitches) {
    cogent::greenlet main = cogent::greenlet::current();
    int* address_in_greenlet_before = nullptr;
    int* address_in_greenlet_after = nullptr;
    cogent::greenlet g([&] {
        address_in_greenlet_before = &errno;
        main.switch_to();
        address_in_greenlet_after = &errno;
    });
    g.switch_to();
    g.switch_to();
    // Greenlets never change threads, so the thread's errno is the same object throughout.
    EXPECT_EQ(address_in_greenlet_before, &errno);
    EXPECT_EQ(address_in_greenlet_after, &errno);
}

}  // namespace
