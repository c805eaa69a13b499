// Called by the assembly when a context's entry function returns. That is always a bug in the
// layer above (an entry function must end by jumping away), so say so and stop.
#include <cstdio>
#include <cstdlib>

extern "C" [[noreturn]] void cogent_context_abort_entry_returned() {
    std::fputs("cogent: a context's entry function returned; it must jump away instead\n", stderr);
    std::abort();
}
