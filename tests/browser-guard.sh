#!/bin/bash
# browser-guard.sh: what a web page can make a browser send is refused on
# every route and every WebSocket upgrade, and changes nothing (SPEC
# section 1): a foreign or "null" Origin, Sec-Fetch-Site cross-site or
# same-site, a Host that is not the server's own (DNS rebinding), a body
# that is not application/json.  The server's own clients still pass.
#
# "Nothing changed" is measured, not assumed: the AI behind the sockets is
# an exec provider that appends every text it runs on to a file; the
# sockets, groups and queues are compared before and after.

. "$(dirname "$0")/setup.sh"

RAN=$TEST_TMP/ran.txt
: > "$RAN"
cat > "$TEST_TMP/conf.json" <<EOF
{
  "providers": {"log": {"type": "exec", "command": ["sh", "-c", "cat >> '$RAN'; echo >> '$RAN'; echo ran"]}},
  "default_provider": "log",
  "ais": {"runner": {"provider": "log"}, "other": {"provider": "log"}}
}
EOF
start_server "" --config "$TEST_TMP/conf.json"
port=$(server_port)

# A reply waiting in runner's queue, which a foreign /read must not drain.
http POST /api/ai/socket/runner/write '{"content":"queued before","id":"q0"}'
check "setup: a write" 202 "$STATUS"
check "setup: its reply waits in the queue" 1 "$(wait_queue runner 1)"
http PUT /api/ai/groups/pair '{"members":["runner","other"]}'
check "setup: a group" 200 "$STATUS"
: > "$RAN.before"
cp "$RAN" "$RAN.before"

# state: what a refused request must leave as it was.
state() {
	local sockets groups
	sockets=$(curl -s --max-time 5 "$URL/api/ai/sockets" |
		jq -c '[.sockets[] | {socket_id, state, queue_size, groups}]')
	groups=$(curl -s --max-time 5 "$URL/api/ai/groups" | jq -c .)
	printf '%s %s %s' "$sockets" "$groups" "$(md5sum < "$RAN")"
}
before=$(state)

# Every route, with the body it takes.
ROUTES=(
	'GET /health'
	'GET /metrics'
	'GET /api/ai/sockets'
	'GET /api/ai/socket/runner'
	'GET /api/ai/socket/runner/read'
	'POST /api/ai/socket/create {"ai_name":"evil","provider":"log"}'
	'POST /api/ai/socket/runner/write {"content":"from a page","id":"evil1"}'
	'POST /api/ai/socket/runner/reset {}'
	'DELETE /api/ai/socket/runner'
	'POST /api/team-chat {"message":"from a page","timeout_ms":500}'
	'GET /api/ai/groups'
	'GET /api/ai/groups/pair'
	'PUT /api/ai/groups/pair {"members":["other"]}'
	'DELETE /api/ai/groups/pair'
	'POST /api/ai/socket/team-chat-all/write {"content":"from a page"}'
	'GET /nope'
)

