// The exceptions of cogent's greenlet layer.
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

// The readable name of a type, demangled ("std::string", "int"); "nothing" for void.
std::string type_name(const std::type_info& type);

}  // namespace cogent
