// The context layer: the only place that knows how registers and stacks are swapped.
//
// A context is an opaque handle to a suspended execution: where its saved frame lives. Jumping to
// a context suspends the caller (yielding a fresh handle to it) and resumes the target, passing
// one pointer across. The shape follows Boost.Context's jump_fcontext: every resumption learns
// who it came from and receives the pointer the other side sent, so a higher layer can hand a
// message over on every switch without touching shared state.
//
// Two implementations provide these symbols: hand-written assembly (switch_x86_64_sysv_elf.S)
// and a portable ucontext one (context_ucontext.cpp). CMake links exactly one of them into the
// library; the context tests link each in turn.
#pragma once

// The declarations live in the public detail header so that the greenlet layer's inline fast path
// can call the jump directly; this header is the context layer's own entry point.
#include "cogent/detail/context_jump.hpp"
