// The context layer's two entry points, declared where the inline switch in greenlet.hpp can call
// them. The layer itself is described in src/context/context.hpp. Not a public interface.
#pragma once

#include <cstddef>

namespace cogent::context {

// A suspended context. Valid until it is jumped to once; the jump consumes it.
using handle = void*;

// What a resumed context receives: the context that jumped to it, and the pointer it sent.
struct transfer {
    handle from;
    void* data;
};

// The entry function of a made context. It must never return: it has nowhere to return to, so it
// ends by jumping away for the last time.
using entry_fn = void (*)(transfer);

}  // namespace cogent::context

extern "C" {

// Suspends the calling context and resumes `to`, which receives {handle to the caller, data}.
// Returns when some context jumps back, with {the context that jumped, the pointer it sent}.
cogent::context::transfer cogent_context_jump(cogent::context::handle to, void* data);

// Prepares a context that will run `entry` on the stack whose highest address is `stack_top`
// and which has `stack_size` usable bytes below it. Nothing runs until the first jump to it.
cogent::context::handle cogent_context_make(void* stack_top, std::size_t stack_size,
                                            cogent::context::entry_fn entry);

// The name of the implementation linked in ("x86_64_sysv_elf_asm" or "ucontext").
const char* cogent_context_implementation(void);
}
