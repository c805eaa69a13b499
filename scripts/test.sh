#!/usr/bin/env bash
# Builds cogent and runs every test:
#   1. g++, RelWithDebInfo: the whole suite (ctest), the hub, sync and net suites once per backend
#      (select, poll, epoll, epoll_et, io_uring), and the benchmarks compile;
#   2. g++ with AddressSanitizer + UndefinedBehaviorSanitizer: the same, with
#      detect_stack_use_after_return so every greenlet switch must be announced to ASan, and the
#      greenlet suite once more with ASan's default options;
#   3. clang++, unoptimised: builds warning-free and passes the suite, the per-backend suites on
#      epoll only (what differs between backends does not depend on the compiler). Both choices
#      keep CI short: clang's warnings come from its front end, so -O0 finds the same ones in
#      about half the compile time of -O2, and the optimised build is the g++ one above;
#   4. the ucontext context switch (the portable fallback), unoptimised (it compiles faster): the
#      context, greenlet, hub and sync suites, on epoll (the layers above only see the switch
#      through these);
#   5. valgrind memcheck on the examples.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh

jobs=$(nproc)
ctest_filter=()   # extra ctest arguments for the next run_suite
build_targets=()  # what the next run_suite builds (everything if empty)
run_suite() {  # build directory, then cmake arguments
  local dir=$1
  shift
  echo "=== $(date +%T) $dir: $* ${ctest_filter[*]}"
  cmake -S . -B "$dir" -DCOGENT_BUILD_BENCH=OFF "$@" >/dev/null
  if [ ${#build_targets[@]} -gt 0 ]; then
    cmake --build "$dir" -j"$jobs" --target "${build_targets[@]}"
  else
    cmake --build "$dir" -j"$jobs"
  fi
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" "${ctest_filter[@]}"
}

run_suite build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=g++ -DCMAKE_C_COMPILER=gcc -DCOGENT_BUILD_BENCH=ON
ASAN_OPTIONS=detect_stack_use_after_return=1:detect_leaks=1:abort_on_error=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DCOGENT_SANITIZE=ON -DCMAKE_CXX_COMPILER=g++ -DCMAKE_C_COMPILER=gcc
echo "=== build-asan: the greenlet suite again with ASan's default options (no fake stacks)"
ASAN_OPTIONS=detect_stack_use_after_return=0 build-asan/tests/greenlet_tests --gtest_brief=1
ctest_filter=(-LE '^(select|poll|epoll_et|io_uring)$')
run_suite build-clang -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang
# Suites whose executables are not built appear as <target>_NOT_BUILT: skipped here.
build_targets=(context_tests_ucontext greenlet_tests switch_allocation_tests hub_tests sync_tests)
ctest_filter=(-LE '^(select|poll|epoll_et|io_uring)$' -E '_NOT_BUILT$')
run_suite build-ucontext -DCMAKE_BUILD_TYPE=Debug -DCOGENT_CONTEXT=ucontext -DCOGENT_BUILD_EXAMPLES=OFF
build_targets=()
ctest_filter=()

echo "=== valgrind memcheck on the examples"
for example in greenlet_switch baozi; do
  valgrind --quiet --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
    "build-test/examples/$example" >/dev/null
  echo "$example: memcheck clean"
done
echo "=== $(date +%T) all tests passed"
