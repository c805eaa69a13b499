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
sessions=""
backends=""
trap 'if [ -n "$server_pid" ]; then kill -KILL "$server_pid" 2>/dev/null || true; fi; rm -f "$log" "$log".*' EXIT
start_server() {  # server and its arguments; sets port
  "./$build/examples/$1" "${@:2}" >"$log" 2>&1 &
  server_pid=$!
  port=""
  for _ in $(seq 100); do
    # echo servers say "listening on port N", the page server "listening on http://host:N/".
    port=$(sed -n -e 's/^listening on port \([0-9]*\)$/\1/p' -e 's/^page_server listening on .*:\([0-9]*\)\/$/\1/p' "$log")
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
  printf 'hello\nselect, poll and epoll\nbye\n' | "./$build/examples/echo_client" --port "$port" | tee "$log.client"
  stop_server
  sessions+="$1 $(grep -o "Received b'" "$log.client" | wc -l) of 3 replies; "
  echo "--- ${1}.cpp (twin of the seed tutorial's $3) printed:"
  cat "$log"
}

echo "cogent tour: the seed tutorial's examples, in C++"
show greenlet_switch "two functions switching explicitly (greenlet.switch)" greenlet_switch.py
show baozi "a producer and a consumer passing values through switch_to" baozi.py

echo
echo "=== fetch_pages: three pages fetched at once (gevent.spawn + joinall), from a local page server"
echo "    that holds every answer for 500 ms (no internet here)"
start_server page_server --port 0 --delay-ms 500 || exit 1
urls=("http://127.0.0.1:$port/" "http://127.0.0.1:$port/page/64" "http://127.0.0.1:$port/page/120")
echo "--- fetch_pages.cpp (twin of the seed tutorial's gevent_fetch.py) prints:"
"./$build/examples/fetch_pages" "${urls[@]}" | tee "$log.concurrent"
echo "--- the same pages one after another (--sequential), last line only:"
"./$build/examples/fetch_pages" --sequential "${urls[@]}" | tail -n 1 | tee "$log.sequential"
echo "--- plain blocking libcurl calls made cooperative by monkey::patch_all (--patched), last line only:"
"./$build/examples/fetch_pages" --patched "${urls[@]}" | tail -n 1 | tee "$log.patched"
stop_server

session echo_server "the seed's service the cogent way: a greenlet per connection" "select_server.py's service"
session select_echo_server "the seed's select() loop, upper-casing what clients send" select_server.py

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
  backends+="$backend $replies, "
done

echo
echo "=== summary: the seed's five examples ran in C++"
echo "  1 greenlet_switch, 2 baozi: explicit switches between functions, passing values"
echo "  3 fetch_pages: $(tail -n 1 "$log.concurrent")"
echo "                 $(cat "$log.sequential")"
echo "                 $(cat "$log.patched")"
echo "  4 echo_server, select_echo_server with 5 echo_client: ${sessions%; }"
echo "    echo_server's replies of 200 per backend: ${backends%, }"
