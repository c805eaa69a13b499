// The resolver's inside: one c-ares lookup driven by the calling greenlet (resolve_ares.cpp),
// and resolve() with its retry settings spelt out (resolve.cpp), which the tests use to make
// c-ares give up on silent name servers quickly.
#pragma once

#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "cogent/endpoint.hpp"
#include "cogent/resolve.hpp"
#include "cogent/time.hpp"

namespace cogent::detail {

// How hard c-ares tries before it gives up on the name servers by itself. It waits
// `first_timeout_ms` for the first answer and doubles the wait after each round of asking every
// server, `tries` rounds in all: with the defaults and one server, 2 + 4 + 8 = 14 s, close to
// glibc's 5 s x 2 attempts, but with one more retransmission for a lossy path.
struct resolver_retries {
    int first_timeout_ms = 2000;
    int tries = 3;
};

// What a lookup ended with: a c-ares status (ARES_SUCCESS and the addresses, or an error), or
// the caller's deadline.
struct ares_outcome {
    int status = 0;
    bool deadline_passed = false;
    std::vector<endpoint> addresses;  // in c-ares' order, without duplicates, port 0
};

// Looks `host` (a name, not a numeric address) up with a channel of its own, parking the
// calling greenlet in cogent::poll while c-ares waits for its sockets. Throws
// std::invalid_argument if options.name_servers cannot be read, and whatever the wait throws
// (a kill, an expired timeout scope); the channel and its sockets are gone either way.
ares_outcome ares_lookup(const std::string& host, const resolve_options& options,
                         const resolver_retries& retries, clock::time_point deadline);

// resolve() with explicit retry settings. `detail`, when given, receives a few words on what
// went wrong beyond the error code's message (c-ares' own wording), or is left empty.
std::vector<endpoint> resolve_with(std::string_view host, std::string_view service, duration timeout,
                                   const resolve_options& options, const resolver_retries& retries,
                                   std::error_code& ec, std::string* detail = nullptr);

}  // namespace cogent::detail
