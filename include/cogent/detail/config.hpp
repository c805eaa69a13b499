// Build facts the other headers and sources test. Not a public interface.
#pragma once

// COGENT_ASAN: built with AddressSanitizer (g++ says __SANITIZE_ADDRESS__, clang __has_feature).
#if defined(__SANITIZE_ADDRESS__)
#define COGENT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COGENT_ASAN 1
#endif
#endif

// A finishing greenlet's last message and return value live in greenlet_function::run's frame
// (and die()'s) and are read by the receiver after the final switch. Under AddressSanitizer's
// detect_stack_use_after_return, instrumented locals live on a per-greenlet fake stack that ASan
// frees at that very switch; leaving those two functions uninstrumented keeps their locals on the
// real stack, which the receiver releases itself once it has read them.
#if defined(__has_attribute)
#if __has_attribute(no_sanitize)
#define COGENT_LOCALS_ON_REAL_STACK __attribute__((no_sanitize("address")))
#endif
#endif
#ifndef COGENT_LOCALS_ON_REAL_STACK
#define COGENT_LOCALS_ON_REAL_STACK
#endif
