// Errors of the networking layer that have no errno of their own, as std::error_code values in
// the "cogent.net" category (so the std::error_code& overloads can report them, and the throwing
// forms throw std::system_error carrying them). Timeouts are std::errc::timed_out in error-code
// form and cogent::timeout_error when thrown, as everywhere in cogent.
#pragma once

#include <string>
#include <system_error>

namespace cogent {

enum class net_errc {
    end_of_stream = 1,    // the peer ended the stream before the operation could complete
    socket_closed,        // the socket was closed (by another greenlet) while this operation waited on it
    message_too_long,     // more than the allowed maximum arrived without the expected delimiter
    host_not_found,       // the name does not exist (DNS NXDOMAIN, or not in /etc/hosts)
    no_address,           // the name exists but has no address of the family asked for
    name_server_failure,  // the name servers failed or refused to answer
    service_not_found,    // the service name is not a number and not in /etc/services
    resolver_failure,     // any other resolver error (the message says which)
};

const std::error_category& net_category() noexcept;

inline std::error_code make_error_code(net_errc e) noexcept {
    return {static_cast<int>(e), net_category()};
}

namespace detail {
// Throws what the throwing form of a network call throws for `ec`: timeout_error for
// std::errc::timed_out, std::system_error(ec, "<what>: <message>") otherwise.
[[noreturn]] void throw_net_error(const std::error_code& ec, const std::string& what);
// Sets `ec` from errno.
inline void set_errno_code(std::error_code& ec, int error) noexcept {
    ec.assign(error, std::generic_category());
}
}  // namespace detail

}  // namespace cogent

template <>
struct std::is_error_code_enum<cogent::net_errc> : std::true_type {};
