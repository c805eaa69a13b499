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

# Runs a server example in the background, talks to it with echo_client fed from a pipe, stops it
# with SIGTERM and shows what the server printed.
log=$(mktemp)
server_pid=""
trap 'if [ -n "$server_pid" ]; then kill -KILL "$server_pid" 2>/dev/null || true; fi; rm -f "$log"' EXIT
start_server() {  # server and its arguments; sets port
  "./$build/examples/$1" "${@:2}" >"$log" 2>&1 &
  server_pid=$!
  port=""
  for _ in $(seq 100); do
    port=$(sed -n 's/^listening on port \([0-9]*\)$/\1/p' "$log")
    [ -n "$port" ] && return 0
    sleep 0.05
  done
  echo "tour: $1 did not start:" >&2
  cat "$log" >&2
  kill -KILL "$server_pid" 2>/dev/null || true
  server_pid=""
  return 1
}
stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" || true
  server_pid=""
}
session() {  # server, description, seed file, server arguments
  echo
  echo "=== $1: $2"
  start_server "$1" --port 0 "${@:4}" || exit 1
  echo "--- echo_client.cpp (twin of the seed's client.py), its input piped in, prints:"
  printf 'hello\nselect, poll and epoll\nbye\n' | "./$build/examples/echo_client" --port "$port"
  stop_server
  echo "--- ${1}.cpp (twin of the seed tutorial's $3) printed:"
  cat "$log"
}

echo "cogent tour: the seed tutorial's examples, in C++"
show greenlet_switch "two functions switching explicitly (greenlet.switch)" greenlet_switch.py
show baozi "a producer and a consumer passing values through switch_to" baozi.py
session select_echo_server "the seed's select() loop, upper-casing what clients send" select_server.py
session echo_server "the same service the cogent way: a greenlet per connection" "select_server.py's service"

echo
echo "=== echo_server on every backend: 200 lines through echo_client"
for backend in select poll epoll epoll_et io_uring; do
  if ! start_server echo_server --port 0 --quiet --backend "$backend" 2>/dev/null; then
    echo "  $backend: not available here"
    continue
  fi
  replies=$(seq 200 | sed 's/^/line /' | "./$build/examples/echo_client" --port "$port" | grep -c "Received b'LINE [0-9]*'")
  stop_server
  echo "  $backend: $replies of 200 replies upper-cased; $(tail -n 1 "$log")"
done

echo
echo "=== summary: 4 of the seed's 5 examples ran (greenlet_switch, baozi, select_echo_server and"
echo "    echo_server with echo_client); fetch_pages joins the tour with the HTTP client."
