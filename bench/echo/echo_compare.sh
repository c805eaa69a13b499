#!/bin/sh
# Runs echo_load against every echo server at several connection counts and prints a markdown
# table: throughput, round-trip latency, and the server's CPU time per message next to Asio's.
#
#   bench/echo/echo_compare.sh [build-dir]            # or BUILD_DIR=...; default build-bench-net
#   SECONDS=2 CONNECTIONS="1 64" SERVERS="go cogent-epoll" bench/echo/echo_compare.sh
#
# Servers: cogent-select cogent-poll cogent-epoll cogent-epoll_et cogent-io_uring (cogent's
# examples/echo_server on each backend), epoll-c (bench/echo/epoll_server.c), asio, go, gevent.
# SIZE (default 64) is the message size, WARMUP (default 0.5) the seconds before measuring, and
# PYTHON the interpreter for gevent (default: the first of python3 and /usr/bin/python3 that can
# import gevent). The script configures the build directory if it has no CMakeCache.txt, builds
# what it needs there, and skips, with a note, each server it cannot build or find.
#
# The Asio server always runs (added to SERVERS if missing): the last column divides each
# server's CPU per message by Asio's at the same C. Without it, or with any row whose ratio
# cannot be computed (a failed run, Asio's own included), the script prints what it has and
# exits with status 1, saying which rows.
#
# Each server runs pinned to CPU 0 and echo_load to CPU 1, so on a 2-CPU machine each has a core
# and neither measures the other's work; anything else running on the machine still adds noise.
# Note that bash keeps its own SECONDS (seconds since the shell started): give it on the command
# line as above, where it is passed to this script (run by /bin/sh) as a plain variable.
set -eu

# shellcheck disable=SC3028 # SECONDS is the documented option here, not bash's counter
seconds=${SECONDS:-3}
cd "$(dirname "$0")/../.."
root=$(pwd)
build_dir=${1:-${BUILD_DIR:-build-bench-net}}
connections=${CONNECTIONS:-1 64 1000}
servers=${SERVERS:-cogent-select cogent-poll cogent-epoll cogent-epoll_et cogent-io_uring \
epoll-c asio go gevent}
# Asio's CPU per message is every ratio's denominator: it runs whatever SERVERS says.
case " $servers " in
    *" asio "*) ;;
    *) servers="asio $servers" ;;
esac
size=${SIZE:-64}
warmup=${WARMUP:-0.5}

tmp=$(mktemp -d)
server_pid="" load_pid=""
# Whatever ends the script, no server (and no echo_load) is left running.
cleanup() {
    if [ -n "$load_pid" ]; then kill -KILL "$load_pid" 2>/dev/null || true; fi
    if [ -n "$server_pid" ]; then kill -KILL "$server_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

note() { echo "$*" >>"$tmp/notes"; echo "== note: $*" >&2; }
: >"$tmp/notes"
: >"$tmp/results"
: >"$tmp/missing"  # server@C=... whose ratio to Asio cannot be computed

# A thousand connections need more fds than the usual soft limit of 1024, in the servers too.
# shellcheck disable=SC3045 # dash, bash and busybox sh all have ulimit -n and -H
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# ---- Building --------------------------------------------------------------------------------

if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DCOGENT_BUILD_TESTS=OFF \
        >"$tmp/configure.log" 2>&1 ||
        { cat "$tmp/configure.log" >&2; echo "echo_compare: cannot configure $build_dir" >&2; exit 1; }
fi
# One target at a time, so that one that is missing or does not build (the Asio server without
# libasio-dev, cogent's echo_server while it is being written) costs only its own rows.
build() {
    cmake --build "$build_dir" --target "$1" -j2 >"$tmp/build-$1.log" 2>&1
}
if ! build echo_load; then
    cat "$tmp/build-echo_load.log" >&2
    echo "echo_compare: cannot build echo_load" >&2
    exit 1
fi
load=$build_dir/bench/echo_load
build epoll_server || note "could not build epoll_server (cmake --build $build_dir --target epoll_server says why)"
if ! build asio_server || [ ! -x "$build_dir/bench/asio_server" ]; then
    tail -n 20 "$tmp/build-asio_server.log" >&2
    echo "echo_compare: cannot build the Asio server, whose CPU per message every ratio is divided by" \
        "(install libasio-dev; cmake --build $build_dir --target asio_server says why)" >&2
    exit 1
fi
case $servers in
    *cogent-*)
        if grep -q '^COGENT_BUILD_EXAMPLES:BOOL=OFF' "$build_dir/CMakeCache.txt"; then
            note "$build_dir was configured with COGENT_BUILD_EXAMPLES=OFF, so there is no echo_server"
        else
            build echo_server ||
                note "could not build echo_server (cmake --build $build_dir --target echo_server says why)"
        fi ;;
