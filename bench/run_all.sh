#!/bin/sh
# Builds the benchmarks in Release and runs them all; docs/benchmarks.md quotes its output.
#
#   bench/run_all.sh                                   # the default configuration
#   BUILD_DIR=build-bench-nofpu bench/run_all.sh -DCOGENT_SAVE_FPU_CONTROL=OFF
#   CXX=clang++ BUILD_DIR=build-bench-clang bench/run_all.sh
#   ONLY=hub bench/run_all.sh                          # only the hub's benchmarks
#   ONLY=greenlet bench/run_all.sh                     # only the greenlet layer's
#
# Extra arguments go to CMake's configure step. BENCH_MEMORY_ARGS (default: none, meaning a
# million greenlets and up to 100,000 Boost fibers) is passed to bench_memory, BENCH_TIMERS_ARGS
# (default: none, a million timers) to bench_timers. bench_backend_scaling writes
# $BUILD_DIR/bench/backend_scaling.dat and, with gnuplot, $BUILD_DIR/bench/backend_scaling.png
# (bench/plot_backend_scaling.sh with no arguments rewrites docs/backend_scaling.png from it).
#
# The numbers are only as quiet as the machine: run it on an idle one, more than once.
set -eu

cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build-bench}
only=${ONLY:-all}

cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DCOGENT_BUILD_TESTS=OFF "$@" >/dev/null

greenlet_benches="bench_switch bench_fpu_control bench_create bench_memory"
hub_benches="bench_yield bench_spawn_join bench_pingpong bench_timers bench_backend_scaling"
case $only in
    greenlet) wanted=$greenlet_benches ;;
    hub) wanted=$hub_benches ;;
    *) wanted="$greenlet_benches $hub_benches" ;;
esac
# Only the targets this configuration has (no Boost.Fiber: no bench_yield, and so on).
targets=""
configured=$(make -C "$build_dir" help)
for target in $wanted; do
    if printf '%s\n' "$configured" | grep -x "\\.\\.\\. $target" >/dev/null; then
        targets="$targets $target"
    else
        echo "== $target: not configured here (a missing peer library; see the CMake output)"
    fi
done
# shellcheck disable=SC2086 # the targets are meant to split
make -C "$build_dir" -j2 $targets >/dev/null

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs"
echo "== compiler: $(grep -m1 '^CMAKE_CXX_COMPILER:' "$build_dir/CMakeCache.txt" | cut -d= -f2)"
for target in $targets; do
    echo
    case $target in
        bench_memory)
            echo "== $build_dir/bench/bench_memory ${BENCH_MEMORY_ARGS:-}"
            # shellcheck disable=SC2086 # the arguments are meant to split
            "$build_dir/bench/bench_memory" ${BENCH_MEMORY_ARGS:-}
            ;;
        bench_timers)
            echo "== $build_dir/bench/bench_timers ${BENCH_TIMERS_ARGS:-}"
            # shellcheck disable=SC2086 # the arguments are meant to split
            "$build_dir/bench/bench_timers" ${BENCH_TIMERS_ARGS:-}
            ;;
        bench_backend_scaling)
            dat=$build_dir/bench/backend_scaling.dat
            echo "== $build_dir/bench/bench_backend_scaling $dat"
            "$build_dir/bench/bench_backend_scaling" "$dat"
            if command -v gnuplot >/dev/null; then
                bench/plot_backend_scaling.sh "$dat" "$build_dir/bench/backend_scaling.png"
            fi
            ;;
        *)
            echo "== $build_dir/bench/$target"
            "$build_dir/bench/$target"
            ;;
    esac
done
