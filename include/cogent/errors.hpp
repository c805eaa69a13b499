// The exceptions cogent raises (beyond std::system_error for failed system calls).
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <typeinfo>

namespace cogent {

// Misuse of a greenlet: switching to another thread's greenlet, a cyclic parent chain, an
// empty handle, and the like. The message says which.
class greenlet_error : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

// The value sent by a switch is not what the receiving side asked for. Raised in the sender,
// before anything switches, so nothing is lost: the target stays as it was.
class switch_type_error : public greenlet_error {
public:
    switch_type_error(const std::string& expected, const std::string& received);
    const std::string& expected() const noexcept { return expected_; }
    const std::string& received() const noexcept { return received_; }

private:
    std::string expected_;
    std::string received_;
};

// Raised inside a greenlet to kill it (greenlet's GreenletExit). It unwinds the greenlet's stack
// so that destructors run. When it escapes the greenlet's function, the parent receives it as a
// value of type greenlet_exit, not as an exception.
class greenlet_exit : public std::exception {
public:
    const char* what() const noexcept override { return "greenlet_exit"; }
};

// A deadline passed: the `timeout` scope `source()` expired (nullptr when a call's own timeout
// argument ran out, as in task::get(timeout)). Raised at the greenlet's next blocking point.
class timeout_error : public std::runtime_error {
public:
    explicit timeout_error(const void* source = nullptr, const std::string& what = "cogent: timed out")
        : std::runtime_error(what), source_(source) {}
    const void* source() const noexcept { return source_; }

private:
    const void* source_;
};

// The current greenlet waits for something that nothing can ever bring: nothing is ready, no
// timer is set, no fd is watched and no other thread has work out for this hub (gevent's
// LoopExit). Raised in the thread's main greenlet instead of hanging.
class loop_exit : public std::runtime_error {
public:
    loop_exit() : std::runtime_error("cogent: this operation would block forever") {}
};

// A task was killed (with greenlet_exit) before it produced a value: task<T>::get() has none.
class task_killed : public std::runtime_error {
public:
    explicit task_killed(const std::string& name)
        : std::runtime_error("cogent: task '" + name + "' was killed before it produced a value") {}
};

// Two greenlets tried to wait for the same thing at once where only one may (reading the same fd,
// say), as gevent's ConcurrentObjectUseError.
class concurrent_wait_error : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

// An I/O backend cannot do what was asked: it is unavailable here (io_uring refused by the kernel
// or a seccomp filter) or the fd is beyond what it can watch (select and FD_SETSIZE).
class backend_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The readable name of a type, demangled ("std::string", "int"); "nothing" for void.
std::string type_name(const std::type_info& type);

}  // namespace cogent