esac

python=${PYTHON:-}
if [ -z "$python" ]; then
    for candidate in python3 /usr/bin/python3; do
        if "$candidate" -c 'import gevent' 2>/dev/null; then python=$candidate; break; fi
    done
fi

# Prints the command line of a server; fails when the server is unknown or not there.
server_command() {
    case $1 in
        cogent-*) binary=$build_dir/examples/echo_server; args="--port 0 --backend ${1#cogent-} --quiet" ;;
        epoll-c) binary=$build_dir/bench/epoll_server; args="--port 0" ;;
        asio) binary=$build_dir/bench/asio_server; args="--port 0" ;;
        go) binary=$build_dir/bench/go_echo; args="--port 0" ;;
        gevent)
            if [ -z "$python" ]; then return 1; fi
            echo "$python $root/bench/echo/gevent_server.py --port 0"
            return 0 ;;
        *) return 1 ;;
    esac
    if [ ! -x "$binary" ]; then return 1; fi
    echo "$binary $args"
}

# ---- Running ---------------------------------------------------------------------------------

# The state of a process (R, S, Z...) from /proc, or nothing once it is gone. A process that has
# exited stays a zombie until waited for, and kill -0 succeeds on zombies, hence this.
state_of() { sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null || true; }

stop_server() {
    kill -TERM "$server_pid" 2>/dev/null || true
    i=0
    while [ "$(state_of "$server_pid")" != Z ] && [ -n "$(state_of "$server_pid")" ] && [ $i -lt 50 ]; do
        sleep 0.1; i=$((i + 1))
    done
    if [ $i -ge 50 ]; then
        note "$name did not stop on SIGTERM; killed"
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}

# Starts one server, runs echo_load against it, stops it; appends a row to the results.
run_one() {
    name=$1 c=$2 command=$3
    # The files exist before the server starts: the background job opens them asynchronously, and
    # reading one that is not there yet would end the script (set -e).
    : >"$tmp/server.out"
    : >"$tmp/server.err"
    # The command splits into words on purpose: the paths in it have no spaces.
    # shellcheck disable=SC2086
    taskset -c 0 $command >"$tmp/server.out" 2>"$tmp/server.err" &
    server_pid=$!
    port="" i=0
    while [ -z "$port" ] && [ $i -lt 200 ]; do
        port=$(sed -n 's/^listening on port \([0-9][0-9]*\)$/\1/p' "$tmp/server.out" || true)
        state=$(state_of "$server_pid")
        if [ -z "$port" ] && { [ -z "$state" ] || [ "$state" = Z ]; }; then break; fi
        [ -n "$port" ] || sleep 0.05
        i=$((i + 1))
    done
    if [ -z "$port" ]; then
        note "$name did not say 'listening on port' (stderr: $(head -c 300 "$tmp/server.err" | tr '\n' ' '))"
        echo "$name@C=$c" >>"$tmp/missing"
        stop_server
        return 0
    fi
    # In the background and waited for, so that a signal to this script is handled at once (a
    # shell runs its traps only when the foreground command it waits for has ended).
    taskset -c 1 "$load" --port "$port" --connections "$c" --size "$size" --seconds "$seconds" \
        --warmup "$warmup" --server-pid "$server_pid" >"$tmp/load.out" 2>"$tmp/load.err" &
    load_pid=$!
    rc=0
    wait "$load_pid" || rc=$?
    load_pid=""
    stop_server
    line=$(grep '^echo_load: ' "$tmp/load.out" || true)
    echo "== $name C=$c: $(head -n 1 "$tmp/load.out")$(tr '\n' ' ' <"$tmp/load.err")"
    if [ $rc -ne 0 ] || [ -z "$line" ]; then
        note "$name at C=$c failed (echo_load exit status $rc: $(tr '\n' ' ' <"$tmp/load.err"))"
        echo "$name@C=$c" >>"$tmp/missing"
        return 0
    fi
    # The keys hold slashes (msgs/s), so sed's expression is delimited by '|'.
    field() { printf '%s\n' "$line" | sed -n "s|.* $1=\\([^ ]*\\).*|\\1|p" | sed 's/us$//'; }
    echo "$name $c $(field msgs/s) $(field p50) $(field p99) $(field p999) $(field server_cpu_per_msg)" \
        "$(field server_kernel_per_msg)" >>"$tmp/results"
}

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) CPUs," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== $seconds s per run after $warmup s of warm-up, ${size}-byte messages;" \
    "server on CPU 0, echo_load on CPU 1"
