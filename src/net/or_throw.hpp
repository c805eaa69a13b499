// The throwing form of a network call, made from its std::error_code& form.
#pragma once

#include <string>
#include <system_error>

#include "cogent/net_errors.hpp"

namespace cogent::detail {

// Runs `operation(ec)` and throws what throw_net_error throws for an error, naming `what`.
template <class F>
auto or_throw(const char* what, F&& operation) {
    std::error_code ec;
    auto result = operation(ec);
    if (ec) throw_net_error(ec, std::string("cogent: ") + what);
    return result;
}

}  // namespace cogent::detail
