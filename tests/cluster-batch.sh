#!/bin/bash
# cluster-batch.sh: writes that wait behind each other on a node are
# stored together (their ids, then their jobs, in one batch), with the
# guarantees of one at a time (SPEC sections 2 and 11): each accepted
# write is answered once; an id sent again, in a later burst or twice in
# the same one, is a duplicate.

. "$(dirname "$0")/setup.sh"
. "$(dirname "$0")/cluster-lib.sh"

T=$TEST_TMP
cluster_start
node_start 1
nats_wait_streams
use_node 1
N=60

# burst FILE FIRST LAST [EXTRA]: the script of writes FIRST..LAST sent at
# once, then EXTRA lines, then a wait for every ack.
burst() {
	local i acks=$(( $3 - $2 + 1 ))
	for i in $(seq "$2" "$3"); do
		echo "{\"type\":\"write\",\"content\":\"burst $i\",\"id\":\"b-$i\"}"
	done
	[ -n "${4:-}" ] && { echo "$4"; acks=$(( acks + $(echo "$4" | wc -l) )); }
	echo "waitack $acks"
}

burst "$T/a" 1 "$N" > "$T/a.script"
echo "wait $N" >> "$T/a.script"
ws_run "$T/a" apollo -t $(( 30000 * SLOWDOWN )) < "$T/a.script"
check "the first burst: every write acked" "$N" \
	"$(fq "$T/a" "[.[] | select(.type == \"ack\")] | length")"
check "none of them a duplicate" 0 \
	"$(fq "$T/a" "[.[] | select(.type == \"ack\" and .duplicate == true)] | length")"
check "each answered once" "$N" \
	"$(fq "$T/a" "[.[] | select(.type == \"read\") | .in_reply_to] | unique | length")"
check "answers and writes match" "$N" \
	"$(fq "$T/a" "[.[] | select(.type == \"read\")] | length")"
batched=$(node_metric 1 aish_cluster_writes_batched_total)
echo "# writes stored in batches: $batched of $N"
check_match "writes waited behind each other and went in batches" "[1-9]*" "$batched"

new="{\"type\":\"write\",\"content\":\"burst new\",\"id\":\"b-new\"}"
burst "$T/b" 1 "$N" "$new
$new" > "$T/b.script"
ws_run "$T/b" apollo -t $(( 30000 * SLOWDOWN )) < "$T/b.script"
check "the same ids again, and one new twice: all acked" $(( N + 2 )) \
	"$(fq "$T/b" "[.[] | select(.type == \"ack\")] | length")"
check "the ids sent before are duplicates" "$N" \
	"$(fq "$T/b" "[.[] | select(.type == \"ack\" and .duplicate == true and .id != \"b-new\")] | length")"
check "the new id twice: one new, one duplicate" "false true" \
	"$(fq "$T/b" "[.[] | select(.type == \"ack\" and .id == \"b-new\") | (.duplicate // false)] | sort | map(tostring) | join(\" \")")"
for n in $(seq 1 $(( 100 * SLOWDOWN ))); do
	[ "$(nats_stream_msgs AISH_REPLIES)" = $(( N + 1 )) ] && break
	sleep 0.1
done
check "one stored answer for each id" $(( N + 1 )) "$(nats_stream_msgs AISH_REPLIES)"
check "no job left" 0 "$(nats_stream_msgs AISH_JOBS)"
node_kill 1
finish
