#!/bin/bash
# bridge-spawn.sh: with the default URL and nothing listening, aish-bridge
# starts aish-rhetor itself (with the default state directory, here a
# private XDG_STATE_HOME) and waits for /health; --no-spawn does not.
# Skipped (77) when the default port is taken.
. "$(dirname "$0")/setup.sh"

if (exec 3<>/dev/tcp/127.0.0.1/8300) 2>/dev/null; then
	echo "port 8300 is in use: skipped"
	exit 77
fi
export XDG_STATE_HOME=$TEST_TMP/xdg
unset AISH_RHETOR_URL
PATH=$(dirname "$RHETOR"):$PATH
init='{"jsonrpc":"2.0","id":1,"method":"initialize"}'
pidfile=$XDG_STATE_HOME/aish/aish-rhetor.pid

out=$(printf '%s\n' "$init" | timeout 10 "$BRIDGE" --no-spawn)
check "--no-spawn: nothing started" "false" "$(jget "$out" .result.rhetor.connected)"
check "--no-spawn: no pid file" "no" "$([ -e "$pidfile" ] && echo yes || echo no)"

out=$(printf '%s\n' "$init" '{"jsonrpc":"2.0","id":2,"method":"aish/send","params":{"ai":"athena","content":"spawned"}}' |
	timeout 10 "$BRIDGE" 2>"$TEST_TMP/bridge.err")
spawned=$(cat "$pidfile" 2>/dev/null || true)
[ -n "$spawned" ] && SERVER_PID=$spawned	# cleanup stops it
check "spawn: connected" "true" "$(printf '%s\n' "$out" | jq -r 'select(.id==1) | .result.rhetor.connected')"
check "spawn: the started server answers" "athena: spawned" \
	"$(printf '%s\n' "$out" | jq -r 'select(.id==2) | .result.content')"
check_match "spawn: a detached aish-rhetor runs" "[0-9]*" "$spawned"
check "spawn: its state in the default directory" "yes" \
	"$([ -d "$XDG_STATE_HOME/aish" ] && echo yes || echo no)"
finish
