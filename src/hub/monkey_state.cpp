// The core's half of monkey patching: whether patching is on, whether interposers are present,
// the blocking_scope opt-out, and the table through which the interposers (src/hooks/) reach the
// core. It lives in the core library because a process must hold exactly one copy of this state,
// next to the one copy of the hub it describes.
#include "cogent/monkey.hpp"

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <vector>

#include "cogent/detail/hub_core.hpp"
#include "cogent/detail/monkey_core.hpp"

namespace cogent::detail::monkey {

// The services the table points at (monkey_services.cpp, monkey_resolve.cpp).
int wait_fd(int fd, short events, std::int64_t deadline);
int poll_fds(pollfd* fds, nfds_t count, std::int64_t deadline);
void sleep_until(std::int64_t deadline);
void close_notice(int fd) noexcept;
std::int64_t now() noexcept;
int resolve_addrinfo(const char* node, const char* service, const addrinfo* hints, addrinfo** result);
int resolve_host(const char* name, int family, void (*each)(void*, const void*), void* context);
int getaddrinfo_in_thread(decltype(&::getaddrinfo) original, const char* node, const char* service,
                          const addrinfo* hints, addrinfo** result);

namespace {

// constinit: the interposers may consult these from other libraries' constructors, before this
// translation unit's dynamic initialisation could have run.
constinit std::atomic<bool> patched{false};
constinit std::atomic<bool> interposers_present{false};

// How many blocking_scopes are alive on this thread; the greenlets that own them are in
// `opted_out` (only looked at when the count is not zero, so the common check is one load).
thread_local constinit int opt_out_count __attribute__((tls_model("initial-exec"))) = 0;
thread_local std::vector<greenlet_impl*> opted_out;

greenlet_impl* current_greenlet() noexcept {
    switch_state* s = tls_switch;
    return s == nullptr ? nullptr : s->current;
}

bool cooperative() noexcept {
    hub_core* h = tls_hub;
    if (h == nullptr) return false;
    greenlet_impl* self = current_greenlet();
    if (self == nullptr || self == h->hub_greenlet || self->is_main) return false;
    if (opt_out_count != 0) [[unlikely]] {
        return std::find(opted_out.begin(), opted_out.end(), self) == opted_out.end();
    }
    return true;
}

bool register_interposers() noexcept {
    bool expected = false;
    return interposers_present.compare_exchange_strong(expected, true);
}

constexpr core_api table{
    core_api_version, &patched, &cooperative, &register_interposers, &wait_fd, &poll_fds,
    &sleep_until,     &close_notice, &now,    &resolve_addrinfo,     &resolve_host, &getaddrinfo_in_thread,
};

}  // namespace
}  // namespace cogent::detail::monkey

extern "C" __attribute__((visibility("default"))) const cogent::detail::monkey::core_api*
cogent_monkey_core_v1() noexcept {
    return &cogent::detail::monkey::table;
}

namespace cogent::monkey {

void patch_all() {
    if (!detail::monkey::interposers_present.load(std::memory_order_acquire)) {
        throw std::logic_error(
            "cogent::monkey::patch_all: no interposers in this process; link cogent::hooks "
            "(whole archive) or run with LD_PRELOAD=libcogent_hooks.so (the executable linked with "
            "ENABLE_EXPORTS / -rdynamic)");
    }
    detail::monkey::patched.store(true, std::memory_order_release);
}

void unpatch_all() noexcept { detail::monkey::patched.store(false, std::memory_order_release); }

bool is_patched() noexcept { return detail::monkey::patched.load(std::memory_order_acquire); }

bool hooks_present() noexcept { return detail::monkey::interposers_present.load(std::memory_order_acquire); }

blocking_scope::blocking_scope() : owner_(detail::monkey::current_greenlet()) {
    // A thread that has never used greenlets records a null owner: it has nothing to opt out of,
    // and the destructor's bookkeeping stays the same.
    detail::monkey::opted_out.push_back(static_cast<detail::greenlet_impl*>(owner_));
    ++detail::monkey::opt_out_count;
}

blocking_scope::~blocking_scope() {
    --detail::monkey::opt_out_count;
    auto& owners = detail::monkey::opted_out;
    // The newest entry of this owner: scopes nest, and each removes one entry.
    auto it = std::find(owners.rbegin(), owners.rend(), static_cast<detail::greenlet_impl*>(owner_));
    if (it != owners.rend()) owners.erase(std::next(it).base());
}

}  // namespace cogent::monkey
