# tests/cluster-lib.sh: sourced by the cluster tests (tests/cluster-*.sh)
# after tests/setup.sh.
#
# Starts three real nats-servers with JetStream as one cluster on free
# loopback ports, each with its own store directory under the test's
# scratch directory, waits until JetStream has a meta leader, and starts
# aish-rhetor nodes on it; everything is stopped at the end, however the
# script ends.  A script exits 77 (skipped) when aish-rhetor was built
# without NATS or nats-server is not installed.

NATS_SERVER=${NATS_SERVER:-$(command -v nats-server 2>/dev/null || true)}
if ! grep -q '^#define HAVE_NATS 1' "$top_builddir/config.h" 2>/dev/null; then
	echo "skipped: aish-rhetor was built without NATS (./configure --with-nats)"
	exit 77
fi
if [ -z "$NATS_SERVER" ]; then
	echo "skipped: no nats-server (apt-get install nats-server)"
	exit 77
fi

NATS_PIDS=()	# by server index 1..3
NATS_PORTS=()	# client ports
NATS_HTTP=()	# monitoring ports
NATS_ROUTES=()	# cluster route ports
NODE_PIDS=()	# aish-rhetor nodes by index
NODE_URLS=()
CLUSTER_URLS=

# free_ports N: prints N distinct free loopback TCP ports, one a line.
free_ports() {
	python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
PY
}

