#!/bin/sh
# bench/run.sh BUILDDIR: the benchmarks behind `make bench`, measured
# against the limits of this machine, printed as one table.
#
# 1. Floor: a plain libwebsockets echo between two processes, 100-byte
#    text frames, one in flight (p50, p99) and 64 in flight (msg/s).
# 2. Bridge round trip: aish/send to an echo socket through aish-bridge
#    and aish-rhetor, one in flight (p50, p99; goal: p50 < 4x the floor);
#    taking turns with it, the same with an instruction (goal: p50 within
#    5% of the plain one) and with a 4 KiB context item, against a plain
#    one whose content is the very text the item makes (the same bytes
#    through the server and the AI; goal: within 5%).
# 3. Throughput: 64 aish/send in flight through the bridge (msg/s, and
#    its ratio to the floor's pipelined rate).
# 4. Fan-out: aish/teamChat to 100 echo sockets answering after 200 ms,
#    against aish/send to one of them (goal: under 1.25x); and the same
#    straight on the server's team-chat-all WebSocket.
# 5. Start-up: aish-bridge from exec to its initialize answer (goal:
#    under 10 ms) and aish -c with a one-stage pipeline, next to true.
# 6. Memory: VmRSS of the idle bridge (goal: under 8 MiB) and of the
#    server holding 1000 sockets (goal: under 40 MiB).
# 7. Scale (bench/scale-curves.py, with python3): restart on a state of
#    1000, 10000 and 100000 sockets (goal: under 2 s at the largest), the
#    server's RSS then, and create p50 at each (goal: the largest under
#    1.5x the smallest).
# 8. Large messages: a write of 1 MiB and of 4 MiB to an echo socket, to
#    its read, beside the same frame through libwebsockets' echo (goal:
#    under 2x), and the servers' CPU per message.
# 9. Steady load (the same script): 16 writes of 100 bytes in flight to an
#    echo socket, 30000 a round, each timed to its read: p50, p99, p99.9
#    (goal: under 10 ms) and the longest, beside the same frames through
#    libwebsockets' echo.
# Every process (servers, clients, the bridge) runs on the same CPU(s),
# BENCH_CPUS (taskset; default 0), so both sides of each ratio are pinned
# alike; the script prints the affinity each process actually got. Each
# figure is the median of BENCH_REPEAT rounds, with the min and max.
# Every server gets its own port (--port 0) and state directory, and is
# stopped, and its directory removed, however the script ends.
#
# Environment: RHETOR, AISH, BRIDGE, FANOUT, WS_FLOOR and BRIDGE_BENCH
# override the programs' paths; BENCH_CPUS, BENCH_REPEAT (5), RTT_COUNT
# (2000), FLOOR_MESSAGES (20000), BRIDGE_MESSAGES (3000), INFLIGHT (64),
# STARTS (20), FANOUT_SOCKETS (100), FANOUT_DELAY_MS (200),
# MEMORY_SOCKETS (1000), SCALE_SOCKETS ("1000 10000 100000"),
# SCALE_MESSAGE_BYTES ("1048576 4194304"), SCALE_REPEAT (3),
# STEADY_MESSAGES (30000; 0 leaves row 9 out) and STEADY_INFLIGHT (16)
# change the sizes.

set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 BUILDDIR" >&2
	exit 2
fi
BUILDDIR=$1
BENCH_CPUS=${BENCH_CPUS:-0}
BENCH_REPEAT=${BENCH_REPEAT:-5}
RTT_COUNT=${RTT_COUNT:-2000}
FLOOR_MESSAGES=${FLOOR_MESSAGES:-20000}
BRIDGE_MESSAGES=${BRIDGE_MESSAGES:-3000}
INFLIGHT=${INFLIGHT:-64}
STARTS=${STARTS:-20}
FANOUT_SOCKETS=${FANOUT_SOCKETS:-100}
FANOUT_DELAY_MS=${FANOUT_DELAY_MS:-200}
MEMORY_SOCKETS=${MEMORY_SOCKETS:-1000}
START_TIMEOUT_S=10

# real_binary NAME: the program itself rather than its libtool wrapper (a
# shell script whose start-up would be measured too); the libraries it
# needs are then found through LD_LIBRARY_PATH.
real_binary() {
	if [ -x "$BUILDDIR/.libs/$1" ] && [ -f "$BUILDDIR/.libs/libaish.so" ]
	then
		echo "$BUILDDIR/.libs/$1"
	else
		echo "$BUILDDIR/$1"
	fi
}

