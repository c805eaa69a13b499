// The originals of the hooked functions (see libc.hpp).
#include "hooks/libc.hpp"

#include <cstdlib>
#include <cstring>
#include <sys/syscall.h>
#include <unistd.h>

namespace cogent::hooks {

void* find_original(const char* name) noexcept {
    if (void* p = ::dlsym(RTLD_NEXT, name)) return p;
    // No stdio: this may run before it is usable, or inside a hooked write.
    static constexpr char prefix[] = "cogent hooks: libc has no ";
    ::syscall(SYS_write, 2, prefix, sizeof prefix - 1);
    ::syscall(SYS_write, 2, name, std::strlen(name));
    ::syscall(SYS_write, 2, "\n", 1);
    std::abort();
}

namespace libc {
constinit libc_function<int(int, int, int)> socket{"socket"};
constinit libc_function<int(int, const sockaddr*, socklen_t)> connect{"connect"};
constinit libc_function<int(int, sockaddr*, socklen_t*)> accept{"accept"};
constinit libc_function<int(int, sockaddr*, socklen_t*, int)> accept4{"accept4"};
constinit libc_function<ssize_t(int, void*, size_t)> read{"read"};
constinit libc_function<ssize_t(int, const void*, size_t)> write{"write"};
constinit libc_function<ssize_t(int, const iovec*, int)> readv{"readv"};
constinit libc_function<ssize_t(int, const iovec*, int)> writev{"writev"};
constinit libc_function<ssize_t(int, void*, size_t, int)> recv{"recv"};
constinit libc_function<ssize_t(int, const void*, size_t, int)> send{"send"};
constinit libc_function<ssize_t(int, void*, size_t, int, sockaddr*, socklen_t*)> recvfrom{"recvfrom"};
constinit libc_function<ssize_t(int, const void*, size_t, int, const sockaddr*, socklen_t)> sendto{"sendto"};
constinit libc_function<ssize_t(int, msghdr*, int)> recvmsg{"recvmsg"};
constinit libc_function<ssize_t(int, const msghdr*, int)> sendmsg{"sendmsg"};
constinit libc_function<int(pollfd*, nfds_t, int)> poll{"poll"};
constinit libc_function<int(pollfd*, nfds_t, const timespec*, const sigset_t*)> ppoll{"ppoll"};
constinit libc_function<int(int, fd_set*, fd_set*, fd_set*, timeval*)> select{"select"};
constinit libc_function<int(int, fd_set*, fd_set*, fd_set*, const timespec*, const sigset_t*)> pselect{"pselect"};
constinit libc_function<int(int, epoll_event*, int, int)> epoll_wait{"epoll_wait"};
constinit libc_function<unsigned(unsigned)> sleep{"sleep"};
constinit libc_function<int(useconds_t)> usleep{"usleep"};
constinit libc_function<int(const timespec*, timespec*)> nanosleep{"nanosleep"};
constinit libc_function<int(clockid_t, int, const timespec*, timespec*)> clock_nanosleep{"clock_nanosleep"};
constinit libc_function<int(int)> close{"close"};
constinit libc_function<int(int)> dup{"dup"};
constinit libc_function<int(int, int)> dup2{"dup2"};
constinit libc_function<int(int, int, int)> dup3{"dup3"};
constinit libc_function<int(int, int, unsigned long)> fcntl{"fcntl"};
constinit libc_function<int(int, unsigned long, unsigned long)> ioctl{"ioctl"};
constinit libc_function<int(int, int, int, const void*, socklen_t)> setsockopt{"setsockopt"};
constinit libc_function<int(int, int, int, void*, socklen_t*)> getsockopt{"getsockopt"};
constinit libc_function<int(const char*, const char*, const addrinfo*, addrinfo**)> getaddrinfo{"getaddrinfo"};
constinit libc_function<hostent*(const char*)> gethostbyname{"gethostbyname"};
constinit libc_function<int(const char*, hostent*, char*, size_t, hostent**, int*)> gethostbyname_r{
    "gethostbyname_r"};
}  // namespace libc

}  // namespace cogent::hooks