# cluster_cleanup: stops the nodes and the nats-servers, then what
# setup.sh started.
cluster_cleanup() {
	local p
	for p in ${NODE_PIDS[@]+"${NODE_PIDS[@]}"} ${NATS_PIDS[@]+"${NATS_PIDS[@]}"}; do
		[ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true
	done
	for p in ${NODE_PIDS[@]+"${NODE_PIDS[@]}"} ${NATS_PIDS[@]+"${NATS_PIDS[@]}"}; do
		[ -n "$p" ] && wait "$p" 2>/dev/null || true
	done
	cleanup
}
trap cluster_cleanup EXIT

# nats_conf I: writes the config of nats-server I (1..3) and prints its path.
nats_conf() {
	local i=$1 j routes=
	for j in 1 2 3; do
		[ "$j" = "$i" ] && continue
		routes+="${routes:+, }nats-route://127.0.0.1:${NATS_ROUTES[$j]}"
	done
	mkdir -p "$TEST_TMP/nats$i"
	cat > "$TEST_TMP/nats$i.conf" <<CONF
server_name: n$i
listen: 127.0.0.1:${NATS_PORTS[$i]}
http: 127.0.0.1:${NATS_HTTP[$i]}
max_payload: 8MB
jetstream {
	store_dir: "$TEST_TMP/nats$i"
	max_memory_store: 64MB
	max_file_store: 1GB
}
cluster {
	name: aish-test
	listen: 127.0.0.1:${NATS_ROUTES[$i]}
	# a node knows the servers it was given, no others
	no_advertise: true
	routes: [ $routes ]
}
CONF
	echo "$TEST_TMP/nats$i.conf"
}

# nats_start I: starts nats-server I with its config (made once).
nats_start() {
	local i=$1
	[ -f "$TEST_TMP/nats$i.conf" ] || nats_conf "$i" > /dev/null
	"$NATS_SERVER" -c "$TEST_TMP/nats$i.conf" \
		>> "$TEST_TMP/nats$i.log" 2>&1 &
	NATS_PIDS[$i]=$!
}

# nats_kill I [SIGNAL]: stops nats-server I (kill -9 unless told).
nats_kill() {
	local i=$1 sig=${2:-KILL}
	[ -n "${NATS_PIDS[$i]:-}" ] || return 0
	kill -"$sig" "${NATS_PIDS[$i]}" 2>/dev/null || true
	wait "${NATS_PIDS[$i]}" 2>/dev/null || true
	NATS_PIDS[$i]=
}

# nats_jsz I: what nats-server I's monitoring says of JetStream.
nats_jsz() {
	curl -s --max-time 2 "http://127.0.0.1:${NATS_HTTP[$1]}/jsz${2:-}" 2>/dev/null || true
}

# nats_wait_ready [I...]: waits (up to 30 s, times SLOWDOWN) until each
# server given (all three when none) sees a JetStream meta leader and
# takes client connections.
nats_wait_ready() {
	local i n ready list=("$@") leader
	[ ${#list[@]} -gt 0 ] || list=(1 2 3)
	for n in $(seq 1 $(( 300 * SLOWDOWN ))); do
		ready=0
		for i in "${list[@]}"; do
			leader=$(nats_jsz "$i" | jq -r '.meta_cluster.leader // empty' 2>/dev/null || true)
			[ -n "$leader" ] || continue
			# and its client port takes connections
			(exec 3<>"/dev/tcp/127.0.0.1/${NATS_PORTS[$i]}") 2>/dev/null &&
				ready=$((ready + 1))
		done
		[ "$ready" = ${#list[@]} ] && return 0
		sleep 0.1
	done
	echo "the nats-servers did not elect a JetStream meta leader:" >&2
	tail -n 20 "$TEST_TMP"/nats*.log >&2
	return 1
}

# nats_wait_streams: waits (up to 60 s, times SLOWDOWN) until the
# streams, the bucket and the shared consumer of aish each have a leader,
# as the first running server sees them (after a restart, the meta leader
# comes first, then each of these is elected).
nats_wait_streams() {
	local i n first= got
	for i in 1 2 3; do
		[ -n "${NATS_PIDS[$i]:-}" ] && { first=$i; break; }
	done
	for n in $(seq 1 $(( 600 * SLOWDOWN ))); do
		got=$(nats_jsz "$first" '?consumers=true' | jq -r '
			[.account_details[]?.stream_detail[]? |
			 select(.name == "AISH_JOBS" or .name == "AISH_REPLIES" or .name == "KV_AISH_WRITES") |
			 select((.cluster.leader // "") != "") |
			 .name, (.consumer_detail[]? | select((.cluster.leader // "") != "") | .name)] |
			length' 2>/dev/null || echo 0)
		[ "$got" = 4 ] && return 0
		sleep 0.1
	done
	echo "the streams of aish have no leaders:" >&2
	nats_jsz "$first" '?consumers=true' >&2
	return 1
}

# nats_stream_msgs NAME: how many messages stream NAME holds, as the
# servers' monitoring says (the first that answers).
nats_stream_msgs() {
	local i n
	for i in 1 2 3; do
		[ -n "${NATS_PIDS[$i]:-}" ] || continue
		n=$(nats_jsz "$i" '?streams=true' | jq -r --arg s "$1" \
			'[.account_details[]?.stream_detail[]? | select(.name == $s) | .state.messages][0] // empty' 2>/dev/null || true)
		[ -n "$n" ] && { echo "$n"; return 0; }
	done
	echo "?"
}

# cluster_start: starts the three nats-servers and waits for them.
cluster_start() {
	local ports i
	mapfile -t ports < <(free_ports 9)
	for i in 1 2 3; do
		NATS_PORTS[$i]=${ports[$(( i - 1 ))]}
		NATS_HTTP[$i]=${ports[$(( i + 2 ))]}
		NATS_ROUTES[$i]=${ports[$(( i + 5 ))]}
	done
	CLUSTER_URLS="nats://127.0.0.1:${NATS_PORTS[1]},nats://127.0.0.1:${NATS_PORTS[2]},nats://127.0.0.1:${NATS_PORTS[3]}"
	for i in 1 2 3; do nats_start "$i"; done
	nats_wait_ready
}

# node_start I [ARGS...]: starts aish-rhetor node I ("node$I") on the
# cluster (on the URLs in NODE_NATS_URLS when set, else all three), with
# its own state directory and port, and waits for its first line; its URL
# is in NODE_URLS[I].
node_start() {
	local i=$1 n line dir="$TEST_TMP/node$1"
	shift
	mkdir -p "$dir"
	: > "$dir/out"
	${RHETOR_WRAPPER[@]+"${RHETOR_WRAPPER[@]}"} \
		"$RHETOR" --port 0 --state-dir "$dir" \
		--cluster "${NODE_NATS_URLS:-$CLUSTER_URLS}" \
		--node "node$i" "$@" > "$dir/out" 2>> "$dir/err" &
	NODE_PIDS[$i]=$!
	for n in $(seq 1 $(( 200 * SLOWDOWN ))); do
		line=$(head -n 1 "$dir/out" 2>/dev/null || true)
		case "$line" in
		"listening on http://"*)
			NODE_URLS[$i]=${line#listening on }
			return 0 ;;
		esac
		if ! kill -0 "${NODE_PIDS[$i]}" 2>/dev/null; then
			echo "node $i exited at start:" >&2
			cat "$dir/err" >&2
			NODE_PIDS[$i]=
			return 1
		fi
		sleep 0.05
	done
	echo "node $i did not say where it listens" >&2
	cat "$dir/err" >&2
	return 1
}

# node_kill I [SIGNAL]: stops node I (SIGTERM unless told) and waits.
node_kill() {
	local i=$1 sig=${2:-TERM}
	[ -n "${NODE_PIDS[$i]:-}" ] || return 0
	kill -"$sig" "${NODE_PIDS[$i]}" 2>/dev/null || true
	wait "${NODE_PIDS[$i]}" 2>/dev/null || true
	NODE_PIDS[$i]=
}

# use_node I: points setup.sh's http, ws_run and metric at node I.
use_node() {
	URL=${NODE_URLS[$1]}
	WSURL=ws://${URL#http://}
}

# node_metric I NAME: one value of node I's /metrics.
node_metric() {
	curl -s --max-time 5 "${NODE_URLS[$1]}/metrics" |
		awk -v n="$2" '$1 == n { print $2; exit }'
}

# wait_clients I N: waits (up to 5 s, times SLOWDOWN) until node I has N
# WebSocket clients.
wait_clients() {
	local n
	for n in $(seq 1 $(( 100 * SLOWDOWN ))); do
		[ "$(node_metric "$1" aish_websocket_clients)" = "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

# wait_reconnected I: waits (up to 30 s, times SLOWDOWN) until node I's
# NATS connection came back at least once.
wait_reconnected() {
	local n
	for n in $(seq 1 $(( 300 * SLOWDOWN ))); do
		[ "$(node_metric "$1" aish_cluster_reconnects_total)" -ge 1 ] 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# wait_socket I ID [gone]: waits (up to 5 s, times SLOWDOWN) until node I
# lists socket ID (or, with "gone", no longer lists it).
wait_socket() {
	local n got want=${3:-there}
	for n in $(seq 1 $(( 100 * SLOWDOWN ))); do
		got=$(curl -s --max-time 5 "${NODE_URLS[$1]}/api/ai/sockets" |
			jq -r --arg id "$2" '[.sockets[] | select(.socket_id == $id)] |
			if length > 0 then "there" else "gone" end' 2>/dev/null || true)
		[ "$got" = "$want" ] && return 0
		sleep 0.05
	done
	return 1
}
