// The I/O backends, through the public API. Every test here runs once per backend (ctest names
// "<backend>.Backend.*", COGENT_BACKEND set accordingly); the few about one backend skip elsewhere.
//
// Waiting tasks read in a loop that goes back to waiting on EAGAIN, because the hub may wake a
// waiter spuriously. So "not woken yet" is checked as "has not finished", and a backend that
// loses a wake-up fails by a join running out of its (generous) time.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "cogent/errors.hpp"
#include "cogent/hub.hpp"
#include "cogent/io_wait.hpp"
#include "cogent/sleep.hpp"
#include "cogent/task.hpp"
#include "cogent/timeout.hpp"
#include "cogent/waiter.hpp"

using namespace std::chrono_literals;
using cogent::backend_kind;

namespace {

constexpr auto patience = 10s;  // how long a wake-up that must come may take
constexpr auto settle = 30ms;   // lets spawned tasks start and park, and the hub poll

void close_fd(int fd) {
    cogent::notify_close(fd);
    ::close(fd);
}

// A non-blocking pipe, or socket pair; closes (with notify_close) whatever end is not -1.
struct fd_pair {
    int fd[2];
    explicit fd_pair(bool socket = false) {
        int rc = socket ? ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fd)
                        : ::pipe2(fd, O_NONBLOCK | O_CLOEXEC);
        if (rc != 0) throw std::system_error(errno, std::generic_category(), "pipe/socketpair");
    }
    ~fd_pair() {
        for (int f : fd) {
            if (f >= 0) close_fd(f);
        }
    }
    fd_pair(const fd_pair&) = delete;
    fd_pair& operator=(const fd_pair&) = delete;
};

// Writes until the kernel has no more room (EAGAIN).
void fill(int fd) {
    static char chunk[65536];
    while (::write(fd, chunk, sizeof chunk) > 0 || errno == EINTR) {
    }
    ASSERT_EQ(errno, EAGAIN);
}

// Reads until nothing is left (EAGAIN) or the end.
void drain(int fd) {
    static char chunk[65536];
    while (::read(fd, chunk, sizeof chunk) > 0 || errno == EINTR) {
    }
}

// Waits until it reads one byte, and returns it ('\0' at the end of the file).
char read_byte(int fd) {
    for (;;) {
        cogent::wait_readable(fd, patience);
        char c;
        ssize_t n = ::read(fd, &c, 1);
        if (n >= 0) return n == 1 ? c : '\0';
        if (errno != EAGAIN) throw std::system_error(errno, std::generic_category(), "read");
    }
}
cogent::task<char> read_one(int fd) {
    return cogent::spawn(read_byte, fd);
}

// A task that waits until it writes one byte; returns the errno of the write (0 on success).
cogent::task<int> write_one(int fd) {
    return cogent::spawn([fd] {
        for (;;) {
            cogent::wait_writable(fd, patience);
            if (::send(fd, "w", 1, MSG_NOSIGNAL) == 1) return 0;
            if (errno == ENOTSOCK && ::write(fd, "w", 1) == 1) return 0;
            if (errno != EAGAIN) return errno;
        }
    });
}

// The error code of the std::system_error that fn() throws; none if it returns.
template <class F>
std::error_code error_of(F fn) {
    try {
        fn();
        return {};
    } catch (const std::system_error& e) {
        return e.code();
    }
}

bool is(backend_kind kind) {
    return cogent::current_backend() == kind;
}

cogent::hub_options options_for(backend_kind kind) {
    cogent::hub_options options;
    options.backend = kind;
    return options;
}

}  // namespace

TEST(Backend, IsTheOneTheEnvironmentNames) {
    const char* name = std::getenv("COGENT_BACKEND");
    if (name == nullptr) GTEST_SKIP() << "COGENT_BACKEND is not set";
    ASSERT_TRUE(cogent::parse_backend(name).has_value()) << name;
    EXPECT_EQ(cogent::current_backend(), *cogent::parse_backend(name));
}

