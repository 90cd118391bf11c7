#!/bin/sh
# bench/run.sh BUILDDIR: the server benchmarks behind `make bench`.
#
# 1. Fan-out: a fresh aish-rhetor, 100 echo sockets that answer after
#    200 ms, five writes to team-chat-all; the median time until the last
#    member's reply, against the delay (goal: under 1.25 times it).
# 2. Memory: another fresh aish-rhetor; its resident memory idle, then
#    after 1000 sockets were created over HTTP.
# Server and client are pinned to the same CPUs with taskset. Every server
# gets its own port (--port 0) and state directory, and is stopped, and
# its directory removed, however the script ends. Prints one table.
#
# Environment: RHETOR and FANOUT override the programs' paths; BENCH_CPUS
# is the taskset CPU list (default 0); FANOUT_SOCKETS, FANOUT_DELAY_MS,
# FANOUT_REPEAT and MEMORY_SOCKETS change the sizes.

set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 BUILDDIR" >&2
	exit 2
fi
BUILDDIR=$1
RHETOR=${RHETOR:-$BUILDDIR/aish-rhetor}
FANOUT=${FANOUT:-$BUILDDIR/bench/teamchat-fanout}
BENCH_CPUS=${BENCH_CPUS:-0}
FANOUT_SOCKETS=${FANOUT_SOCKETS:-100}
FANOUT_DELAY_MS=${FANOUT_DELAY_MS:-200}
FANOUT_REPEAT=${FANOUT_REPEAT:-5}
MEMORY_SOCKETS=${MEMORY_SOCKETS:-1000}
START_TIMEOUT_S=10

for prog in "$RHETOR" "$FANOUT"; do
	if [ ! -x "$prog" ]; then
		echo "$0: $prog is missing (build it first: make bench)" >&2
		exit 1
	fi
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/aish-bench.XXXXXX")
SERVER_PID=
URL=
TABLE=$WORK/table

# Stops the server if one is running (TERM, then KILL after 5 s).
stop_server() {
	[ -n "$SERVER_PID" ] || return 0
	kill -TERM "$SERVER_PID" 2>/dev/null || true
	i=0
	while kill -0 "$SERVER_PID" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL "$SERVER_PID" 2>/dev/null || true
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
}

# Runs at exit, however the script ends: no server or directory is left.
cleanup() {
	stop_server
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

# Runs a command pinned to BENCH_CPUS (or as it is without taskset).
pinned() {
	if [ -n "$PIN" ]; then
		taskset -c "$BENCH_CPUS" "$@"
	else
		"$@"
	fi
}

# Replaces the current (sub)shell with the command, pinned like pinned().
exec_pinned() {
	if [ -n "$PIN" ]; then
		exec taskset -c "$BENCH_CPUS" "$@"
	else
		exec "$@"
	fi
}

# start_server NAME: a fresh server with its own state directory; sets
# SERVER_PID and URL from its first line "listening on http://HOST:PORT".
start_server() {
	state=$WORK/state-$1
	mkdir -m 700 "$state"
	: > "$WORK/$1.out"
	# exec, so that $! is the server itself and not a subshell around it
	(exec_pinned "$RHETOR" --port 0 --state-dir "$state") \
		> "$WORK/$1.out" 2> "$WORK/$1.err" &
	SERVER_PID=$!
	i=0
	while [ $i -lt $((START_TIMEOUT_S * 20)) ]; do
		line=$(head -n 1 "$WORK/$1.out" 2>/dev/null || true)
		case $line in
		"listening on http://"*)
			URL=${line#listening on }
			return 0 ;;
		?*)
			echo "$0: aish-rhetor's first line is not" \
				"'listening on http://HOST:PORT': $line" >&2
			exit 1 ;;
		esac
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			echo "$0: aish-rhetor exited at start:" >&2
			cat "$WORK/$1.err" >&2
			SERVER_PID=
			exit 1
		fi
		sleep 0.05
		i=$((i + 1))
	done
	echo "$0: aish-rhetor said nothing within ${START_TIMEOUT_S}s" >&2
	exit 1
}

# Prints the server's resident memory in KiB (VmRSS).
server_rss_kib() {
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$SERVER_PID/status"
}

# Formats KiB as MiB with one decimal.
mib() {
	awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'
}

# row FIGURE VALUE GOAL: one line of the final table.
row() {
	printf '%-44s %-14s %s\n' "$1" "$2" "$3" >> "$TABLE"
}

# Takes "NAME VALUE ..." lines' VALUE for NAME from the fan-out output.
field() {
	awk -v name="$1" '$1 == name { print $2; exit }' "$WORK/fanout.out"
}

if command -v taskset > /dev/null 2>&1; then
	PIN=yes
	echo "pinning: server and client on CPU(s) $BENCH_CPUS" \
		"(taskset -c $BENCH_CPUS), $(nproc) CPU(s) online"
else
	PIN=
	echo "pinning: none (taskset not found); figures are noisier"
fi
row figure value goal

### 1. fan-out through team-chat-all

start_server fanout
echo "fan-out server: $URL (pid $SERVER_PID $(cat /proc/$SERVER_PID/comm)," \
	"affinity $(taskset -pc "$SERVER_PID" 2>/dev/null | sed 's/.*: //'))"
if ! pinned "$FANOUT" "$URL" --sockets "$FANOUT_SOCKETS" \
	--delay-ms "$FANOUT_DELAY_MS" --repeat "$FANOUT_REPEAT" \
	> "$WORK/fanout.out"; then
	cat "$WORK/fanout.out"
	echo "$0: the fan-out benchmark failed (server log follows)" >&2
	tail -n 20 "$WORK/fanout.err" >&2
	exit 1
fi
cat "$WORK/fanout.out"
stop_server
members=$(awk '$1 == "round" { gsub(/\(/, "", $5); print $5; exit }' \
	"$WORK/fanout.out")
row "team-chat-all fan-out, $members members, median" \
	"$(field median) ms" "-"
row "  min / max over $FANOUT_REPEAT rounds" \
	"$(field min) / $(field max)" "-"
row "  median / delay ($FANOUT_DELAY_MS ms)" "$(field ratio)" "< 1.25"

### 2. resident memory, idle and with many sockets

start_server memory
sleep 0.2
idle=$(server_rss_kib)
echo "memory server: $URL (pid $SERVER_PID), VmRSS idle $idle KiB"
if ! pinned "$FANOUT" "$URL" --sockets "$MEMORY_SOCKETS" --create-only \
	> "$WORK/create.out"; then
	echo "$0: creating $MEMORY_SOCKETS sockets failed (server log follows)" >&2
	tail -n 20 "$WORK/memory.err" >&2
	exit 1
fi
cat "$WORK/create.out"
sleep 0.2
full=$(server_rss_kib)
echo "VmRSS after $MEMORY_SOCKETS sockets: $full KiB"
stop_server
row "server RSS, idle" "$(mib "$idle")" "-"
row "server RSS, $MEMORY_SOCKETS sockets" "$(mib "$full")" "-"
row "  per socket" \
	"$(awk -v a="$idle" -v b="$full" -v n="$MEMORY_SOCKETS" \
		'BEGIN { printf "%.1f KiB", (b - a) / n }')" "-"

echo
cat "$TABLE"
ratio=$(field ratio)
if awk -v r="$ratio" 'BEGIN { exit !(r < 1.25) }'; then
	echo "fan-out goal met"
else
	echo "fan-out goal missed: median / delay = $ratio (goal < 1.25)"
fi
