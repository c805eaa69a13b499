// What the interposers (src/hooks/, a library of their own) need from cogent's core, as a table of
// plain function pointers. Not a public interface.
//
// Why a table instead of calls: the LD_PRELOAD form of the hooks (libcogent_hooks.so) does not
// contain the core; it finds the one copy that the executable carries with
// dlsym(RTLD_DEFAULT, "cogent_monkey_core_v1") and, if there is none, stays a plain pass-through
// to libc. A table of C-compatible entries is what such a lookup can return, and it keeps the
// shared object free of references to cogent's C++ symbols (typeinfo, vtables) that would make
// loading it fail in a program without cogent.
#pragma once

#include <atomic>
#include <cstdint>

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

namespace cogent::detail::monkey {

// Deadlines cross the table as nanoseconds on the steady clock (cogent::clock); no_deadline is
// "wait as long as it takes".
inline constexpr std::int64_t no_deadline = INT64_MAX;

struct core_api {
    // The layout's version; a hooks library built against another refuses to use the table.
    unsigned version;
    // patch_all() is in effect. Read first, inline, so that an unpatched call costs one load.
    const std::atomic<bool>* patched;

    // Whether this thread runs a greenlet that may park: a hub exists on the thread, the current
    // greenlet is neither the hub nor the thread's main greenlet, and it is not inside a
    // monkey::blocking_scope. Cheap (three thread-local loads).
    bool (*cooperative)() noexcept;
    // Claims the role of the process's interposers; false if another copy already has it (the
    // executable links cogent::hooks and libcogent_hooks.so is preloaded as well).
    bool (*register_interposers)() noexcept;

    // Parks the current greenlet until `fd` has one of `events` (POLLIN or POLLOUT), the deadline
    // passes, or notify_close(fd) is called: 0, ETIMEDOUT or EBADF. Kills and expired timeout
    // scopes propagate as C++ exceptions. When the fd's slot is already taken by another
    // greenlet, or the backend cannot watch the fd, it falls back to asking the kernel every
    // millisecond instead of failing.
    int (*wait_fd)(int fd, short events, std::int64_t deadline);
    // cogent::poll: poll(2)'s answer, or -1 with errno set. A negative timeout waits forever.
    int (*poll)(pollfd* fds, nfds_t count, std::int64_t deadline);
    // Parks the current greenlet until the deadline.
    void (*sleep_until)(std::int64_t deadline);
    // cogent::notify_close: wakes greenlets waiting on `fd` before it is closed.
    void (*notify_close)(int fd) noexcept;
    // The steady clock now, as deadlines are counted.
    std::int64_t (*now)() noexcept;

    // getaddrinfo through cogent::resolve (c-ares, parking), with libc's result layout (the list
    // is freed by libc's freeaddrinfo). Returns 0 or an EAI_* code, as getaddrinfo does.
    int (*getaddrinfo)(const char* node, const char* service, const addrinfo* hints, addrinfo** result);
    // The addresses of `name` in `family` (AF_INET or AF_INET6) for gethostbyname*: calls
    // `each` for every address (4 or 16 bytes). Returns 0, or an h_errno value (HOST_NOT_FOUND,
    // NO_DATA, TRY_AGAIN, NO_RECOVERY).
    int (*resolve_host)(const char* name, int family, void (*each)(void* context, const void* address),
                        void* context);
    // libc's own getaddrinfo on a worker of cogent's thread pool, parking until it returns: how
    // the lookups that c-ares cannot answer with libc's exact meaning (AI_CANONNAME,
    // AI_V4MAPPED, families other than IP) still leave the hub free. `original` is libc's.
    int (*getaddrinfo_in_thread)(decltype(&::getaddrinfo) original, const char* node, const char* service,
                                 const addrinfo* hints, addrinfo** result);
};

inline constexpr unsigned core_api_version = 1;

}  // namespace cogent::detail::monkey

// Exported by the core (src/hub/monkey_state.cpp) under a C name, for dlsym.
extern "C" const cogent::detail::monkey::core_api* cogent_monkey_core_v1() noexcept;
