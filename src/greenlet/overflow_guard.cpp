// Reporting a greenlet stack overflow instead of dying mysteriously.
//
// A greenlet that runs off the bottom of its stack touches the guard below it and takes a
// SIGSEGV. The handler runs on an alternate signal stack (the faulting stack has no room left),
// checks whether the faulting address is in the current greenlet's guard, and if so writes
// "cogent: stack overflow in greenlet '<name>'" with the stack size and aborts. Any other fault
// goes to whatever handler was installed before ours, or to the default action.
//
// Everything the handler does is async-signal-safe: it reads the thread's state through a plain
// TLS pointer, formats into a local buffer and writes with write(2).
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

#include "greenlet/thread_state.hpp"

namespace cogent::detail {
namespace {

struct sigaction previous_segv;
struct sigaction previous_bus;
std::once_flag handler_installed;

constexpr std::size_t alternate_stack_size = 64 * 1024;
thread_local void* our_alternate_stack = nullptr;

// Appends text to a fixed buffer without allocating.
struct line {
    char text[512];
    std::size_t length = 0;
    void add(const char* s, std::size_t n) {
        if (n > sizeof text - length) n = sizeof text - length;
        std::memcpy(text + length, s, n);
        length += n;
    }
    void add(const char* s) { add(s, std::strlen(s)); }
    void add(std::size_t value) {
        char digits[24];
        std::size_t n = 0;
        do {
            digits[sizeof digits - 1 - n++] = static_cast<char>('0' + value % 10);
            value /= 10;
        } while (value != 0);
        add(digits + sizeof digits - n, n);
    }
};

void pass_on(int signal, siginfo_t* info, void* context) {
    const struct sigaction& previous = signal == SIGBUS ? previous_bus : previous_segv;
    if (previous.sa_flags & SA_SIGINFO) {
        previous.sa_sigaction(signal, info, context);
        return;
    }
    if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
        previous.sa_handler(signal);
        return;
    }
    // Default action: restore it and return, so the faulting instruction faults again and the
    // kernel kills the process with the right signal (and core dump).
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    sigemptyset(&default_action.sa_mask);
    sigaction(signal, &default_action, nullptr);
}

void on_fault(int signal, siginfo_t* info, void* context) {
    thread_state* ts = existing_thread_state();
    greenlet_impl* g = ts != nullptr ? ts->current : nullptr;
    if (g != nullptr && g->stack.base != nullptr) {
        auto* address = static_cast<std::byte*>(info->si_addr);
        // The guard itself, or a large frame that jumped a little past it.
        std::byte* low = g->stack.base - (g->stack.guard < 65536 ? 65536 : g->stack.guard);
        if (address >= low && address < g->stack.bottom()) {
            line message;
            message.add("cogent: stack overflow in greenlet '");
            if (g->name.empty()) {
                message.add("greenlet-");
                message.add(static_cast<std::size_t>(g->id));
            } else {
                message.add(g->name.data(), g->name.size());
            }
            message.add("' (stack size ");
            message.add(g->stack.usable());
            message.add(" bytes; give it a larger greenlet_options::stack_size)\n");
            ssize_t ignored = write(STDERR_FILENO, message.text, message.length);
            (void)ignored;
            std::abort();
        }
    }
    pass_on(signal, info, context);
}

}  // namespace

void install_overflow_guard_for_thread() {
    std::call_once(handler_installed, [] {
        struct sigaction action {};
        action.sa_sigaction = on_fault;
        action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
        sigemptyset(&action.sa_mask);
        sigaction(SIGSEGV, &action, &previous_segv);
        sigaction(SIGBUS, &action, &previous_bus);
    });
    stack_t current{};
    if (sigaltstack(nullptr, &current) == 0 && !(current.ss_flags & SS_DISABLE)) return;  // keep theirs
    void* memory = mmap(nullptr, alternate_stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) return;
    stack_t alternate{};
    alternate.ss_sp = memory;
    alternate.ss_size = alternate_stack_size;
    if (sigaltstack(&alternate, nullptr) != 0) {
        munmap(memory, alternate_stack_size);
        return;
    }
    our_alternate_stack = memory;
}

void remove_overflow_guard_for_thread() noexcept {
    if (our_alternate_stack == nullptr) return;
    stack_t disable{};
    disable.ss_flags = SS_DISABLE;
    sigaltstack(&disable, nullptr);
    munmap(our_alternate_stack, alternate_stack_size);
    our_alternate_stack = nullptr;
}

}  // namespace cogent::detail
