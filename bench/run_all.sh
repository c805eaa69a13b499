#!/bin/sh
# Builds the benchmarks in Release and runs all three; docs/benchmarks.md quotes its output.
#
#   bench/run_all.sh                                   # the default configuration
#   BUILD_DIR=build-bench-nofpu bench/run_all.sh -DCOGENT_SAVE_FPU_CONTROL=OFF
#   CXX=clang++ BUILD_DIR=build-bench-clang bench/run_all.sh
#
# Extra arguments go to CMake's configure step. BENCH_MEMORY_ARGS (default: none, meaning a
# million greenlets and up to 100,000 Boost fibers) is passed to bench_memory.
#
# The numbers are only as quiet as the machine: run it on an idle one, more than once.
set -eu

cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build-bench}

cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DCOGENT_BUILD_TESTS=OFF "$@" >/dev/null
make -C "$build_dir" -j2 bench_switch bench_create bench_memory bench_fpu_control >/dev/null

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs"
echo "== compiler: $(grep -m1 '^CMAKE_CXX_COMPILER:' "$build_dir/CMakeCache.txt" | cut -d= -f2)"
echo
echo "== $build_dir/bench/bench_switch"
"$build_dir/bench/bench_switch"
echo
echo "== $build_dir/bench/bench_fpu_control"
"$build_dir/bench/bench_fpu_control"
echo
echo "== $build_dir/bench/bench_create"
"$build_dir/bench/bench_create"
echo
echo "== $build_dir/bench/bench_memory ${BENCH_MEMORY_ARGS:-}"
# shellcheck disable=SC2086 # the arguments are meant to split
"$build_dir/bench/bench_memory" ${BENCH_MEMORY_ARGS:-}