for name in $servers; do
    if ! command=$(server_command "$name"); then
        case $name in
            cogent-*) note "$name skipped: no $build_dir/examples/echo_server" ;;
            gevent) note "gevent skipped: no Python with gevent (python3-gevent; or set PYTHON)" ;;
            epoll-c|asio|go) note "$name skipped: its server was not built in $build_dir" ;;
            *) note "$name skipped: unknown server (known: cogent-<backend> epoll-c asio go gevent)" ;;
        esac
        continue
    fi
    for c in $connections; do
        # select's fd_set holds fds below FD_SETSIZE (1024); a thousand connections come too close.
        if [ "$name" = cogent-select ] && [ "$c" -ge 1000 ]; then
            note "cogent-select skipped at C=$c: select cannot watch fds >= 1024"
            continue
        fi
        run_one "$name" "$c" "$command"
    done
done

# ---- The table -------------------------------------------------------------------------------

echo
echo "| server | C | msgs/s | p50 (µs) | p99 (µs) | p99.9 (µs) | server CPU (µs/msg) | of it in the kernel | CPU / Asio's |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
# Times keep three significant digits or so: 1.52, 15.2, 152, 1520.
awk '
    function us(v) {
        if (v == "n/a") return v
        return sprintf(v < 10 ? "%.2f" : v < 100 ? "%.1f" : "%.0f", v)
    }
    { rows[NR] = $0; if ($1 == "asio" && $7 != "n/a") asio[$2] = $7 }
    END {
        for (r = 1; r <= NR; ++r) {
            split(rows[r], f, " ")
            known = f[2] in asio && f[7] != "n/a" && asio[f[2]] > 0
            ratio = known ? sprintf("%.2f", f[7] / asio[f[2]]) : "n/a"
            if (!known) missing = missing " " f[1] "@C=" f[2]
            printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", f[1], f[2], f[3],
                us(f[4]), us(f[5]), us(f[6]), us(f[7]), us(f[8]), ratio
        }
        if (missing != "") print substr(missing, 2) >"/dev/stderr"
    }' "$tmp/results" 2>>"$tmp/missing"
# A C at which Asio gave no result has no row at all to show it: every C asked for must have one.
for c in $connections; do
    if ! grep -q "^asio $c [^ ]* [^ ]* [^ ]* [^ ]* [0-9.][0-9.]* " "$tmp/results"; then
        echo "asio@C=$c" >>"$tmp/missing"
    fi
done
if [ -s "$tmp/notes" ]; then
    echo
    sed 's/^/- /' "$tmp/notes"
fi
if [ -s "$tmp/missing" ]; then
    echo "echo_compare: no ratio to Asio's CPU per message for: $(sort -u "$tmp/missing" | tr '\n' ' ')" \
        "(see the notes above for why); failing" >&2
    exit 1
fi
