// libc's own versions of the functions the hooks interpose, found with dlsym(RTLD_NEXT) (the next
// definition after ours in the lookup order: libc's, or a sanitizer's interceptor in front of
// it). Each is looked up on its first use, from whatever thread makes it, and kept: racing
// lookups find the same address, so a relaxed atomic is enough, and there is no initialisation
// order to get wrong when a hooked call comes from another library's constructor before main.
#pragma once

#include <dlfcn.h>
#include <netdb.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include <atomic>

namespace cogent::hooks {

// Looks `name` up with dlsym(RTLD_NEXT); aborts with a message naming it if it is missing, since
// a hook without its original cannot do anything sensible.
void* find_original(const char* name) noexcept;

template <class Signature>
class libc_function;

template <class R, class... A>
class libc_function<R(A...)> {
public:
    using pointer = R (*)(A...);
    constexpr explicit libc_function(const char* name) noexcept : name_(name) {}

    pointer get() const noexcept {
        pointer p = fn_.load(std::memory_order_relaxed);
        if (p == nullptr) [[unlikely]] {
            p = reinterpret_cast<pointer>(find_original(name_));
            fn_.store(p, std::memory_order_relaxed);
        }
        return p;
    }
    template <class... B>
    R operator()(B... args) const {
        return get()(args...);
    }

private:
    const char* name_;
    mutable std::atomic<pointer> fn_{nullptr};
};

// The originals, one per hooked function (fcntl and ioctl take their optional argument as a
// pointer-sized value, which is how the x86-64 and AArch64 ABIs pass either an int or a pointer).
namespace libc {
extern constinit libc_function<int(int, int, int)> socket;
extern constinit libc_function<int(int, const sockaddr*, socklen_t)> connect;
extern constinit libc_function<int(int, sockaddr*, socklen_t*)> accept;
extern constinit libc_function<int(int, sockaddr*, socklen_t*, int)> accept4;
extern constinit libc_function<ssize_t(int, void*, size_t)> read;
extern constinit libc_function<ssize_t(int, const void*, size_t)> write;
extern constinit libc_function<ssize_t(int, const iovec*, int)> readv;
extern constinit libc_function<ssize_t(int, const iovec*, int)> writev;
extern constinit libc_function<ssize_t(int, void*, size_t, int)> recv;
extern constinit libc_function<ssize_t(int, const void*, size_t, int)> send;
extern constinit libc_function<ssize_t(int, void*, size_t, int, sockaddr*, socklen_t*)> recvfrom;
extern constinit libc_function<ssize_t(int, const void*, size_t, int, const sockaddr*, socklen_t)> sendto;
extern constinit libc_function<ssize_t(int, msghdr*, int)> recvmsg;
extern constinit libc_function<ssize_t(int, const msghdr*, int)> sendmsg;
extern constinit libc_function<int(pollfd*, nfds_t, int)> poll;
extern constinit libc_function<int(pollfd*, nfds_t, const timespec*, const sigset_t*)> ppoll;
extern constinit libc_function<int(int, fd_set*, fd_set*, fd_set*, timeval*)> select;
extern constinit libc_function<int(int, fd_set*, fd_set*, fd_set*, const timespec*, const sigset_t*)> pselect;
extern constinit libc_function<int(int, epoll_event*, int, int)> epoll_wait;
extern constinit libc_function<unsigned(unsigned)> sleep;
extern constinit libc_function<int(useconds_t)> usleep;
extern constinit libc_function<int(const timespec*, timespec*)> nanosleep;
extern constinit libc_function<int(clockid_t, int, const timespec*, timespec*)> clock_nanosleep;
extern constinit libc_function<int(int)> close;
extern constinit libc_function<int(int)> dup;
extern constinit libc_function<int(int, int)> dup2;
extern constinit libc_function<int(int, int, int)> dup3;
extern constinit libc_function<int(int, int, unsigned long)> fcntl;
extern constinit libc_function<int(int, unsigned long, unsigned long)> ioctl;
extern constinit libc_function<int(int, int, int, const void*, socklen_t)> setsockopt;
extern constinit libc_function<int(int, int, int, void*, socklen_t*)> getsockopt;
extern constinit libc_function<int(const char*, const char*, const addrinfo*, addrinfo**)> getaddrinfo;
extern constinit libc_function<hostent*(const char*)> gethostbyname;
extern constinit libc_function<int(const char*, hostent*, char*, size_t, hostent**, int*)> gethostbyname_r;
}  // namespace libc

}  // namespace cogent::hooks
