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
