#!/bin/bash
# cluster-crash.sh: crash semantics of SPEC sections 2 and 11 across
# nodes.  Node 1 accepts 20 writes to a slow AI and is killed (kill -9)
# while it runs some of them; node 2 runs them after the AckWait, and a
# reader on node 2 gets exactly one final frame for each write, each with
# its own seq; the engine holds exactly one reply per write.

. "$(dirname "$0")/setup.sh"
. "$(dirname "$0")/cluster-lib.sh"

T=$TEST_TMP
N=20
# Jobs not acked for 3 s go to another node (30 s by default).
export AISH_CLUSTER_ACK_WAIT_MS=3000
cluster_start
node_start 1
node_start 2
# A slow socket made on node 1, which node 2 knows too.
use_node 1
http POST /api/ai/socket/create \
	'{"ai_name":"slow","socket_id":"slow","context":{"echo":{"delay_ms":1500}}}'
check "create slow on node 1" 201 "$STATUS"
wait_socket 2 slow || fail "node 2 knows slow"

use_node 2
ws_run "$T/reader" slow -t 60000 <<EOS &
wait $N
sleep 1500
EOS
reader=$!
wait_clients 2 1 || fail "the reader on node 2 is connected"

# 20 writes through node 1, acked, then node 1 dies with jobs in hand.
use_node 1
for i in $(seq 1 $N); do
	echo "{\"type\":\"write\",\"content\":\"job $i\",\"id\":\"k-$i\"}"
done > "$T/writes"
echo "waitack $N" >> "$T/writes"
ws_run "$T/writer" slow < "$T/writes"
check "writer: $N acks" "$N" "$(fq "$T/writer" '[.[] | select(.type == "ack")] | length')"
held=0
for n in $(seq 1 40); do
	held=$(node_metric 1 aish_cluster_jobs_running)
	[ "${held:-0}" -gt 0 ] && break
	sleep 0.05
done
node_kill 1 KILL
check_match "node 1 was running jobs when killed" '[1-9]*' "$held"
echo "# node 1 held $held jobs at its kill -9"

wait "$reader" || fail "reader on node 2: exit" "$(cat "$T/reader.err")"
check "reader: one final frame per write" "$N" \
	"$(fq "$T/reader" '[.[] | select(.type == "read")] | length')"
check "reader: no write answered twice" "$N" \
	"$(fq "$T/reader" '[.[] | select(.type == "read") | .in_reply_to] | unique | length')"
check "reader: every write answered" "$N" \
	"$(fq "$T/reader" '[.[] | select(.type == "read") | .in_reply_to | select(startswith("k-"))] | unique | length')"
check "reader: no seq twice" "$N" \
	"$(fq "$T/reader" '[.[] | select(.type == "read") | .seq] | unique | length')"
check "the engine holds one reply per write" "$N" "$(nats_stream_msgs AISH_REPLIES)"
for n in $(seq 1 50); do
	[ "$(nats_stream_msgs AISH_JOBS)" = 0 ] && break
	sleep 0.1
done
check "no job left" 0 "$(nats_stream_msgs AISH_JOBS)"
ran=$(node_metric 2 aish_cluster_jobs_total)
echo "# node 2 ran $ran jobs"
# node 1 was killed 1.5 s before it could end any job it held: node 2
# ran those too
if [ "${ran:-0}" -ge "${held:-1}" ]; then ok "node 2 ran the jobs node 1 held"
else fail "node 2 ran the jobs node 1 held" "node 2 ran $ran, node 1 held $held"; fi

# Node 1 comes back: nothing is run or stored again.
node_start 1
use_node 1
ws_run "$T/again" slow <<'EOS'
{"type":"write","content":"job 1","id":"k-1"}
waitack 1
EOS
check "node 1 back: k-1 is a duplicate" true \
	"$(fq "$T/again" '.[] | select(.type == "ack") | .duplicate')"
check "still one reply per write" "$N" "$(nats_stream_msgs AISH_REPLIES)"
node_kill 1
node_kill 2
finish
