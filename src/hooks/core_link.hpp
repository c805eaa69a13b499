// How the interposers reach cogent's core: the table of detail/monkey_core.hpp, found once by a
// constructor (core_link.cpp). Until then, and forever in a program without cogent, every hook
// is a plain pass-through to libc.
#pragma once

#include <atomic>

#include "cogent/detail/monkey_core.hpp"

namespace cogent::hooks {

using core_api = detail::monkey::core_api;

extern constinit std::atomic<const core_api*> core;

// The table when the calling hook should park rather than block: patching is on and the caller
// is a greenlet that may park (see core_api::cooperative). Null otherwise, and then the hook
// must behave exactly as libc. The unpatched case costs two loads and no call.
[[gnu::always_inline]] inline const core_api* cooperative_core() noexcept {
    const core_api* api = core.load(std::memory_order_acquire);
    if (api == nullptr || !api->patched->load(std::memory_order_relaxed)) return nullptr;
    return api->cooperative() ? api : nullptr;
}

// The table when patching is on (whoever calls); null otherwise.
inline const core_api* patched_core() noexcept {
    const core_api* api = core.load(std::memory_order_acquire);
    if (api == nullptr || !api->patched->load(std::memory_order_relaxed)) return nullptr;
    return api;
}

}  // namespace cogent::hooks