TEST(Backend, ReadableWakesTheReader) {
    fd_pair p;
    auto reader = read_one(p.fd[0]);
    cogent::sleep(settle);
    EXPECT_FALSE(reader.ready());
    ASSERT_EQ(::write(p.fd[1], "r", 1), 1);
    EXPECT_EQ(reader.get(patience), 'r');
}

TEST(Backend, WritableWakesTheWriter) {
    fd_pair p;
    fill(p.fd[1]);
    auto writer = write_one(p.fd[1]);
    cogent::sleep(settle);
    EXPECT_FALSE(writer.ready());
    drain(p.fd[0]);
    EXPECT_EQ(writer.get(patience), 0);
}

TEST(Backend, AReaderAndAWriterOnOneFdWakeIndependently) {
    fd_pair s(true);
    fill(s.fd[0]);
    auto reader = read_one(s.fd[0]);
    auto writer = write_one(s.fd[0]);
    cogent::sleep(settle);
    EXPECT_FALSE(reader.ready());
    EXPECT_FALSE(writer.ready());
    ASSERT_EQ(::write(s.fd[1], "r", 1), 1);
    EXPECT_EQ(reader.get(patience), 'r');
    cogent::sleep(settle);
    EXPECT_FALSE(writer.ready()) << "the writer finished although its fd's buffer is still full";
    drain(s.fd[1]);
    EXPECT_EQ(writer.get(patience), 0);
}

TEST(Backend, ManyFdsEachWithAReaderWakeInAnyOrder) {
    constexpr int count = 200;
    std::vector<std::unique_ptr<fd_pair>> pipes;
    std::vector<cogent::task<char>> readers;
    for (int i = 0; i < count; ++i) {
        pipes.push_back(std::make_unique<fd_pair>());
        readers.push_back(read_one(pipes.back()->fd[0]));
    }
    cogent::sleep(settle);
    std::vector<std::size_t> order(count);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), std::mt19937(20240611));
    for (int k = 0; k < count; ++k) {
        std::size_t i = order[static_cast<std::size_t>(k)];
        char byte = static_cast<char>('A' + i % 26);
        ASSERT_EQ(::write(pipes[i]->fd[1], &byte, 1), 1);
        ASSERT_EQ(readers[i].get(patience), byte) << "reader " << i;
        auto finished =
            std::count_if(readers.begin(), readers.end(), [](const auto& t) { return t.ready(); });
        ASSERT_EQ(finished, k + 1) << "a reader finished without its byte";
    }
}

TEST(Backend, WaitsOnFdsTimeOut) {
    fd_pair in;
    fd_pair out;
    EXPECT_THROW(cogent::wait_readable(in.fd[0], 20ms), cogent::timeout_error);
    std::error_code ec;
    EXPECT_FALSE(cogent::wait_readable(in.fd[0], 20ms, ec));
    EXPECT_EQ(ec, std::errc::timed_out);
    {
        cogent::timeout scope(20ms);
        try {
            cogent::wait_readable(in.fd[0]);
            ADD_FAILURE() << "the wait outlived its timeout scope";
        } catch (const cogent::timeout_error& e) {
            EXPECT_TRUE(scope.raised(e));
        }
    }
    fill(out.fd[1]);
    EXPECT_THROW(cogent::wait_writable(out.fd[1], 20ms), cogent::timeout_error);
    // The waits that timed out left nothing behind that stops later ones from being woken.
    auto reader = read_one(in.fd[0]);
    auto writer = write_one(out.fd[1]);
    cogent::sleep(settle);
    EXPECT_FALSE(reader.ready());
    EXPECT_FALSE(writer.ready());
    drain(out.fd[0]);
    EXPECT_EQ(writer.get(patience), 0);
    ASSERT_EQ(::write(in.fd[1], "i", 1), 1);
    EXPECT_EQ(reader.get(patience), 'i');
}

TEST(Backend, HangUpWakesTheReaderAndTheWriter) {
    fd_pair p;
    auto pipe_reader = read_one(p.fd[0]);
    fd_pair s(true);
    fill(s.fd[0]);
    auto socket_writer = write_one(s.fd[0]);
    cogent::sleep(settle);
    EXPECT_FALSE(pipe_reader.ready());
    EXPECT_FALSE(socket_writer.ready());
    ::close(std::exchange(p.fd[1], -1));
    ::close(std::exchange(s.fd[1], -1));
    EXPECT_EQ(pipe_reader.get(patience), '\0');
    EXPECT_EQ(socket_writer.get(patience), EPIPE);
}

