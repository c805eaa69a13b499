#!/bin/sh
# Plots bench_backend_scaling's .dat file: round-trip latency and CPU per wake-up against the
# number of idle fds, one line per backend, log-log. docs/backend_scaling.png is its output.
#
#   bench/plot_backend_scaling.sh [in.dat, default build-bench/bench/backend_scaling.dat]
#                                 [out.png, default docs/backend_scaling.png]
set -eu

cd "$(dirname "$0")/.."
dat=${1:-${BUILD_DIR:-build-bench}/bench/backend_scaling.dat}
png=${2:-docs/backend_scaling.png}
command -v gnuplot >/dev/null || { echo "plot_backend_scaling.sh: gnuplot not found (apt-get install gnuplot-nox)" >&2; exit 1; }
[ -r "$dat" ] || { echo "plot_backend_scaling.sh: no $dat (run bench_backend_scaling first)" >&2; exit 1; }
blocks=$(grep -c 'rt_median_us' "$dat")
[ "$blocks" -gt 0 ] || { echo "plot_backend_scaling.sh: $dat has no data" >&2; exit 1; }
stamp=$(date -u -r "$dat" '+%Y-%m-%d %H:%M UTC')

gnuplot <<GNUPLOT
set terminal pngcairo noenhanced size 1100,460 font "DejaVu Sans,10"
set output "$png"
set multiplot layout 1,2 title "cogent backends: N idle fds + one socketpair ping-pong (bench_backend_scaling, $stamp)"
set logscale xy
set xlabel "idle fds watched (N)"
set grid xtics ytics mxtics mytics lc rgb "#dddddd"
set key top left
set xrange [5:20000]
set format y "%g"
set title "round-trip latency, median (2 polls per round trip)"
set ylabel "microseconds"
plot for [i=0:$blocks-1] "$dat" index i using 1:2 with linespoints pt (i+4) ps 1.3 lw 2 title columnheader(1)
set title "hub thread CPU per wake-up (user + system)"
set ylabel "microseconds"
plot for [i=0:$blocks-1] "$dat" index i using 1:4 with linespoints pt (i+4) ps 1.3 lw 2 title columnheader(1)
unset multiplot
GNUPLOT
echo "wrote $png from $dat"
