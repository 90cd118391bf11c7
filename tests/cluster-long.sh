#!/bin/bash
# cluster-long.sh: a reply that takes longer than the consumer's AckWait
# is run once (SPEC sections 2 and 11): the node running it tells the
# engine that the job is in progress, so that it is not handed to a second
# node.  AckWait is 2 s here, the reply takes 5 s.

. "$(dirname "$0")/setup.sh"
. "$(dirname "$0")/cluster-lib.sh"

T=$TEST_TMP
export AISH_CLUSTER_ACK_WAIT_MS=2000
cluster_start
node_start 1
node_start 2
nats_wait_streams

use_node 1
http POST /api/ai/socket/create \
	'{"ai_name":"ponder","socket_id":"ponder","context":{"echo":{"delay_ms":5000}}}'
check "create ponder on node 1" 201 "$STATUS"
wait_socket 2 ponder || fail "node 2 lists ponder"

ws_run "$T/long" ponder -t 30000 <<'EOS'
{"type":"write","content":"take your time","id":"long-1"}
wait 1
EOS
check "the long reply comes" "ponder: take your time" \
	"$(fq "$T/long" '.[] | select(.type == "read") | .content')"
ran1=$(node_metric 1 aish_cluster_jobs_total)
ran2=$(node_metric 2 aish_cluster_jobs_total)
echo "# node 1 ran $ran1 jobs, node 2 ran $ran2"
check "run once, by one node" 1 $(( ${ran1:-0} + ${ran2:-0} ))
check "one reply stored" 1 "$(nats_stream_msgs AISH_REPLIES)"
node_kill 1
node_kill 2
finish