# send ROUTE [CURL ARGS...]: sends ROUTE with the extra headers; sets
# STATUS and BODY.
send() {
	local method=${1%% *} rest=${1#* } path body=
	shift
	path=${rest%% *}
	[ "$path" != "$rest" ] && body=${rest#* }
	rm -f "$TEST_TMP/body"
	local args=(-s -o "$TEST_TMP/body" -w '%{http_code}' --max-time 5 -X "$method")
	[ -n "$body" ] && args+=(--data-binary "$body")
	STATUS=$(curl "${args[@]}" "$@" "http://127.0.0.1:$port$path") || STATUS=000
	BODY=$(cat "$TEST_TMP/body" 2>/dev/null || true)
}

# The refusals are sent in batches, one curl for a route's variants (curl
# --next) and one jq for their answers, instead of two processes a check.
# expect NAME STATUS CODE ROUTE [CURL ARGS...]: adds one request to the
# batch; check_batch sends them and checks each answer as check_error does.
B_NAMES=() B_STATUS=() B_CODE=() B_ARGS=()
expect() {
	local name=$1 status=$2 code=$3 route=$4 k=${#B_NAMES[@]}
	local method=${route%% *} rest=${route#* } path body=
	shift 4
	path=${rest%% *}
	[ "$path" != "$rest" ] && body=${rest#* }
	B_NAMES+=("$name") B_STATUS+=("$status") B_CODE+=("$code")
	[ "$k" -gt 0 ] && B_ARGS+=(--next)
	B_ARGS+=(-s -o "$TEST_TMP/b.$k" -w '%{http_code}\n' --max-time 5 -X "$method")
	[ -n "$body" ] && B_ARGS+=(--data-binary "$body")
	B_ARGS+=("$@" "http://127.0.0.1:$port$path")
}
check_batch() {
	local k statuses=() bodies=() fields=()
	for k in "${!B_NAMES[@]}"; do : > "$TEST_TMP/b.$k"; done
	mapfile -t statuses < <(curl "${B_ARGS[@]}" || true)
	for k in "${!B_NAMES[@]}"; do bodies+=("$(cat "$TEST_TMP/b.$k")"); done
	mapfile -t fields < <(jq -n -r "\$ARGS.positional | $ERROR_FIELDS" \
		--args "${bodies[@]}" 2>/dev/null || true)
	for k in "${!B_NAMES[@]}"; do
		STATUS=${statuses[k]:-000} BODY=${bodies[k]}
		judge_error "${B_NAMES[k]}" "${B_STATUS[k]}" "${B_CODE[k]}" \
			"${fields[k]%%$'\t'*}" "${fields[k]#*$'\t'}"
	done
	B_NAMES=() B_STATUS=() B_CODE=() B_ARGS=()
}

JSON=(-H 'Content-Type: application/json')
for route in "${ROUTES[@]}"; do
	name=${route%% \{*}
	for origin in http://evil.example https://evil.example null \
		http://localhost.evil.example http://127.0.0.1.evil.example \
		'http://evil.example:80@127.0.0.1' file://; do
		expect "$name, Origin $origin: 403" 403 forbidden "$route" "${JSON[@]}" -H "Origin: $origin"
	done
	for site in cross-site same-site Cross-Site; do
		expect "$name, Sec-Fetch-Site $site: 403" 403 forbidden "$route" "${JSON[@]}" -H "Sec-Fetch-Site: $site"
	done
	for host in "evil.example:$port" "rebind.127.0.0.1.nip.io:$port" "localhost:1" \
		"127.0.0.1" "127.0.0.2:$port" "localhost.:$port" "[::2]:$port" "0.0.0.0:$port"; do
		expect "$name, Host $host: 403" 403 forbidden "$route" "${JSON[@]}" -H "Host: $host"
	done
	expect "$name, no Host: 400" 400 bad_request "$route" "${JSON[@]}" -H "Host:"
	case "$route" in *'{'*)
		for type in text/plain 'text/plain; charset=utf-8' application/x-www-form-urlencoded \
			'multipart/form-data; boundary=x' application/jsonx 'text/plain; a=application/json' \
			application/json-seq; do
			expect "$name, Content-Type $type: 415" 415 unsupported_media "$route" -H "Content-Type: $type"
		done
		expect "$name, no Content-Type: 415" 415 unsupported_media "$route" -H "Content-Type:"
		;;
	esac
	check_batch
done
for origin in http://evil.example null; do
	check "upgrade, Origin $origin: 403" 403 "$(ws_upgrade /ws/socket/runner "Origin: $origin")"
done
check "upgrade, Sec-Fetch-Site cross-site: 403" 403 \
	"$(ws_upgrade /ws/socket/runner 'Sec-Fetch-Site: cross-site')"
for host in "evil.example:$port" "localhost:1" 127.0.0.1; do
	check "upgrade, Host $host: 403" 403 "$(WS_HOST=$host ws_upgrade /ws/socket/runner)"
done
sleep 0.3
check "nothing changed: sockets, groups, queues, nothing run" "$before" "$(state)"
check "nothing ran on the exec provider" "$(cat "$RAN.before")" "$(cat "$RAN")"
check "the queued reply is still there" 1 "$(queue_size runner)"

# What the server's own clients and a loopback page send passes.
ok_req() {
	local name=$1 want=$2
	shift 2
	send "GET /api/ai/socket/other" "$@"
	check "$name: $want" "$want" "$STATUS"
}
ok_req "Origin http://localhost:1234" 200 -H 'Origin: http://localhost:1234'
ok_req "Origin http://127.0.0.1:$port" 200 -H "Origin: http://127.0.0.1:$port"
ok_req "Origin http://[::1]:8080" 200 -H 'Origin: http://[::1]:8080'
ok_req "Sec-Fetch-Site same-origin" 200 -H 'Sec-Fetch-Site: same-origin'
ok_req "Sec-Fetch-Site none" 200 -H 'Sec-Fetch-Site: none'
ok_req "Host localhost:$port" 200 -H "Host: localhost:$port"
ok_req "Host LOCALHOST:$port" 200 -H "Host: LOCALHOST:$port"
ok_req "Host [::1]:$port" 200 -H "Host: [::1]:$port"
for type in 'application/json; charset=utf-8' 'Application/JSON' 'application/json ; charset=UTF-8'; do
	send 'POST /api/ai/socket/other/write {"content":"typed","id":"t-'"${type// /}"'"}' -H "Content-Type: $type"
	check "Content-Type $type: 202" 202 "$STATUS"
done
http GET /health
check "curl as the clients use it: /health" 200 "$STATUS"
check "upgrade from the server's own clients: 101" 101 "$(ws_upgrade /ws/socket/runner)"
check "upgrade with Host localhost: 101" 101 "$(WS_HOST=localhost:$port ws_upgrade /ws/socket/runner)"
aish_run "$TEST_TMP/aish.out" -c 'echo "via aish" | other'
check "aish still works" "0 ran" "$RC $(tail -n 1 "$TEST_TMP/aish.out" | sed 's/^\[From [^]]*\] //')"
stop_server

# --host localhost listens where it says, and its name passes the guard.
if start_server "" --host localhost; then
	port=$(server_port)
	check_match "--host localhost: says a numeric loopback address" "http://127.0.0.1:*" "$URL"
	check "--host localhost: listening there" "127.0.0.1:$port " \
		"$(ss -Hltn "sport = :$port" | awk '{ print $4 }' | sort | tr '\n' ' ')"
	STATUS=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://localhost:$port/health") || STATUS=000
	check "--host localhost: http://localhost:$port/health" 200 "$STATUS"
	stop_server
else
	fail "starts with --host localhost"
fi
finish