RHETOR=${RHETOR:-$(real_binary aish-rhetor)}
AISH=${AISH:-$(real_binary aish)}
BRIDGE=${BRIDGE:-$(real_binary aish-bridge)}
FANOUT=${FANOUT:-$BUILDDIR/bench/teamchat-fanout}
WS_FLOOR=${WS_FLOOR:-$BUILDDIR/bench/ws-floor}
BRIDGE_BENCH=${BRIDGE_BENCH:-$BUILDDIR/bench/bridge-bench}
if [ -d "$BUILDDIR/.libs" ]; then
	LD_LIBRARY_PATH=$BUILDDIR/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	export LD_LIBRARY_PATH
fi

for prog in "$RHETOR" "$AISH" "$BRIDGE" "$FANOUT" "$WS_FLOOR" \
	"$BRIDGE_BENCH"; do
	if [ ! -x "$prog" ]; then
		echo "$0: $prog is missing (build it first: make bench)" >&2
		exit 1
	fi
done
for prog in "$AISH" "$BRIDGE"; do
	case $(head -c 4 "$prog" | od -An -c | tr -d ' ') in
	177ELF) ;;
	*) echo "warning: $prog is a script, its start-up is measured too" ;;
	esac
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/aish-bench.XXXXXX")
SERVER_PID=
URL=
TABLE=$WORK/table
RESULTS=$WORK/results
: > "$RESULTS"

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
	SERVER_NAME=$1
	i=0
	while [ $i -lt $((START_TIMEOUT_S * 20)) ]; do
		line=$(head -n 1 "$WORK/$1.out" 2>/dev/null || true)
		case $line in
		"listening on http://"*)
			URL=${line#listening on }
			echo "# server $1: $URL, pid $SERVER_PID," \
				"affinity $(affinity "$SERVER_PID")"
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

# The CPU list a process may run on.
affinity() {
	taskset -pc "$1" 2>/dev/null | sed 's/.*: //' || echo "?"
}

# Prints the server's resident memory in KiB (VmRSS).
server_rss_kib() {
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$SERVER_PID/status"
}

# measure NAME COMMAND...: runs a benchmark program pinned, shows its
# output and keeps its "KEY MEDIAN MIN MAX UNIT" lines, renaming
# exec_ms to NAME_ms. On failure shows the server's log and exits.
measure() {
	name=$1
	shift
	if ! pinned "$@" > "$WORK/step.out"; then
		cat "$WORK/step.out"
		echo "$0: $name failed: $*" >&2
		if [ -n "$SERVER_PID" ]; then
			echo "(server log follows)" >&2
			tail -n 20 "$WORK/$SERVER_NAME.err" >&2
		fi
		exit 1
	fi
	sed "s/^exec_ms /${name}_ms /" "$WORK/step.out" |
		tee -a "$RESULTS" | sed 's/^[a-z]/  &/'
}

# get KEY [FIELD]: a figure kept by measure (FIELD 2 median, 3 min, 4 max).
get() {
	awk -v k="$1" -v f="${2:-2}" '$1 == k { v = $f } END {
		if (v == "") { print "?"; exit 1 } print v }' "$RESULTS"
}

# fmt KEY: "MEDIAN (MIN–MAX) UNIT" with sensible rounding.
fmt() {
	awk -v k="$1" '$1 == k { m = $2; lo = $3; hi = $4; u = $5 }
	END {
		if (m == "") { print "?"; exit }
		d = (m >= 100) ? 0 : (m >= 10 ? 1 : 2)
		if (u == "KiB") { m /= 1024; lo /= 1024; hi /= 1024;
			u = "MiB"; d = 1 }
		printf "%.*f %s (%.*f-%.*f)\n", d, m, u, d, lo, d, hi
	}' "$RESULTS"
}

# ratio A B: A / B with two decimals.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", a / b }'
}

# verdict VALUE OP LIMIT: "met" or "MISSED".
verdict() {
	if awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
		exit !(op == "<" ? v < l : v > l) }'; then
		echo met
	else
		echo MISSED
	fi
}

# row FIGURE VALUE [GOAL [VERDICT]]: one line of the final table.
row() {
	printf '| %s | %s | %s | %s |\n' "$1" "$2" "${3:--}" "${4:-}" \
		>> "$TABLE"
}

