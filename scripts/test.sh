#!/usr/bin/env bash
# Builds cogent and runs every test:
#   1. g++, RelWithDebInfo: the whole suite (ctest); the hub, sync, net, http and hooks suites
#      once per backend (select, poll, epoll, epoll_et, io_uring, and io_uring with readiness
#      only), the net suite once more with the hooks linked; the benchmarks compile;
#   2. g++ with AddressSanitizer + UndefinedBehaviorSanitizer, with detect_stack_use_after_return
#      so every greenlet switch must be announced to ASan: the whole suite, the per-backend suites
#      on epoll and io_uring (readiness and native calls: where buffers and fds outlive calls;
#      select, poll and epoll_et share epoll's callers); then the greenlet suite once more with
#      ASan's default options;
#   3. clang++, unoptimised, with the ucontext context switch (the portable fallback): builds
#      warning-free and passes the suite, the per-backend suites on epoll only (what differs
#      between backends does not depend on the compiler; the assembly switch's own tests still
#      run here, against both switches).
#   4. valgrind memcheck on the examples.
# CI must stay well under 30 minutes on 2 cores, and compiling is most of it: so clang builds at
# -O0 (its warnings come from its front end, so -O0 finds the same ones in about half the time of
# -O2; the optimised build is the g++ one), and one clang build also covers ucontext.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh

jobs=$(nproc)
ctest_filter=()   # extra ctest arguments for the next run_suite
run_suite() {  # build directory, then cmake arguments
  local dir=$1
  shift
  echo "=== $(date +%T) $dir: $* ${ctest_filter[*]}"
  cmake -S . -B "$dir" -DCOGENT_BUILD_BENCH=OFF "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" "${ctest_filter[@]}"
}

run_suite build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=g++ -DCMAKE_C_COMPILER=gcc -DCOGENT_BUILD_BENCH=ON
ctest_filter=(-LE '^(select|poll|epoll_et|hooks)$')
ASAN_OPTIONS=detect_stack_use_after_return=1:detect_leaks=1:abort_on_error=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DCOGENT_SANITIZE=ON -DCMAKE_CXX_COMPILER=g++ -DCMAKE_C_COMPILER=gcc
echo "=== build-asan: the greenlet suite again with ASan's default options (no fake stacks)"
ASAN_OPTIONS=detect_stack_use_after_return=0 build-asan/tests/greenlet_tests --gtest_brief=1
ctest_filter=(-LE '^(select|poll|epoll_et|io_uring)$')
run_suite build-clang -DCMAKE_BUILD_TYPE=Debug -DCOGENT_CONTEXT=ucontext -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang
ctest_filter=()

echo "=== valgrind memcheck on the examples"
for example in greenlet_switch baozi; do
  valgrind --quiet --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
    "build-test/examples/$example" >/dev/null
  echo "$example: memcheck clean"
done
echo "=== $(date +%T) all tests passed"
