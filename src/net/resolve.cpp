// cogent::resolve: services and numeric hosts answered here, names handed to one c-ares lookup
// (resolve_ares.cpp), and c-ares' statuses turned into the errors resolve.hpp promises.
#include "cogent/resolve.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "cogent/net_errors.hpp"
#include "net/resolve_ares.hpp"

namespace cogent {
namespace {

// The port a service means: a number from 0 to 65535, or a name from /etc/services for the
// protocol of `socktype` (any protocol for other socket types). Empty means port 0. We look
// names up here rather than letting c-ares do it, so that a numeric host (which never reaches
// c-ares) and a name get the same answer.
std::optional<std::uint16_t> service_port(std::string_view service, int socktype) {
    if (service.empty()) return std::uint16_t{0};
    unsigned number = 0;
    auto [end, error] = std::from_chars(service.data(), service.data() + service.size(), number);
    if (error == std::errc() && end == service.data() + service.size()) {
        if (number > 65535) return std::nullopt;
        return static_cast<std::uint16_t>(number);
    }
    const char* protocol = socktype == SOCK_STREAM ? "tcp" : socktype == SOCK_DGRAM ? "udp" : nullptr;
    const std::string name(service);
    std::string buffer(1024, '\0');
    for (;;) {
        servent entry{};
        servent* found = nullptr;
        const int rc =
            ::getservbyname_r(name.c_str(), protocol, &entry, buffer.data(), buffer.size(), &found);
        if (rc == ERANGE && buffer.size() < 65536) {
            buffer.resize(buffer.size() * 2);
            continue;
        }
        if (rc != 0 || found == nullptr) return std::nullopt;
        return ntohs(static_cast<std::uint16_t>(found->s_port));
    }
}

// A numeric IPv4 or IPv6 address (with a zone: "fe80::1%eth0"), or nothing if `host` is a name.
// inet_pton decides before endpoint::ip is asked, so that names cost no exception.
std::optional<endpoint> numeric_host(std::string_view host, std::uint16_t port) {
    const std::string text(host);
    unsigned char scratch[sizeof(in6_addr)];
    if (::inet_pton(AF_INET, text.c_str(), scratch) == 1) return endpoint::ip(text, port);
    const std::string address = text.substr(0, text.find('%'));
    if (::inet_pton(AF_INET6, address.c_str(), scratch) != 1) return std::nullopt;
    return endpoint::ip(text, port);  // throws std::invalid_argument for a zone that is no interface
}

// c-ares' verdict as resolve.hpp's errors. A name server that does not answer at all is
// name_server_failure, not a timeout: std::errc::timed_out (timeout_error when thrown) is kept
// for the caller's own deadline, which is what a caller can act on by waiting longer; c-ares
// giving up after its retries says that the servers are unreachable or dead.
std::error_code error_of(int status) {
    switch (status) {
        case ARES_ENOTFOUND:
        case ARES_ENONAME:
        case ARES_EBADNAME:
            return make_error_code(net_errc::host_not_found);
        case ARES_ENODATA:
            return make_error_code(net_errc::no_address);
        case ARES_ESERVFAIL:
        case ARES_EREFUSED:
        case ARES_ECONNREFUSED:
        case ARES_ETIMEOUT:
        case ARES_EFORMERR:
        case ARES_ENOTIMP:
        case ARES_EBADRESP:
            return make_error_code(net_errc::name_server_failure);
        case ARES_ENOMEM:
            return std::make_error_code(std::errc::not_enough_memory);
        default:
            return make_error_code(net_errc::resolver_failure);
    }
}

}  // namespace

namespace detail {

std::vector<endpoint> resolve_with(std::string_view host, std::string_view service, duration timeout,
                                   const resolve_options& options, const resolver_retries& retries,
                                   std::error_code& ec, std::string* why) {
    ec.clear();
    if (why != nullptr) why->clear();
    const std::optional<std::uint16_t> port = service_port(service, options.socktype);
    if (!port) {
        ec = make_error_code(net_errc::service_not_found);
        if (why != nullptr) *why = "service '" + std::string(service) + "'";
        return {};
    }
    std::optional<endpoint> numeric;
    try {
        numeric = numeric_host(host, *port);
    } catch (const std::invalid_argument&) {
        ec = make_error_code(net_errc::host_not_found);
        if (why != nullptr) *why = "an IPv6 zone that names no interface";
        return {};
    }
    if (numeric) {
        if (options.family != AF_UNSPEC && options.family != numeric->family()) {
            ec = make_error_code(net_errc::no_address);
            return {};
        }
        return {*numeric};
    }
    if (host.empty()) {
        ec = make_error_code(net_errc::host_not_found);
        return {};
    }

    ares_outcome outcome = ares_lookup(std::string(host), options, retries, deadline_after(timeout));
    if (outcome.deadline_passed) {
        ec = std::make_error_code(std::errc::timed_out);
        return {};
    }
    if (outcome.status != ARES_SUCCESS) {
        ec = error_of(outcome.status);
        // Not found and no address say all there is; for the others c-ares' words help.
        if (why != nullptr && outcome.status != ARES_ENOTFOUND && outcome.status != ARES_ENODATA) {
            *why = std::string("c-ares: ") + ::ares_strerror(outcome.status);
        }
        return {};
    }
    if (outcome.addresses.empty()) {
        ec = make_error_code(net_errc::no_address);
        return {};
    }
    for (endpoint& e : outcome.addresses)
        e.set_port(*port);
    return std::move(outcome.addresses);
}

}  // namespace detail

std::vector<endpoint> resolve(std::string_view host, std::string_view service, duration timeout,
                              const resolve_options& options, std::error_code& ec) {
    return detail::resolve_with(host, service, timeout, options, detail::resolver_retries{}, ec);
}

std::vector<endpoint> resolve(std::string_view host, std::string_view service, duration timeout,
                              const resolve_options& options) {
    std::error_code ec;
    std::string why;
    std::vector<endpoint> result =
        detail::resolve_with(host, service, timeout, options, detail::resolver_retries{}, ec, &why);
    if (ec) {
        std::string what = "cogent: cannot resolve '" + std::string(host) + "'";
        if (!why.empty()) what += " (" + why + ")";
        detail::throw_net_error(ec, what);
    }
    return result;
}

}  // namespace cogent
