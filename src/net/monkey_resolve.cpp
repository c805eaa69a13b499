// Name lookups for the getaddrinfo and gethostbyname interposers: cogent::resolve (c-ares,
// parking the calling greenlet) with the answers laid out as libc lays out its own.
//
// The addrinfo list is built from libc's own getaddrinfo, asked once per address with the
// numeric address (AI_NUMERICHOST, which never blocks): libc then fills in the socket types, the
// protocols and the port of `service` exactly as it would have, and the list is allocated the way
// freeaddrinfo frees it (node by node, each with its own ai_canonname), so lists from several
// such calls can be joined into one that libc's freeaddrinfo frees.
#include <netdb.h>

#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "cogent/detail/monkey_core.hpp"
#include "cogent/net_errors.hpp"
#include "cogent/resolve.hpp"
#include "cogent/thread_pool.hpp"

namespace cogent::detail::monkey {

namespace {

// getaddrinfo's code for a resolver error.
int addrinfo_error(const std::error_code& ec) noexcept {
    if (ec == net_errc::host_not_found) return EAI_NONAME;
    if (ec == net_errc::no_address) return EAI_NODATA;
    if (ec == net_errc::name_server_failure || ec == std::errc::timed_out) return EAI_AGAIN;
    if (ec == net_errc::service_not_found) return EAI_SERVICE;
    if (ec == std::errc::not_enough_memory) return EAI_MEMORY;
    return EAI_FAIL;
}

// gethostbyname's h_errno for a resolver error.
int host_error(const std::error_code& ec) noexcept {
    if (ec == net_errc::host_not_found) return HOST_NOT_FOUND;
    if (ec == net_errc::no_address) return NO_DATA;
    if (ec == net_errc::name_server_failure || ec == std::errc::timed_out) return TRY_AGAIN;
    return NO_RECOVERY;
}

std::vector<endpoint> lookup(const char* name, int family, int socktype, std::error_code& ec) {
    resolve_options options;
    options.family = family;
    options.socktype = socktype == 0 ? SOCK_STREAM : socktype;
    try {
        return resolve(name, "", forever, options, ec);
    } catch (const std::bad_alloc&) {
        ec = std::make_error_code(std::errc::not_enough_memory);
    } catch (const std::invalid_argument&) {
        ec = make_error_code(net_errc::resolver_failure);
    }
    return {};
}

}  // namespace

int resolve_addrinfo(const char* node, const char* service, const addrinfo* hints, addrinfo** result) {
    addrinfo defaults{};
    defaults.ai_family = AF_UNSPEC;
    const addrinfo& asked = hints != nullptr ? *hints : defaults;
    std::error_code ec;
    std::vector<endpoint> found = lookup(node, asked.ai_family, asked.ai_socktype, ec);
    if (ec) return addrinfo_error(ec);

    addrinfo numeric = asked;
    numeric.ai_flags = (asked.ai_flags & (AI_NUMERICSERV | AI_PASSIVE)) | AI_NUMERICHOST;
    numeric.ai_addr = nullptr;
    numeric.ai_canonname = nullptr;
    numeric.ai_next = nullptr;
    addrinfo* head = nullptr;
    addrinfo** tail = &head;
    for (const endpoint& e : found) {
        numeric.ai_family = e.family();
        addrinfo* part = nullptr;
        // Through the interposer, which hands AI_NUMERICHOST straight to libc.
        int status = ::getaddrinfo(e.address().c_str(), service, &numeric, &part);
        if (status != 0) {
            if (head != nullptr) ::freeaddrinfo(head);
            return status;
        }
        *tail = part;
        while (*tail != nullptr) tail = &(*tail)->ai_next;
    }
    if (head == nullptr) return EAI_NONAME;
    *result = head;
    return 0;
}

int resolve_host(const char* name, int family, void (*each)(void*, const void*), void* context) {
    std::error_code ec;
    std::vector<endpoint> found = lookup(name, family, SOCK_STREAM, ec);
    if (ec) return host_error(ec);
    int reported = 0;
    for (const endpoint& e : found) {
        if (e.family() != family) continue;
        if (family == AF_INET) {
            each(context, &reinterpret_cast<const sockaddr_in*>(e.data())->sin_addr);
        } else {
            each(context, &reinterpret_cast<const sockaddr_in6*>(e.data())->sin6_addr);
        }
        ++reported;
    }
    return reported == 0 ? NO_DATA : 0;
}

namespace {

// A lookup handed to a worker thread. Everything it reads is copied in and what it produces
// stays here until taken, because the caller may be killed (or time out) while the worker runs:
// the worker then finishes on this copy alone, and the destructor frees its unclaimed answer.
struct thread_lookup {
    decltype(&::getaddrinfo) original = nullptr;
    std::optional<std::string> node, service;
    std::optional<addrinfo> hints;
    addrinfo* result = nullptr;
    int status = EAI_SYSTEM;
    int error = 0;
    ~thread_lookup() {
        if (result != nullptr) ::freeaddrinfo(result);
    }
};

}  // namespace

int getaddrinfo_in_thread(decltype(&::getaddrinfo) original, const char* node, const char* service,
                          const addrinfo* hints, addrinfo** result) {
    auto job = std::make_shared<thread_lookup>();
    job->original = original;
    if (node != nullptr) job->node.emplace(node);
    if (service != nullptr) job->service.emplace(service);
    if (hints != nullptr) {
        // Only the four fields getaddrinfo reads from hints; the pointers must be null there.
        addrinfo h{};
        h.ai_flags = hints->ai_flags;
        h.ai_family = hints->ai_family;
        h.ai_socktype = hints->ai_socktype;
        h.ai_protocol = hints->ai_protocol;
        job->hints = h;
    }
    cogent::run_in_thread([job] {
        job->status = job->original(job->node ? job->node->c_str() : nullptr,
                                    job->service ? job->service->c_str() : nullptr,
                                    job->hints ? &*job->hints : nullptr, &job->result);
        job->error = errno;
    });
    *result = std::exchange(job->result, nullptr);
    if (job->status == EAI_SYSTEM) errno = job->error;
    return job->status;
}

}  // namespace cogent::detail::monkey