if command -v taskset > /dev/null 2>&1; then
	PIN=yes
	PINNING="every process on CPU(s) $BENCH_CPUS (taskset -c $BENCH_CPUS)"
else
	PIN=
	PINNING="none (taskset not found); figures are noisier"
fi
echo "# pinning: $PINNING, $(nproc) CPU(s) online;" \
	"median (min-max) of $BENCH_REPEAT rounds"
echo "# programs: $RHETOR, $BRIDGE, $AISH"
START=$(date +%s)

### 1. the floor: plain libwebsockets echo

echo "== floor: libwebsockets echo, 100-byte frames"
measure floor "$WS_FLOOR" --count "$RTT_COUNT" --repeat "$BENCH_REPEAT" \
	--inflight "$INFLIGHT" --messages "$FLOOR_MESSAGES"

### 2-3, 5-6: the bridge against one server

start_server bridge
echo "== bridge round trip: aish/send to an echo socket, one in flight"
measure bridge "$BRIDGE_BENCH" rtt "$BRIDGE" "$URL" --count "$RTT_COUNT" \
	--repeat "$BENCH_REPEAT"
echo "== LSP: executeCommand to its applyEdit, in turn with aish/send"
measure bridge "$BRIDGE_BENCH" lsp "$BRIDGE" "$URL" --count "$RTT_COUNT" \
	--repeat "$BENCH_REPEAT"
echo "== bridge throughput: $INFLIGHT aish/send in flight"
measure bridge "$BRIDGE_BENCH" throughput "$BRIDGE" "$URL" \
	--inflight "$INFLIGHT" --messages "$BRIDGE_MESSAGES" \
	--repeat "$BENCH_REPEAT"
echo "== start-up: exec to the answer ($STARTS starts each)"
measure bridge "$BRIDGE_BENCH" startup "$BRIDGE" "$URL" --repeat "$STARTS"
measure true "$BRIDGE_BENCH" exec --repeat "$STARTS" -- true
measure aish "$BRIDGE_BENCH" exec --repeat "$STARTS" -- \
	"$AISH" -r "$URL" -o -c 'echo "hi" | athena'
echo "== memory of the idle bridge"
measure bridge "$BRIDGE_BENCH" memory "$BRIDGE" "$URL" --repeat 3
stop_server

### 4. fan-out, through the bridge and straight on the server

start_server teamchat
echo "== fan-out through the bridge: aish/teamChat to $FANOUT_SOCKETS" \
	"sockets answering after $FANOUT_DELAY_MS ms"
measure fanout "$BRIDGE_BENCH" fanout "$BRIDGE" "$URL" \
	--sockets "$FANOUT_SOCKETS" --delay-ms "$FANOUT_DELAY_MS" \
	--repeat "$BENCH_REPEAT"
stop_server
start_server fanout
echo "== fan-out on the server: team-chat-all WebSocket, same sockets"
pinned "$FANOUT" "$URL" --sockets "$FANOUT_SOCKETS" \
	--delay-ms "$FANOUT_DELAY_MS" --repeat "$BENCH_REPEAT" \
	> "$WORK/fanout.out" || {
	cat "$WORK/fanout.out"
	echo "$0: the server fan-out benchmark failed" >&2
	tail -n 20 "$WORK/fanout.err" >&2
	exit 1
}
sed 's/^/  /' "$WORK/fanout.out"
awk '$1 == "median" { m = $2 } $1 == "min" { lo = $2 } $1 == "max" {
	hi = $2 } END { printf "server_teamchat_ms %s %s %s ms\n", m, lo, hi
	}' "$WORK/fanout.out" >> "$RESULTS"
stop_server

### 6. memory of the server, idle and with many sockets

start_server memory
sleep 0.2
idle=$(server_rss_kib)
echo "== server memory: VmRSS idle $idle KiB; creating $MEMORY_SOCKETS sockets"
if ! pinned "$FANOUT" "$URL" --sockets "$MEMORY_SOCKETS" --create-only \
	> "$WORK/create.out"; then
	echo "$0: creating $MEMORY_SOCKETS sockets failed (server log follows)" >&2
	tail -n 20 "$WORK/memory.err" >&2
	exit 1
