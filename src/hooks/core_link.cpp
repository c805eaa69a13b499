// Finding the core and registering as the process's interposers, from a constructor.
//
// Linked into a program (cogent_hooks), the core is in the same link and is called directly.
// Preloaded (libcogent_hooks.so, built with COGENT_HOOKS_PRELOAD), the core is whatever the
// executable exports: dlsym(RTLD_DEFAULT) finds it if the executable was linked with
// ENABLE_EXPORTS (-rdynamic); if not, or in a program without cogent, the hooks stay pass-through.
#include "hooks/core_link.hpp"

#include <dlfcn.h>

namespace cogent::hooks {

constinit std::atomic<const core_api*> core{nullptr};

namespace {

const core_api* find_core() noexcept {
#if COGENT_HOOKS_PRELOAD
    using entry = const core_api* (*)() noexcept;
    auto find = reinterpret_cast<entry>(::dlsym(RTLD_DEFAULT, "cogent_monkey_core_v1"));
    return find != nullptr ? find() : nullptr;
#else
    return cogent_monkey_core_v1();
#endif
}

// Runs before main (and, for the preloaded library, before the executable's own constructors).
// Only one copy of the interposers may be active: if the executable links cogent_hooks and the
// preloaded library is present too, the first to register acts and the other passes every call
// on to the next definition, which is the active copy or libc.
__attribute__((constructor)) void attach_to_core() noexcept {
    const core_api* api = find_core();
    if (api == nullptr || api->version != detail::monkey::core_api_version) return;
    if (!api->register_interposers()) return;
    core.store(api, std::memory_order_release);
}

}  // namespace
}  // namespace cogent::hooks
