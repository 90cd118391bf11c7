#!/bin/bash
# bench/cluster.sh BUILDDIR: aish-rhetor alone against a node of a cluster
# of three nats-servers and two nodes on this machine, in the same run
# (`make bench-cluster`; needs ./configure --with-nats and nats-server).
#
# 1. aish/send through aish-bridge to an echo socket, one in flight (p50,
#    p99), on the single server and on node 1.
# 2. 64 aish/send in flight (msg/s), both.
# 3. aish/teamChat to FANOUT_SOCKETS echo sockets answering after
#    FANOUT_DELAY_MS, against aish/send to one of them (goal: under
#    1.25x), both.
# 4. The pause a client sees: 200 writes a second through node 1 (moving
#    to node 2 when node 1 goes), a reader on node 2; the nats-server
#    leading AISH_JOBS killed (kill -9), then node 1.  The longest wait
#    for an ack, and lost / doubled (both must be 0).
# Each figure is bridge-bench's median of BENCH_REPEAT rounds (min-max).
# Everything runs on loopback, each server with its own port and
# directory, all stopped and removed however the script ends.

set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 BUILDDIR" >&2
	exit 2
fi
BUILDDIR=$(cd "$1" && pwd)
BENCH_REPEAT=${BENCH_REPEAT:-5}
RTT_COUNT=${RTT_COUNT:-2000}
BRIDGE_MESSAGES=${BRIDGE_MESSAGES:-3000}
INFLIGHT=${INFLIGHT:-64}
FANOUT_SOCKETS=${FANOUT_SOCKETS:-115}
FANOUT_DELAY_MS=${FANOUT_DELAY_MS:-200}

top_builddir=$BUILDDIR
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
if [ -x "$BUILDDIR/.libs/aish-rhetor" ]; then
	RHETOR=$BUILDDIR/.libs/aish-rhetor
	BRIDGE=$BUILDDIR/.libs/aish-bridge
	export LD_LIBRARY_PATH=$BUILDDIR/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
else
	RHETOR=$BUILDDIR/aish-rhetor
	BRIDGE=$BUILDDIR/aish-bridge
fi
BRIDGE_BENCH=$BUILDDIR/bench/bridge-bench
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/aish-bench-cluster.XXXXXX")
SLOWDOWN=1
SINGLE_PID=
export AISH_OLLAMA_URL=

# What tests/cluster-lib.sh calls last, at exit: the single server and
# the scratch directory go too.
cleanup() {
	[ -n "$SINGLE_PID" ] && kill -KILL "$SINGLE_PID" 2>/dev/null || true
	rm -rf "$TEST_TMP"
}
# The three nats-servers and the nodes, as the cluster tests start them;
# exits 77 without NATS.
. "$top_srcdir/tests/cluster-lib.sh"

# single_start: the server alone, its URL in SINGLE_URL.
single_start() {
	local n line
	mkdir -p "$TEST_TMP/single"
	"$RHETOR" --port 0 --state-dir "$TEST_TMP/single" \
		> "$TEST_TMP/single.out" 2> "$TEST_TMP/single.err" &
	SINGLE_PID=$!
	for n in $(seq 1 200); do
		line=$(head -n 1 "$TEST_TMP/single.out" 2>/dev/null || true)
		case "$line" in
		"listening on http://"*)
			SINGLE_URL=${line#listening on }
			return 0 ;;
		esac
		sleep 0.05
	done
	echo "$0: the single server did not start" >&2
	exit 1
}

# figures WHERE URL: bridge-bench's rtt, throughput and fanout on URL,
# their lines kept in $TEST_TMP/WHERE.
figures() {
	local where=$1 url=$2
	echo "== $where: $url"
	{
		"$BRIDGE_BENCH" rtt "$BRIDGE" "$url" --count "$RTT_COUNT" \
			--repeat "$BENCH_REPEAT"
		"$BRIDGE_BENCH" throughput "$BRIDGE" "$url" \
			--inflight "$INFLIGHT" --messages "$BRIDGE_MESSAGES" \
			--repeat "$BENCH_REPEAT"
		"$BRIDGE_BENCH" fanout "$BRIDGE" "$url" \
			--sockets "$FANOUT_SOCKETS" --delay-ms "$FANOUT_DELAY_MS" \
			--repeat "$BENCH_REPEAT"
	} | tee "$TEST_TMP/fig-$where" | sed 's/^/  /'
}

# get WHERE KEY: "MEDIAN (MIN-MAX) UNIT" of one figure.
get() {
	awk -v k="$2" '$1 == k { printf "%s %s (%s-%s)", $2, $5, $3, $4 }' \
		"$TEST_TMP/fig-$1"
}

# median WHERE KEY: the median alone.
median() {
	awk -v k="$2" '$1 == k { print $2 }' "$TEST_TMP/fig-$1"
}

# ratio A B: A / B, two decimals.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "?"; else printf "%.2fx\n", a / b }'
}

single_start
figures single "$SINGLE_URL"
kill -TERM "$SINGLE_PID"
wait "$SINGLE_PID" 2>/dev/null || true
SINGLE_PID=

cluster_start
node_start 1
node_start 2
nats_wait_streams
figures cluster "${NODE_URLS[1]}"

echo "== the pause a client sees: 200 writes a second"
leader=$(nats_jsz 1 '?streams=true' | jq -r \
	'[.account_details[]?.stream_detail[]? | select(.name == "AISH_JOBS") | .cluster.leader][0] // empty')
leader=${leader#n}
python3 "$top_srcdir/tests/tools/steady_load.py" lead apollo 200 5 60 \
	"${NODE_URLS[2]}" "${NODE_URLS[1]},${NODE_URLS[2]}" \
	--at 2 "kill -9 ${NATS_PIDS[$leader]}" | tee "$TEST_TMP/fig-lead"
nats_kill "$leader"
nats_start "$leader"
nats_wait_ready
nats_wait_streams
python3 "$top_srcdir/tests/tools/steady_load.py" node apollo 200 5 60 \
	"${NODE_URLS[2]}" "${NODE_URLS[1]},${NODE_URLS[2]}" \
	--at 2 "kill -9 ${NODE_PIDS[1]}" | tee "$TEST_TMP/fig-node"
node_kill 1 KILL
node_kill 2

pause() {
	sed -n 's/.* lost \([0-9]*\) doubled \([0-9]*\) .*pause_ms \([0-9]*\).*/\3 ms (lost \1, doubled \2)/p' "$TEST_TMP/fig-$1"
}

echo
echo "| figure | single server | cluster node | cluster / single |"
echo "|---|---|---|---|"
for k in bridge_rtt_p50_us bridge_rtt_p99_us bridge_throughput_msgs \
	bridge_teamchat_ms bridge_teamchat_ratio; do
	echo "| $k | $(get single "$k") | $(get cluster "$k") |" \
		"$(ratio "$(median cluster "$k")" "$(median single "$k")") |"
done
echo "| pause, the jobs stream's leader killed | - | $(pause lead) | - |"
echo "| pause, node 1 killed | - | $(pause node) | - |"
