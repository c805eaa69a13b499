// Monkey patching (gevent.monkey): with the hooks linked in (cogent::hooks, or libcogent_hooks.so
// under LD_PRELOAD), blocking libc calls made inside a greenlet park that greenlet instead of
// blocking its thread, so unmodified C and C++ libraries (libcurl, a database client, plain POSIX
// socket code) run concurrently. docs/hooks.md lists the calls and their exact semantics.
//
//   int main() {
//       cogent::monkey::patch_all();
//       cogent::run([] { /* spawn greenlets that call curl_easy_perform, recv, sleep ... */ });
//   }
#pragma once

namespace cogent::monkey {

// Turns the hooks on for every thread of the process. Throws std::logic_error if no interposers
// are present (the program neither links cogent::hooks nor runs with libcogent_hooks.so in
// LD_PRELOAD), because nothing would then be made cooperative.
void patch_all();
// Turns them off again: every hooked call behaves exactly as libc's from now on.
void unpatch_all() noexcept;
// Whether patch_all() is in effect.
bool is_patched() noexcept;
// Whether interposers are present in this process, i.e. whether patch_all() can succeed.
bool hooks_present() noexcept;

// Within its lifetime, hooked calls made by the greenlet that made it block the thread exactly as
// libc's do (for code that must really block: a lock file, a blocking handshake that must not let
// other greenlets run). Other greenlets are unaffected, even if this one is switched away from
// inside the scope. Nestable; must be destroyed by the greenlet that made it.
class blocking_scope {
public:
    blocking_scope();
    ~blocking_scope();
    blocking_scope(const blocking_scope&) = delete;
    blocking_scope& operator=(const blocking_scope&) = delete;

private:
    void* owner_;
};

}  // namespace cogent::monkey
