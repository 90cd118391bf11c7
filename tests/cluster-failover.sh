#!/bin/bash
# cluster-failover.sh: SPEC sections 2 and 11 under load.  A client writes
# 200 times a second through node 1 (moving to node 2 when node 1 goes
# away, sending again what was not acknowledged, with the same ids) while
# a reader on node 2 records every reply.  First the nats-server leading
# each stream is killed (kill -9), one stream after the other, then node 1
# is.  Each time every
# write must be accepted, and every accepted write answered exactly once:
# none lost, none doubled.

# Elections after a kill -9 take 5-8 s with nats-server 2.9.
TEST_TIMEOUT=${TEST_TIMEOUT:-300}
. "$(dirname "$0")/setup.sh"
. "$(dirname "$0")/cluster-lib.sh"

T=$TEST_TMP
RATE=200
SECONDS_OF_LOAD=5
# Jobs a dead node held go to the other after 3 s (30 s by default).
export AISH_CLUSTER_ACK_WAIT_MS=3000
cluster_start
node_start 1
node_start 2

# stream_leader NAME: the index (1..3) of the nats-server leading NAME.
stream_leader() {
	local name
	name=$(nats_jsz 1 '?streams=true' | jq -r --arg s "$1" \
		'[.account_details[]?.stream_detail[]? | select(.name == $s) | .cluster.leader][0] // empty')
	echo "${name#n}"
}

# report: what the nodes alive and the engine say, for a phase that
# failed: each node's engine figures and last log lines, and the state of
# the streams and of the shared consumer.
report() {
	local i state=
	for i in 1 2; do
		[ -n "${NODE_PIDS[$i]:-}" ] || continue
		echo "# node $i:"
		curl -s --max-time 5 "${NODE_URLS[$i]}/metrics" |
			grep '^aish_cluster' | sed 's/^/#   /'
		tail -n 20 "$T/node$i/err" | sed 's/^/#   /'
	done
	for i in 1 2 3; do
		state=$(nats_jsz "$i" '?consumers=true')
		[ -n "$state" ] && break
	done
	echo "$state" | jq -c '.account_details[]?.stream_detail[]? |
		{name, messages: .state.messages, leader: .cluster.leader,
		 consumers: [.consumer_detail[]? | {name, leader: .cluster.leader,
		   pending: .num_pending, ack_pending: .num_ack_pending,
		   redelivered: .num_redelivered, waiting: .num_waiting}]}' |
		sed 's/^/# /'
}

# load PREFIX AT COMMAND: the steady load, with COMMAND run AT seconds in;
# the engine's state is shown when it fails.
load() {
	python3 "$top_srcdir/tests/tools/steady_load.py" "$1" apollo "$RATE" \
		"$SECONDS_OF_LOAD" $(( 60 * SLOWDOWN )) "${NODE_URLS[2]}" \
		"${NODE_URLS[1]},${NODE_URLS[2]}" --at "$2" "$3" > "$T/$1.out" 2>&1 ||
		report
	grep -e '^# figures' -e '^# refused' "$T/$1.out" || cat "$T/$1.out"
	echo "# jobs run: node 1 $(node_metric 1 aish_cluster_jobs_total)," \
		"node 2 $(node_metric 2 aish_cluster_jobs_total); of them run" \
		"again: $(node_metric 1 aish_cluster_jobs_rerun_total)," \
		"$(node_metric 2 aish_cluster_jobs_rerun_total)"
}

# --- the leader of each stream killed, one after the other ----------------
for stream in AISH_JOBS AISH_REPLIES KV_AISH_WRITES; do
	leader=$(stream_leader "$stream")
	check_match "$stream has a leader" '[123]' "$leader"
	echo "# nats-server $leader leads $stream"
	load "$stream" 2 "kill -9 ${NATS_PIDS[$leader]}"
	for name in "every write accepted" "none lost" "none doubled"; do
		check "$stream's leader killed: $name" "ok - $name" \
			"$(grep -x -e "ok - $name" -e "not ok - $name" "$T/$stream.out")"
	done
	nats_kill "$leader"
	nats_start "$leader"
	nats_wait_ready
	nats_wait_streams
	ok "the nats-servers are back, with leaders for the streams"
done

# --- node 1 killed, the client moves to node 2 -------------------------------
load node 2 "kill -9 ${NODE_PIDS[1]}"
for name in "every write accepted" "none lost" "none doubled"; do
	check "node 1 killed: $name" "ok - $name" \
		"$(grep -x -e "ok - $name" -e "not ok - $name" "$T/node.out")"
done
check_match "node 1 killed: the client moved" '*moves [1-9]*' \
	"$(grep '^# figures' "$T/node.out")"
node_kill 1 KILL
node_kill 2
finish
