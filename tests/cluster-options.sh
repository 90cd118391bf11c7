#!/bin/bash
# cluster-options.sh: --cluster and --node are checked before anything
# starts, each bad value with a clear error (SPEC section 11); built
# without NATS, --cluster says so.  Needs no nats-server.

. "$(dirname "$0")/setup.sh"

# refused ARGS...: runs aish-rhetor with ARGS; prints its exit status and
# its first line on stderr.
refused() {
	local rc=0
	"$RHETOR" --port 0 --state-dir "$TEST_TMP/state" "$@" \
		> "$TEST_TMP/out" 2> "$TEST_TMP/err" < /dev/null || rc=$?
	echo "$rc $(head -n 1 "$TEST_TMP/err")"
}

if ! grep -q '^#define HAVE_NATS 1' "$top_builddir/config.h"; then
	check_match "built without NATS: --cluster is refused" \
		"2 aish-rhetor: --cluster: this aish-rhetor was built without NATS*--with-nats" \
		"$(refused --cluster nats://127.0.0.1:4222 --node a)"
	finish
	exit
fi

check_match "--node without --cluster" "2 *--node needs --cluster" \
	"$(refused --node a)"
check_match "--cluster without --node" "2 *--cluster needs --node NAME*" \
	"$(refused --cluster nats://127.0.0.1:4222)"
check_match "a URL without a scheme" "2 *bad --cluster URL '127.0.0.1:4222': expected nats://HOST:PORT" \
	"$(refused --cluster 127.0.0.1:4222 --node a)"
check_match "a URL without a port" "2 *bad --cluster URL 'nats://h': *port*" \
	"$(refused --cluster nats://h --node a)"
check_match "a bad port" "2 *bad --cluster URL 'nats://h:99999'*" \
	"$(refused --cluster nats://h:4222,nats://h:99999 --node a)"
check_match "an empty element" "2 *bad --cluster URL ''*" \
	"$(refused --cluster nats://h:4222, --node a)"
check_match "a URL with a path" "2 *bad --cluster URL 'nats://h:4222/x'*" \
	"$(refused --cluster nats://h:4222/x --node a)"
check_match "a bad node name" "2 *bad --node 'a.b'*" \
	"$(refused --cluster nats://h:4222 --node a.b)"
check_match "a node name too long" "2 *bad --node*" \
	"$(refused --cluster nats://h:4222 --node "$(printf 'n%.0s' $(seq 65))")"

# Nothing listens on a port just freed: the node says it cannot reach
# NATS and exits 1, without saying it listens.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
out=$(refused --cluster "nats://127.0.0.1:$port" --node a)
check_match "an unreachable cluster" "1 *" "$out"
check_match "an unreachable cluster: why" "*cannot reach NATS at nats://127.0.0.1:$port*" \
	"$(cat "$TEST_TMP/err")"
check "an unreachable cluster: never listening" "" "$(cat "$TEST_TMP/out")"
finish
