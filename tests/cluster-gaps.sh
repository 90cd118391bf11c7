#!/bin/bash
# cluster-gaps.sh: the live path of the cluster is at most once (SPEC
# section 11): replies stored while a node's NATS connection is down are
# heard by nobody there.  The node fetches them from the stream once it is
# back, so that its reader still gets each reply once, with the seq the
# other node's reader saw.  Node 1 reaches nats-server 3 through a relay
# the test cuts (tests/tools/tcp_cut.py): every nats-server stays up, so
# no stream changes leader.

. "$(dirname "$0")/setup.sh"
. "$(dirname "$0")/cluster-lib.sh"

T=$TEST_TMP
N=10
cluster_start
python3 "$top_srcdir/tests/tools/tcp_cut.py" "${NATS_PORTS[3]}" \
	"$T/cut.port" 2> "$T/cut.err" &
cut_pid=$!
wait_file "$T/cut.port"
# Node 2 makes the streams with three copies; node 1 knows the relay to
# nats-server 3 alone.
node_start 2
NODE_NATS_URLS=nats://127.0.0.1:$(cat "$T/cut.port") node_start 1

use_node 1
ws_run "$T/reader" apollo -t 60000 <<EOS &
wait $N
EOS
reader=$!
wait_clients 1 1 || fail "the reader on node 1 is connected"

kill -USR1 "$cut_pid"
# until node 1 knows its connection is gone
for n in $(seq 1 $(( 100 * SLOWDOWN ))); do
	[ "$(node_metric 1 aish_cluster_disconnects_total)" -ge 1 ] 2>/dev/null && break
	sleep 0.05
done
check "node 1 lost its NATS connection" 1 \
	"$(node_metric 1 aish_cluster_disconnects_total)"

use_node 2
for i in $(seq 1 $N); do
	echo "{\"type\":\"write\",\"content\":\"gap $i\",\"id\":\"g-$i\"}"
done > "$T/writes"
echo "wait $N" >> "$T/writes"
ws_run "$T/writer" apollo -t 30000 < "$T/writes"
check "writer on node 2: $N answers" "$N" \
	"$(fq "$T/writer" '[.[] | select(.type == "read")] | length')"

kill -USR2 "$cut_pid"
wait_reconnected 1 || fail "node 1 reconnects"
wait "$reader" || true
check "reader on node 1: every reply of the gap" "$N" \
	"$(fq "$T/reader" '[.[] | select(.type == "read") | .in_reply_to] | unique | length')"
check "reader on node 1: each once" "$N" \
	"$(fq "$T/reader" '[.[] | select(.type == "read")] | length')"
check "reader on node 1: the seqs node 2 gave" \
	"$(fq "$T/writer" '[.[] | select(.type == "read") | .seq] | sort | join(" ")')" \
	"$(fq "$T/reader" '[.[] | select(.type == "read") | .seq] | sort | join(" ")')"
check_match "node 1 counts the replies it fetched" '[1-9]*' \
	"$(node_metric 1 aish_cluster_replies_filled_total)"

# After the gap the live path goes on, and nothing is sent twice.
use_node 1
ws_run "$T/after" apollo -t 30000 <<'EOS'
{"type":"write","content":"after","id":"g-after"}
wait 1
EOS
check "after the gap: a write through node 1 answered once" "apollo: after" \
	"$(fq "$T/after" '[.[] | select(.type == "read") | .content] | join("|")')"
node_kill 1
node_kill 2
kill "$cut_pid" 2>/dev/null || true
wait "$cut_pid" 2>/dev/null || true
finish
