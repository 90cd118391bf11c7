#!/bin/bash
# libaish-restart.sh: libaish against a server killed with -9 and restarted
# in the middle of delayed writes and of a team chat: every write gets
# exactly one reply, none is lost or repeated.

. "$(dirname "$0")/setup.sh"

LIBTEST=${LIBTEST:-$top_builddir/tests/tools/aish-libtest}

# acks_at_least N: CMD has printed N acks (its writes are accepted).
acks_at_least() {
	[ "$(grep -c '^ack ' "$TEST_TMP/out" 2>/dev/null)" -ge "$1" ]
}

# restart_during ACKS CMD...: runs CMD in the background, kills the server
# with -9 once CMD has printed ACKS acks (its writes are stored, their
# replies still to come), starts it again on the same port with the same
# state, and waits for CMD.
restart_during() {
	local acks=$1
	shift
	"$@" > "$TEST_TMP/out" 2> "$TEST_TMP/err" &
	cmd_pid=$!
	wait_for "$acks acks" acks_at_least "$acks" || true
	port=${URL##*:}
	kill9_server
	start_server "$STATE_DIR" --port "$port"
	rc=0
	wait "$cmd_pid" || rc=$?
	return $rc
}

start_server
sock=$("$LIBTEST" -u "$URL" create prometheus \
	'{"echo":{"delay_ms":1500,"chunks":3}}')
check "create a slow socket" prometheus-1 "$sock"

if restart_during 4 "$LIBTEST" -u "$URL" -t 20000 write "$sock" a b c d; then
	for t in a b c d; do
		check "the reply to $t comes once" 1 \
		    "$(grep -c "^read .* prometheus: $t\$" "$TEST_TMP/out")"
	done
	check "four replies in all" 4 "$(grep -c '^read ' "$TEST_TMP/out")"
else
	fail "writes across a restart" "$(cat "$TEST_TMP/out" "$TEST_TMP/err")"
fi

# The same for a team chat: one reply per member of the ack.
if restart_during 1 "$LIBTEST" -u "$URL" -t 20000 team-chat "all hands"; then
	members=$(grep -c '^read ' "$TEST_TMP/out" || true)
	check "no member answers twice" "" \
	    "$(grep '^read ' "$TEST_TMP/out" | awk '{print $3}' | sort | uniq -d)"
	check_match "every member answers ($members)" '[1-9][0-9]' \
	    "$members"
else
	fail "team chat across a restart" "$(cat "$TEST_TMP/out" "$TEST_TMP/err")"
fi

finish
