// Connecting a new non-blocking socket, for TCP and Unix-domain streams alike.
#pragma once

#include <system_error>

#include "cogent/endpoint.hpp"
#include "cogent/time.hpp"

namespace cogent::detail {

// A new stream socket of `to`'s family, connected to `to` by `deadline`: its fd, or -1 with `ec`
// set (and nothing left open).
int connect_fd(const endpoint& to, clock::time_point deadline, std::error_code& ec);

}  // namespace cogent::detail
