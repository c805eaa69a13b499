// The portable context switch, on POSIX ucontext, for architectures without hand-written assembly.
//
// ucontext has no notion of "the context that jumped to me", so we build the fcontext shape on
// top of it: every suspended context is a record on its own stack, and the pointer handed across
// travels through a thread-local slot that the resumed side reads at once. The record of a
// suspended jumper lives in the jumper's stack frame, which stays valid exactly as long as the
// handle does: until somebody jumps back to it.
//
// swapcontext also saves and restores the signal mask with a system call, so this is some
// hundred times slower than the assembly. It exists for portability and as a second
// implementation the context tests can check the first against.
#include <ucontext.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "context/context.hpp"

namespace {

struct record {
    ucontext_t machine;
    cogent::context::entry_fn entry = nullptr;  // set only for made contexts that have not run
};

// The message in flight between the jumper and the resumed side. Read at once after resuming,
// before anything else can switch, so one slot per thread is enough.
thread_local cogent::context::transfer in_flight{nullptr, nullptr};

// makecontext passes only ints, so a pointer is split into two halves.
void trampoline(unsigned int high, unsigned int low) {
    auto* self = reinterpret_cast<record*>((static_cast<std::uintptr_t>(high) << 32) | low);
    cogent::context::entry_fn entry = self->entry;
    self->entry = nullptr;
    entry(in_flight);
    std::fputs("cogent: a context's entry function returned; it must jump away instead\n", stderr);
    std::abort();
}

}  // namespace

extern "C" cogent::context::transfer cogent_context_jump(cogent::context::handle to, void* data) {
    record self;
    in_flight = {&self, data};
    if (swapcontext(&self.machine, &static_cast<record*>(to)->machine) != 0) {
        std::perror("cogent: swapcontext");
        std::abort();
    }
    return in_flight;
}

extern "C" cogent::context::handle cogent_context_make(void* stack_top, std::size_t stack_size,
                                                       cogent::context::entry_fn entry) {
    // The record sits at the top of the new stack; the stack proper starts below it.
    auto top = reinterpret_cast<std::uintptr_t>(stack_top) & ~std::uintptr_t{63};
    auto* self = reinterpret_cast<record*>(top - ((sizeof(record) + 63) & ~std::size_t{63}));
    new (self) record{};
    self->entry = entry;
    if (getcontext(&self->machine) != 0) {
        std::perror("cogent: getcontext");
        std::abort();
    }
    auto usable_top = reinterpret_cast<std::uintptr_t>(self);
    std::size_t used = top - usable_top;
    self->machine.uc_stack.ss_sp = reinterpret_cast<void*>(top - stack_size);
    self->machine.uc_stack.ss_size = stack_size > used ? stack_size - used : 0;
    self->machine.uc_link = nullptr;
    auto address = reinterpret_cast<std::uintptr_t>(self);
    makecontext(&self->machine, reinterpret_cast<void (*)()>(trampoline), 2,
                static_cast<unsigned int>(address >> 32), static_cast<unsigned int>(address));
    return self;
}

extern "C" const char* cogent_context_implementation(void) { return "ucontext"; }
