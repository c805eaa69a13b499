#!/usr/bin/env bash
# The tour: builds cogent and runs the seed's examples in C++, one after another, then ends.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh

build=build-tour
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCOGENT_BUILD_TESTS=OFF -DCOGENT_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

show() {
  echo
  echo "=== $1: $2"
  echo "--- ${1}.cpp (twin of the seed tutorial's $3) prints:"
  "./$build/examples/$1"
}

echo "cogent tour: the seed tutorial's examples, in C++"
show greenlet_switch "two functions switching explicitly (greenlet.switch)" greenlet_switch.py
show baozi "a producer and a consumer passing values through switch_to" baozi.py
echo
echo "=== summary: 2 examples ran (greenlet_switch, baozi); the hub, networking and fetch examples"
echo "    join the tour as their issues land."
