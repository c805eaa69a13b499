// Hooks that look names up: getaddrinfo, gethostbyname, gethostbyname_r. Inside a greenlet that
// may park, a name is resolved by cogent::resolve (c-ares: /etc/hosts, then the name servers of
// /etc/resolv.conf) while other greenlets run; numeric hosts, a null host and AI_NUMERICHOST are
// libc's (they never block), and the flags c-ares cannot honour exactly (AI_CANONNAME,
// AI_V4MAPPED with AF_INET6, families other than IP, glibc's extensions) go to libc's own
// getaddrinfo on cogent's thread pool, which parks the greenlet just the same.
#include <netdb.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

#include "hooks/core_link.hpp"
#include "hooks/libc.hpp"

using namespace cogent::hooks;

namespace {

constexpr int simple_flags = AI_PASSIVE | AI_NUMERICSERV | AI_ADDRCONFIG | AI_V4MAPPED | AI_ALL;

bool needs_libc_answer(int flags, int family) noexcept {
    if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6) return true;
    if (flags & ~simple_flags) return true;  // AI_CANONNAME, AI_IDN, ...
    return (flags & AI_V4MAPPED) && family == AF_INET6;
}

struct ipv4_list {
    std::vector<std::uint32_t> addresses;
};

void collect(void* context, const void* address) {
    std::uint32_t a;
    std::memcpy(&a, address, sizeof a);
    static_cast<ipv4_list*>(context)->addresses.push_back(a);
}

// Lays a hostent for `name` and `addresses` out in `buffer` as glibc does (pointers first, then
// the addresses, then the name). ERANGE if it does not fit.
int lay_out(const char* name, const ipv4_list& found, hostent* entry, char* buffer, std::size_t size) {
    const std::size_t count = found.addresses.size();
    const std::size_t name_size = std::strlen(name) + 1;
    std::uintptr_t start = reinterpret_cast<std::uintptr_t>(buffer);
    std::size_t misalignment = start % alignof(char*);
    std::size_t skip = misalignment == 0 ? 0 : alignof(char*) - misalignment;
    std::size_t needed = skip + (count + 2) * sizeof(char*) + count * sizeof(std::uint32_t) + name_size;
    if (buffer == nullptr || needed > size) return ERANGE;
    auto** list = reinterpret_cast<char**>(buffer + skip);
    char* bytes = reinterpret_cast<char*>(list + count + 2);
    for (std::size_t i = 0; i < count; ++i) {
        std::memcpy(bytes + i * sizeof(std::uint32_t), &found.addresses[i], sizeof(std::uint32_t));
        list[i] = bytes + i * sizeof(std::uint32_t);
    }
    list[count] = nullptr;
    list[count + 1] = nullptr;  // the (empty) alias list
    char* copy = bytes + count * sizeof(std::uint32_t);
    std::memcpy(copy, name, name_size);
    entry->h_name = copy;
    entry->h_aliases = list + count + 1;
    entry->h_addrtype = AF_INET;
    entry->h_length = sizeof(std::uint32_t);
    entry->h_addr_list = list;
    return 0;
}

// gethostbyname_r's contract: 0 with *result set, or 0 with *result null and *error the
// h_errno value (the name was not found), or ERANGE when the buffer is too small.
int lookup_ipv4(const core_api* api, const char* name, hostent* entry, char* buffer, std::size_t size,
                hostent** result, int* error) {
    *result = nullptr;
    ipv4_list found;
    int status = api->resolve_host(name, AF_INET, collect, &found);
    if (status != 0) {
        *error = status;
        return 0;
    }
    if (lay_out(name, found, entry, buffer, size) != 0) {
        *error = NETDB_INTERNAL;
        errno = ERANGE;
        return ERANGE;
    }
    *result = entry;
    return 0;
}

}  // namespace

extern "C" {

int getaddrinfo(const char* node, const char* service, const addrinfo* hints, addrinfo** result) {
    const core_api* api = node != nullptr ? cooperative_core() : nullptr;
    if (api == nullptr) return libc::getaddrinfo(node, service, hints, result);
    // glibc's flags when there are no hints.
    int flags = hints != nullptr ? hints->ai_flags : AI_V4MAPPED | AI_ADDRCONFIG;
    int family = hints != nullptr ? hints->ai_family : AF_UNSPEC;
    if (flags & AI_NUMERICHOST) return libc::getaddrinfo(node, service, hints, result);
    // A numeric host (in any form libc accepts) is answered without a lookup; so are bad hints
    // and a bad service, with libc's own error.
    addrinfo numeric{};
    if (hints != nullptr) numeric = *hints;
    numeric.ai_flags = flags | AI_NUMERICHOST;
    numeric.ai_family = family;
    numeric.ai_addr = nullptr;
    numeric.ai_canonname = nullptr;
    numeric.ai_next = nullptr;
    int status = libc::getaddrinfo(node, service, &numeric, result);
    if (status != EAI_NONAME) return status;
    if (needs_libc_answer(flags, family)) {
        return api->getaddrinfo_in_thread(libc::getaddrinfo.get(), node, service, hints, result);
    }
    return api->getaddrinfo(node, service, hints, result);
}

hostent* gethostbyname(const char* name) {
    const core_api* api = cooperative_core();
    if (api == nullptr) return libc::gethostbyname(name);
    // Like glibc's, the answer lives in storage of this thread's, valid until its next call.
    static thread_local hostent entry;
    static thread_local std::vector<char> storage(1024);
    hostent* result = nullptr;
    int error = 0;
    while (lookup_ipv4(api, name, &entry, storage.data(), storage.size(), &result, &error) == ERANGE) {
        storage.resize(storage.size() * 2);
    }
    if (result == nullptr) h_errno = error;
    return result;
}

int gethostbyname_r(const char* name, hostent* entry, char* buffer, size_t size, hostent** result, int* error) {
    const core_api* api = cooperative_core();
    if (api == nullptr) return libc::gethostbyname_r(name, entry, buffer, size, result, error);
    return lookup_ipv4(api, name, entry, buffer, size, result, error);
}

}  // extern "C"