TEST(Backend, ASecondReaderOnOneFdIsRefused) {
    fd_pair p;
    auto first = read_one(p.fd[0]);
    cogent::sleep(settle);
    EXPECT_THROW(cogent::wait_readable(p.fd[0], patience), cogent::concurrent_wait_error);
    // The refusal disturbed nothing: the first reader is still watched.
    ASSERT_EQ(::write(p.fd[1], "1", 1), 1);
    EXPECT_EQ(first.get(patience), '1');
}

TEST(Backend, NotifyCloseWakesWaitersWithEbadf) {
    fd_pair s(true);
    fill(s.fd[0]);
    int fd = s.fd[0];
    auto reader = cogent::spawn([fd] { return error_of([fd] { cogent::wait_readable(fd, patience); }); });
    auto writer = cogent::spawn([fd] {
        std::error_code ec;
        cogent::wait_writable(fd, patience, ec);
        return ec;
    });
    cogent::sleep(settle);
    EXPECT_FALSE(reader.ready());
    EXPECT_FALSE(writer.ready());
    close_fd(std::exchange(s.fd[0], -1));
    // Closed at once: nothing the backend kept for the waiters holds the socket open.
    EXPECT_EQ(::send(s.fd[1], "x", 1, MSG_NOSIGNAL), -1);
    EXPECT_EQ(errno, EPIPE) << std::strerror(errno);
    EXPECT_EQ(reader.get(patience), std::errc::bad_file_descriptor);
    EXPECT_EQ(writer.get(patience), std::errc::bad_file_descriptor);
}

TEST(Backend, AClosedFdsNumberIsWatchedAfreshWhenReused) {
    fd_pair old;
    int number = old.fd[0];
    // Leave what a backend may keep after a wait (a lazy registration, an armed poll), then make
    // the old pipe readable while nobody waits: an event a careless backend would misreport.
    EXPECT_THROW(cogent::wait_readable(number, 20ms), cogent::timeout_error);
    ASSERT_EQ(::write(old.fd[1], "o", 1), 1);
    cogent::sleep(settle);
    close_fd(std::exchange(old.fd[0], -1));
    fd_pair fresh;  // takes the lowest free number, most likely the old one; if not, it is made to
    bool duplicated = fresh.fd[0] != number;
    if (duplicated) {
        ASSERT_EQ(::dup2(fresh.fd[0], number), number);
    }
    auto reader = read_one(number);
    cogent::sleep(settle);
    EXPECT_FALSE(reader.ready()) << "the reader of the reused number read something";
    ASSERT_EQ(::write(fresh.fd[1], "n", 1), 1);
    EXPECT_EQ(reader.get(patience), 'n');
    if (duplicated) close_fd(number);
}

// notify_close is required only for an fd somebody waits on: between waits, a plain close() will do.
TEST(Backend, AFdClosedWithoutNotifyCloseBetweenWaitsCanBeReused) {
    fd_pair old;
    int number = std::exchange(old.fd[0], -1);
    EXPECT_THROW(cogent::wait_readable(number, 20ms), cogent::timeout_error);
    ::close(number);  // the old pipe's other end stays open: nothing more happens to it
    fd_pair fresh;
    bool duplicated = fresh.fd[0] != number;
    if (duplicated) {
        ASSERT_EQ(::dup2(fresh.fd[0], number), number);
    }
    auto reader = read_one(number);
    cogent::sleep(settle);
    ASSERT_EQ(::write(fresh.fd[1], "n", 1), 1);
    EXPECT_EQ(reader.get(patience), 'n');
    if (duplicated) close_fd(number);
}

