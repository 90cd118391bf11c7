#!/bin/bash
# cluster-team.sh: a team chat of 115 AIs across nodes (SPEC section 11).
# The 115 echo sockets and their group are made on node 1; the team chat
# is written through node 2.  Every member answers exactly once, each
# answer with its own seq, to the writer on node 2 and to a reader on
# node 1; both nodes run some of the jobs.

. "$(dirname "$0")/setup.sh"
. "$(dirname "$0")/cluster-lib.sh"

T=$TEST_TMP
N=115
cluster_start
node_start 1
node_start 2
nats_wait_streams

use_node 1
members=
for i in $(seq 1 $N); do
	http POST /api/ai/socket/create \
		"{\"ai_name\":\"member\",\"socket_id\":\"m-$i\",\"context\":{\"echo\":{\"delay_ms\":100}}}"
	[ "$STATUS" = 201 ] || fail "create m-$i on node 1" "status $STATUS: $BODY"
	members+="${members:+,}\"m-$i\""
done
http PUT /api/ai/groups/big "{\"members\":[$members]}"
check "group big of $N on node 1" 200 "$STATUS"
wait_socket 2 team-chat-big || fail "node 2 lists team-chat-big"
wait_socket 2 "m-$N" || fail "node 2 lists m-$N"

ws_run "$T/reader" team-chat-big -t 60000 <<EOS &
wait $N
EOS
reader=$!
wait_clients 1 1 || fail "the reader on node 1 is connected"

use_node 2
ws_run "$T/writer" team-chat-big -t 60000 <<EOS
{"type":"write","content":"all hands","id":"big-1"}
wait $N
EOS
check "writer on node 2: exit" 0 "$WS_RC"
check "the ack names $N members" "$N" \
	"$(fq "$T/writer" '[.[] | select(.type == "ack") | .members[]?] | length')"
check "writer on node 2: every member answers" "$N" \
	"$(fq "$T/writer" '[.[] | select(.type == "read") | .socket_id] | unique | length')"
check "writer on node 2: each once" "$N" \
	"$(fq "$T/writer" '[.[] | select(.type == "read")] | length')"
check "writer on node 2: each its own seq" "$N" \
	"$(fq "$T/writer" '[.[] | select(.type == "read") | .seq] | unique | length')"
check "writer on node 2: the echoes" "member: all hands" \
	"$(fq "$T/writer" '[.[] | select(.type == "read") | .content] | unique | join("|")')"
wait "$reader" || true
check "reader on node 1: the same $N answers" \
	"$(fq "$T/writer" '[.[] | select(.type == "read") | "\(.socket_id) \(.seq)"] | sort | join(",")')" \
	"$(fq "$T/reader" '[.[] | select(.type == "read") | "\(.socket_id) \(.seq)"] | sort | join(",")')"
ran1=$(node_metric 1 aish_cluster_jobs_total)
ran2=$(node_metric 2 aish_cluster_jobs_total)
echo "# node 1 ran $ran1 jobs, node 2 ran $ran2"
check "the nodes ran $N jobs between them" "$N" $(( ${ran1:-0} + ${ran2:-0} ))
node_kill 1
node_kill 2
finish