fi
sleep 0.2
full=$(server_rss_kib)
echo "  VmRSS after $MEMORY_SOCKETS sockets: $full KiB"
stop_server
echo "server_rss_idle_kib $idle $idle $idle KiB" >> "$RESULTS"
echo "server_rss_full_kib $full $full $full KiB" >> "$RESULTS"

### 7-8. scale: restart and create with many sockets, large messages

SCALE_SOCKETS=${SCALE_SOCKETS:-1000 10000 100000}
SCALE_MESSAGE_BYTES=${SCALE_MESSAGE_BYTES:-1048576 4194304}
export SCALE_SOCKETS SCALE_MESSAGE_BYTES
SCALE=
if command -v python3 > /dev/null 2>&1; then
	SCALE=yes
	echo "== scale: restart and create with $SCALE_SOCKETS sockets;" \
		"writes of $SCALE_MESSAGE_BYTES bytes, and the floor's echo"
	measure scale python3 "$(dirname "$0")/scale-curves.py" "$RHETOR" \
		"$WS_FLOOR"
else
	echo "== scale: skipped (no python3)"
fi

### the table

floor=$(get floor_rtt_p50_us)
p50=$(get bridge_rtt_p50_us)
rtt_ratio=$(ratio "$p50" "$floor")
instr_ratio=$(ratio "$(get bridge_rtt_instruction_p50_us)" "$p50")
ctx_ratio=$(ratio "$(get bridge_rtt_context_p50_us)" \
	"$(get bridge_rtt_as_content_p50_us)")
lsp_ratio=$(ratio "$(get lsp_apply_p50_us)" "$(get lsp_send_p50_us)")
thr_ratio=$(ratio "$(get bridge_throughput_msgs)" "$(get floor_pipelined_msgs)")
fan_ratio=$(get bridge_teamchat_ratio)
server_fan_ratio=$(ratio "$(get server_teamchat_ms)" "$FANOUT_DELAY_MS")
startup=$(get bridge_startup_ms)
bridge_rss=$(awk -v k="$(get bridge_rss_idle_kib)" 'BEGIN { print k / 1024 }')
server_rss=$(awk -v k="$full" 'BEGIN { print k / 1024 }')
members=$(get bridge_teamchat_members)

echo "| figure | median (min-max) | goal | |" > "$TABLE"
echo "|---|---|---|---|" >> "$TABLE"
row "1. floor: lws echo round trip, p50" "$(fmt floor_rtt_p50_us)"
row "   floor: lws echo round trip, p99" "$(fmt floor_rtt_p99_us)"
row "   floor: lws echo, $INFLIGHT in flight" "$(fmt floor_pipelined_msgs)"
row "2. bridge aish/send round trip, p50" "$(fmt bridge_rtt_p50_us)"
row "   bridge aish/send round trip, p99" "$(fmt bridge_rtt_p99_us)"
row "   bridge p50 / floor p50" "${rtt_ratio}x" "< 4x" \
	"$(verdict "$rtt_ratio" "<" 4)"
row "   with an instruction, p50" "$(fmt bridge_rtt_instruction_p50_us)"
row "   with an instruction / plain" "${instr_ratio}x" "< 1.05x" \
	"$(verdict "$instr_ratio" "<" 1.05)"
row "   with a 4 KiB context item, p50" "$(fmt bridge_rtt_context_p50_us)"
row "   plain, that item's text as content, p50" \
	"$(fmt bridge_rtt_as_content_p50_us)"
row "   context item / its text as content" "${ctx_ratio}x" "< 1.05x" \
	"$(verdict "$ctx_ratio" "<" 1.05)"
row "   LSP executeCommand to its applyEdit, p50" "$(fmt lsp_apply_p50_us)"
row "   LSP executeCommand to its applyEdit, p99" "$(fmt lsp_apply_p99_us)"
row "   aish/send in turn with it, p50" "$(fmt lsp_send_p50_us)"
row "   executeCommand to applyEdit / aish/send" "${lsp_ratio}x" "< 1.25x" \
	"$(verdict "$lsp_ratio" "<" 1.25)"
row "3. bridge throughput, $INFLIGHT in flight" \
	"$(fmt bridge_throughput_msgs)"
row "   bridge / floor pipelined rate" "${thr_ratio}x"
row "4. aish/teamChat, $members members (one AI: $(get bridge_one_ai_ms) ms)" \
	"$(fmt bridge_teamchat_ms)"
