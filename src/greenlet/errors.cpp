// Exceptions of the greenlet layer and the readable type names they carry.
#include <cxxabi.h>

#include <cstdlib>
#include <memory>

#include "cogent/errors.hpp"

namespace cogent {

std::string type_name(const std::type_info& type) {
    if (type == typeid(void)) return "nothing";
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> demangled(abi::__cxa_demangle(type.name(), nullptr, nullptr, &status),
                                                     std::free);
    std::string name = status == 0 && demangled ? demangled.get() : type.name();
    // The full spelling of std::string says nothing a reader needs.
    const std::string long_string = "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >";
    for (std::size_t at = name.find(long_string); at != std::string::npos; at = name.find(long_string, at)) {
        name.replace(at, long_string.size(), "std::string");
    }
    return name;
}

switch_type_error::switch_type_error(const std::string& expected, const std::string& received)
    : greenlet_error("cogent: switch type mismatch: the receiver expects " + expected + " but " +
                     (received == "nothing" ? std::string("nothing was sent") : received + " was sent")),
      expected_(expected),
      received_(received) {}

}  // namespace cogent
