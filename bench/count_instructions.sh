#!/bin/sh
# Instructions per operation, counted by callgrind (valgrind), for when timings are too noisy to
# tell two versions apart. Each variant runs alone, once for N and once for 2N operations; the
# difference divided by N cancels start-up and the warm-up pass. User-space instructions only:
# a system call counts as the few instructions that make it.
#
#   bench/count_instructions.sh        # after bench/run_all.sh has built build-bench
set -eu

cd "$(dirname "$0")/.."
bench=${BUILD_DIR:-build-bench}/bench
n=200000

# Prints the instructions callgrind collected for one run of "$@".
collected() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

# per_operation program filter: instructions per operation of the variants matching filter.
per_operation() {
    once=$(collected "$1" "$n" 1 "$2")
    twice=$(collected "$1" $((2 * n)) 1 "$2")
    echo $(((twice - once) / n))
}

for variant in "(a)" "(b)" "(b')" "(c)" "(c')" "(d)" "(d')"; do
    echo "bench_switch $variant: $(per_operation "$bench/bench_switch" "$variant") instructions per one-way switch"
done
for variant in "cogent::greenlet" "pooled_fixedsize_stack"; do
    echo "bench_create $variant: $(per_operation "$bench/bench_create" "$variant") instructions per greenlet or fiber"
done

# The hub's benchmarks run an untimed warm-up of a tenth as many operations first, so N more per
# repetition means 1.1 N more operations (2.2 N yields for bench_yield's two tasks).
hub_per_operation() {  # program filter n operations-per-n
    once=$(collected "$1" "$3" 1 "$2")
    twice=$(collected "$1" $((2 * $3)) 1 "$2")
    awk -v a="$once" -v b="$twice" -v n="$3" -v k="$4" 'BEGIN { printf "%d", (b - a) / (n * k) }'
}
if [ -x "$bench/bench_yield" ]; then
    echo "bench_yield cogent::yield: $(hub_per_operation "$bench/bench_yield" "cogent::yield, 2 tasks" "$n" 2.2) instructions per yield"
    echo "bench_yield boost::this_fiber::yield: $(hub_per_operation "$bench/bench_yield" "boost::this_fiber" "$n" 2.2) instructions per yield"
fi
if [ -x "$bench/bench_spawn_join" ]; then
    for variant in "cogent spawn + get, one" "cogent spawn + get, batches" "boost fiber + join, one" "boost fiber + join, batches"; do
        echo "bench_spawn_join $variant: $(hub_per_operation "$bench/bench_spawn_join" "$variant" 100000 1.1) instructions per task"
    done
fi
if [ -x "$bench/bench_pingpong" ]; then
    for variant in "cogent::event" "cogent::queue<long> put/get, unbounded" "cogent::channel" "boost buffered" "boost unbuffered"; do
        echo "bench_pingpong $variant: $(hub_per_operation "$bench/bench_pingpong" "$variant" 100000 1.1) instructions per round trip"
    done
fi