row "   teamChat / one AI's aish/send" "${fan_ratio}x" "< 1.25x" \
	"$(verdict "$fan_ratio" "<" 1.25)"
row "   server team-chat-all alone, / $FANOUT_DELAY_MS ms" \
	"$(fmt server_teamchat_ms), ${server_fan_ratio}x" "< 1.25x" \
	"$(verdict "$server_fan_ratio" "<" 1.25)"
row "5. aish-bridge exec to initialize answer" "$(fmt bridge_startup_ms)" \
	"< 10 ms" "$(verdict "$startup" "<" 10)"
row "   aish -c 'echo \"hi\" \\| athena', exec to exit" "$(fmt aish_ms)"
row "   true, exec to exit" "$(fmt true_ms)"
row "6. bridge RSS, idle after initialize" "$(fmt bridge_rss_init_kib)"
row "   bridge RSS, idle with one WebSocket" "$(fmt bridge_rss_idle_kib)" \
	"< 8 MiB" "$(verdict "$bridge_rss" "<" 8)"
row "   server RSS, idle" "$(fmt server_rss_idle_kib)"
row "   server RSS, $MEMORY_SOCKETS sockets" "$(fmt server_rss_full_kib)" \
	"< 40 MiB" "$(verdict "$server_rss" "<" 40)"
if [ -n "$SCALE" ]; then
	first=${SCALE_SOCKETS%% *}
	last=${SCALE_SOCKETS##* }
	label="7. restart"
	for n in $SCALE_SOCKETS; do
		row "$label on $n sockets: exec to listening" \
			"$(fmt restart_s_$n)"
		label="   restart"
		row "   server RSS then" "$(fmt restart_rss_kib_$n)"
		row "   create p50 with $n sockets" "$(fmt create_p50_us_$n)"
	done
	restart=$(get restart_s_$last)
	row "   restart on $last sockets" "$(ratio "$restart" 1) s" "< 2 s" \
		"$(verdict "$restart" "<" 2)"
	create_ratio=$(ratio "$(get create_p50_us_$last)" \
		"$(get create_p50_us_$first)")
	row "   create p50, $last / $first sockets" "${create_ratio}x" \
		"< 1.5x" "$(verdict "$create_ratio" "<" 1.5)"
	label="8. write"
	for b in $SCALE_MESSAGE_BYTES; do
		big_ratio=$(ratio "$(get big_aish_ms_$b)" "$(get big_floor_ms_$b)")
		cpu_ratio=$(ratio "$(get big_aish_cpu_ms_$b)" \
			"$(get big_floor_cpu_ms_$b)")
		row "$label of $b bytes to an echo socket, to its read" \
			"$(fmt big_aish_ms_$b)"
		label="   write"
		row "   floor: the same frame through lws echo" \
			"$(fmt big_floor_ms_$b)"
		row "   write / floor" "${big_ratio}x" "< 2x" \
			"$(verdict "$big_ratio" "<" 2)"
		cpu=$(ratio "$(get big_aish_cpu_ms_$b)" 1)
		floor_cpu=$(ratio "$(get big_floor_cpu_ms_$b)" 1)
		row "   server CPU per write / echo server's" \
			"$cpu / $floor_cpu ms, ${cpu_ratio}x"
	done
	if [ "${STEADY_MESSAGES:-30000}" -gt 0 ]; then
		inflight=${STEADY_INFLIGHT:-16}
		row "9. steady load, $inflight writes in flight, p50" \
			"$(fmt steady_aish_p50_ms)"
		row "   steady load, p99" "$(fmt steady_aish_p99_ms)"
		p999=$(get steady_aish_p999_ms)
		row "   steady load, p99.9" "$(fmt steady_aish_p999_ms)" \
			"< 10 ms" "$(verdict "$p999" "<" 10)"
		row "   steady load, the longest" "$(fmt steady_aish_max_ms)"
		row "   steady load, rate" "$(fmt steady_aish_msgs)"
		row "   floor: lws echo of the same, p50 / p99.9" \
			"$(fmt steady_floor_p50_ms) / $(fmt steady_floor_p999_ms)"
		row "   floor: rate" "$(fmt steady_floor_msgs)"
	fi
fi

echo
echo "pinning: $PINNING; $(date -u +%Y-%m-%dT%H:%MZ), $(($(date +%s) - START)) s"
cat "$TABLE"
