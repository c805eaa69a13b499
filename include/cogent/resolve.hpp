// Name resolution that never blocks the hub (gevent's resolver): c-ares, driven by the hub.
// It reads /etc/hosts first and then asks the name servers of /etc/resolv.conf (or the ones
// given in the options), parking the calling greenlet while it waits for their answers.
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "cogent/endpoint.hpp"
#include "cogent/time.hpp"

namespace cogent {

struct resolve_options {
    int family = AF_UNSPEC;      // AF_INET, AF_INET6, or either
    int socktype = SOCK_STREAM;  // which protocol's port a service name means
    // Name servers to ask instead of /etc/resolv.conf's, as "ip[:port]" entries separated by
    // commas ("127.0.0.1:5353,[::1]:53"). Empty: the system's. Text that is not such a list makes
    // resolve throw std::invalid_argument (in both forms) once it needs the name servers.
    std::string name_servers;
    // Whether /etc/hosts is read (before the name servers).
    bool use_hosts_file = true;
};

// The addresses of `host` with the port of `service` (a number, or a name from /etc/services for
// `socktype`'s protocol; empty for port 0), in the order to try them, without duplicates. A
// numeric host ("10.0.0.1", "::1", "fe80::1%eth0") is returned at once without asking anyone.
// Errors: net_errc::host_not_found, no_address, name_server_failure (also when the name servers
// never answer and c-ares gives up after its retries), service_not_found and resolver_failure;
// std::errc::timed_out only when `timeout` passes (the throwing form throws timeout_error, and
// std::system_error for the others, its message naming the host: "cogent: cannot resolve
// 'nosuch.invalid': host not found"). A kill or an expired timeout scope is raised through
// either form, as at any blocking call, and leaves nothing behind.
std::vector<endpoint> resolve(std::string_view host, std::string_view service, duration timeout = forever,
                              const resolve_options& options = {});
std::vector<endpoint> resolve(std::string_view host, std::string_view service, duration timeout,
                              const resolve_options& options, std::error_code& ec);

}  // namespace cogent