// A socket closed after a wait that timed out is closed at once for its peer, with or without
// notify_close: nothing left behind (io_uring's poll holds a reference to the file) keeps it open.
TEST(Backend, ASocketClosedAfterATimedOutWaitReachesItsPeerAtOnce) {
    for (bool notify : {true, false}) {
        fd_pair s(true);
        EXPECT_THROW(cogent::wait_readable(s.fd[0], 20ms), cogent::timeout_error);
        int fd = std::exchange(s.fd[0], -1);
        notify ? close_fd(fd) : void(::close(fd));
        char c;
        EXPECT_EQ(::read(s.fd[1], &c, 1), 0)
            << "the peer does not see the end (notify_close: " << notify << "): " << std::strerror(errno);
    }
}

// select and poll notice an fd closed while waited on (EBADF, POLLNVAL) and wake its waiter.
// epoll forgets such an fd silently and io_uring's poll keeps the file open: under them, as the
// contract says, notify_close must come first.
TEST(Backend, AFdClosedBehindTheHubsBackWakesItsWaiter) {
    if (!is(backend_kind::select) && !is(backend_kind::poll)) GTEST_SKIP() << "select and poll only";
    fd_pair p;
    int fd = ::dup(p.fd[0]);
    ASSERT_GE(fd, 0);
    auto reader = cogent::spawn([fd] { return error_of([fd] { read_byte(fd); }); });
    cogent::sleep(settle);
    EXPECT_FALSE(reader.ready());
    ::close(fd);
    EXPECT_EQ(reader.get(patience), std::errc::bad_file_descriptor);
    auto other = read_one(p.fd[0]);  // the hub goes on as before
    ASSERT_EQ(::write(p.fd[1], "b", 1), 1);
    EXPECT_EQ(other.get(patience), 'b');
}

TEST(Backend, ARegularFileIsReadyAtOnceAndLeavesTheHubIdle) {
    std::string path = ::testing::TempDir() + "cogent_backend_test_XXXXXX";
    int fd = ::mkstemp(path.data());
    ASSERT_GE(fd, 0);
    ::unlink(path.c_str());
    ASSERT_EQ(::write(fd, "f", 1), 1);
    ASSERT_EQ(::lseek(fd, 0, SEEK_SET), 0);
    for (int i = 0; i < 3; ++i) {
        cogent::wait_readable(fd, patience);
        cogent::wait_writable(fd, patience);
    }
    EXPECT_EQ(read_one(fd).get(patience), 'f');
    // Sleeping afterwards, the hub must block in its poll, not spin on the file nobody waits for
    // any more: a spinning hub never gives up the processor of its own accord.
    auto blocked = [] {
        rusage usage{};
        ::getrusage(RUSAGE_THREAD, &usage);
        return usage.ru_nvcsw;
    };
    auto before = blocked();
    cogent::sleep(100ms);
    EXPECT_GT(blocked(), before) << "the hub never blocked while it slept";
    close_fd(fd);
}

TEST(Backend, APostFromAnotherThreadWakesTheSleepingHub) {
    cogent::hub_handle hub = cogent::this_hub();
    for (int round = 0; round < 3; ++round) {  // more than once: the hub's own fd stays watched
        cogent::waiter w("a post");
        std::thread poster([&] {
            std::this_thread::sleep_for(20ms);  // so that the hub is asleep in its poll
            hub.post([&] { w.wake(cogent::wake_reason::ready); });
        });
        cogent::wake_reason reason = w.wait(patience);
        poster.join();
        EXPECT_EQ(reason, cogent::wake_reason::ready) << "round " << round;
    }
}

TEST(Backend, SelectRefusesFdsFromFdSetsizeUp) {
    if (!is(backend_kind::select)) GTEST_SKIP() << "select only";
    fd_pair p;
    int high = 1500;
    ASSERT_EQ(::dup2(p.fd[0], high), high);
    try {
        cogent::wait_readable(high, patience);
        ADD_FAILURE() << "select waited on fd 1500";
    } catch (const cogent::backend_error& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("1500"), std::string::npos) << what;
        EXPECT_NE(what.find("FD_SETSIZE"), std::string::npos) << what;
        EXPECT_NE(what.find("poll"), std::string::npos) << what;
    }
    close_fd(high);
    auto reader = read_one(p.fd[0]);  // the hub goes on as before
    ASSERT_EQ(::write(p.fd[1], "s", 1), 1);
    EXPECT_EQ(reader.get(patience), 's');
}

TEST(Backend, EdgeTriggeredWakesOnNewDataAfterDraining) {
    if (!is(backend_kind::epoll_et)) GTEST_SKIP() << "epoll_et only";
    fd_pair p;
    ASSERT_EQ(::write(p.fd[1], "abc", 3), 3);
    for (int round = 0; round < 3; ++round) {
        drain(p.fd[0]);  // the contract: wait only once a read has returned EAGAIN
        auto reader = read_one(p.fd[0]);
        cogent::sleep(settle);
        EXPECT_FALSE(reader.ready());
        ASSERT_EQ(::write(p.fd[1], "xy", 2), 2);
        EXPECT_EQ(reader.get(patience), 'x') << "round " << round;
    }
}

TEST(Backend, BackendsAreChosenByNameOrOptionAndBadNamesAreClearErrors) {
    EXPECT_FALSE(cogent::parse_backend("kqueue").has_value());
    EXPECT_FALSE(cogent::parse_backend("").has_value());
    for (auto kind : {backend_kind::select, backend_kind::poll, backend_kind::epoll, backend_kind::epoll_et,
                      backend_kind::io_uring}) {
        EXPECT_EQ(cogent::parse_backend(cogent::to_string(kind)), kind);
        // An explicit option wins over COGENT_BACKEND. A thread's hub ends with the thread.
        std::thread([kind] {
            cogent::start_hub(options_for(kind));
            EXPECT_EQ(cogent::current_backend(), kind);
            EXPECT_THROW(cogent::start_hub(), std::logic_error);
        }).join();
    }
    auto start_error = [](auto start) {
        std::string error = "no error";
        std::thread([&] {
            try {
                start();
            } catch (const cogent::backend_error& e) {
                error = e.what();
            }
        }).join();
        return error;
    };
    std::string saved = std::getenv("COGENT_BACKEND") != nullptr ? std::getenv("COGENT_BACKEND") : "";
    ::setenv("COGENT_BACKEND", "kqueue", 1);
    std::string by_start_hub = start_error([] { cogent::start_hub(); });
    std::string lazily = start_error([] { cogent::current_backend(); });
    saved.empty() ? ::unsetenv("COGENT_BACKEND") : ::setenv("COGENT_BACKEND", saved.c_str(), 1);
    for (const std::string& error : {by_start_hub, lazily}) {
        EXPECT_NE(error.find("COGENT_BACKEND=kqueue"), std::string::npos) << error;
        EXPECT_NE(error.find("epoll"), std::string::npos)
            << "the error lists the names that exist: " << error;
    }
}

// io_uring refused (here by a seccomp filter, as a container may install): asking for it, by
// option or by COGENT_BACKEND, fails saying why and what to use instead; the default is epoll.
TEST(Backend, RefusedIoUringIsAClearErrorNotAFallback) {
    auto refuse_io_uring_then_ask_for_it = [] {
        sock_filter filter[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        sock_fprog program{static_cast<unsigned short>(std::size(filter)), filter};
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
            ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
            std::fprintf(stderr, "cannot install the seccomp filter\n");
            std::_Exit(2);
        }
        int refusals = 0;
        std::string kind = "none";
        auto attempt = [&](const cogent::hub_options& options) {
            std::thread([&] {
                try {
                    cogent::start_hub(options);
                    kind = cogent::to_string(cogent::current_backend());
                } catch (const cogent::backend_error& e) {
                    std::fprintf(stderr, "%s\n", e.what());
                    ++refusals;
                }
            }).join();
        };
        attempt(options_for(backend_kind::io_uring));
        ::setenv("COGENT_BACKEND", "io_uring", 1);
        attempt({});
        ::unsetenv("COGENT_BACKEND");
        attempt({});
        std::_Exit(refusals == 2 && kind == "epoll" ? 0 : 3);
    };
    EXPECT_EXIT(refuse_io_uring_then_ask_for_it(), ::testing::ExitedWithCode(0),
                "io_uring is unavailable here: .*Operation not permitted.*seccomp.*epoll");
}
