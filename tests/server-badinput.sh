#!/bin/bash
# server-badinput.sh: aish-rhetor answers every malformed, oversized or
# misnamed request with a clear error (SPEC section 1) and keeps serving.

. "$(dirname "$0")/setup.sh"

start_server

# big_json FILE PREFIX SIZE SUFFIX: writes PREFIX, SIZE bytes of "a", SUFFIX.
big_json() {
	{ printf '%s' "$2"; head -c "$3" /dev/zero | tr '\0' a; printf '%s' "$4"; } > "$1"
}

http POST /api/ai/socket/create '{"ai_name":"target"}'
check "create target" 201 "$STATUS"
target=$(jget "$BODY" .socket_id || true)

# --- malformed JSON -----------------------------------------------------------------
for body in '{' '{"ai_name":' '{"ai_name":"apollo",}' 'ai_name=apollo' '{"ai_name":"apollo"} x' \
	"{'ai_name':'apollo'}"; do
	http POST /api/ai/socket/create "$body"
	check_error "malformed JSON [$body]" 400 bad_json
done
http POST /api/ai/socket/create ''
check_error "empty body" 400 'bad_json|bad_request'
http POST "/api/ai/socket/$target/write" '{"content":"hi"'
check_error "malformed JSON on write" 400 bad_json
http POST /api/team-chat '{"message":'
check_error "malformed JSON on team-chat" 400 bad_json

# --- JSON that is not the expected object -----------------------------------------------
for body in '[]' '"apollo"' '42' 'null' 'true' '[{"ai_name":"apollo"}]'; do
	http POST /api/ai/socket/create "$body"
	check_error "not an object [$body]" 400 bad_request
done
for body in '{}' '{"name":"apollo"}'; do
	http POST /api/ai/socket/create "$body"
	check_error "missing ai_name [$body]" 400 bad_request
done
for body in '{"ai_name":5}' '{"ai_name":null}' '{"ai_name":["apollo"]}' '{"ai_name":{"a":1}}' \
	'{"ai_name":true}'; do
	http POST /api/ai/socket/create "$body"
	check_error "ai_name not a string [$body]" 400 bad_request
done
for body in '{"ai_name":"ok","context":"x"}' '{"ai_name":"ok","prompt":5}' \
	'{"ai_name":"ok","model":[]}' '{"ai_name":"ok","socket_id":7}' '{"ai_name":"ok","provider":1}'; do
	http POST /api/ai/socket/create "$body"
	check_error "field of the wrong type [$body]" 400 'bad_request|bad_name'
done

# --- names ---------------------------------------------------------------------------
long64=$(printf 'n%.0s' $(seq 1 64))
long65=${long64}n
for name in 'a/b' '..' '' "$long65" 'é' 'a b' 'a\nb' 'a:b' '-'"$long64"; do
	http POST /api/ai/socket/create "{\"ai_name\":\"$name\"}"
	check_error "bad ai_name [$name]" 400 bad_name
	http POST /api/ai/socket/create "{\"ai_name\":\"ok\",\"socket_id\":\"$name\"}"
	check_error "bad socket_id [$name]" 400 bad_name
done
http POST /api/ai/socket/create "{\"ai_name\":\"$long64\"}"
check "a 64-character name is fine" 201 "$STATUS"
check "a 64-character name is kept" "$long64" "$(jget "$BODY" .ai_name)"
http POST /api/ai/socket/create '{"ai_name":"A.b_c-9"}'
check "every allowed character" 201 "$STATUS"
http POST /api/ai/socket/create '{"ai_name":"ok","socket_id":"x.y_Z-0"}'
check "an explicit id with every allowed character" '201 x.y_Z-0' "$STATUS $(jget "$BODY" .socket_id)"

# Bad names in a path are refused, never served.
for path in '/api/ai/socket/a%20b' '/api/ai/socket/%2e%2e' '/api/ai/socket/a%2Fb/write' \
	"/api/ai/socket/$long65"; do
	http GET "$path"
	check_error "bad name in path $path" '40[04]' '*'
done

# --- unknown sockets --------------------------------------------------------------------
http POST /api/ai/socket/nosuch/write '{"content":"hi"}'
check_error "write to an unknown socket" 404 unknown_socket
http GET '/api/ai/socket/nosuch/read?wait_ms=100'
check_error "read from an unknown socket" 404 unknown_socket
http POST /api/ai/socket/nosuch/reset
check_error "reset an unknown socket" 404 unknown_socket
http DELETE /api/ai/socket/nosuch
check_error "delete an unknown socket" 404 unknown_socket
check "upgrade to an unknown socket" 404 "$(ws_upgrade /ws/socket/nosuch)"
check_match "upgrade to a bad socket name" '40[04]' "$(ws_upgrade /ws/socket/a%2Fb)"
check "upgrade to an unknown path" 404 "$(ws_upgrade /ws/nothing)"

# --- write bodies ----------------------------------------------------------------------
for body in '{"content":5}' '{"content":null}' '{"content":["hi"]}' '{}' '{"id":"x"}' '[]' \
	'{"content":"hi","id":5}'; do
	http POST "/api/ai/socket/$target/write" "$body"
	check_error "bad write [$body]" 400 'bad_request|bad_name'
done
longid=$(printf 'i%.0s' $(seq 1 129))
http POST "/api/ai/socket/$target/write" "{\"content\":\"hi\",\"id\":\"$longid\"}"
check_error "write id over 128 characters" 400 'bad_request|bad_name|too_large'

# --- read parameters ---------------------------------------------------------------------
for q in 'wait_ms=abc' 'wait_ms=-1' 'wait_ms=1x'; do
	http GET "/api/ai/socket/$target/read?$q"
	check_error "read with $q" 400 bad_request
done

# --- team-chat bodies -----------------------------------------------------------------------
for body in '{}' '{"message":5}' '{"message":"hi","timeout_ms":"abc"}' \
	'{"message":"hi","timeout_ms":-5}' '{"message":"hi","group":5}' '[]'; do
	http POST /api/team-chat "$body"
	check_error "bad team-chat [$body]" 400 'bad_request|bad_name'
done
http POST /api/team-chat '{"message":"hi","group":"a/b"}'
check_error "team-chat with a bad group name" 400 bad_name

# --- invalid UTF-8 and escapes -----------------------------------------------------------------
for bytes in '\xff\xfe' '\xc3' 'ab\xc0\xafcd' '\xed\xa0\x80' '\xf4\x90\x80\x80' '\x80'; do
	printf '{"content":"x%by","id":"u"}' "$bytes" > "$TEST_TMP/utf8.json"
	http_file POST "/api/ai/socket/$target/write" "$TEST_TMP/utf8.json"
	check_error "invalid UTF-8 [$bytes] in content" 400 bad_request
done
printf '{"ai_name":"a\xffb"}' > "$TEST_TMP/utf8.json"
http_file POST /api/ai/socket/create "$TEST_TMP/utf8.json"
check_error "invalid UTF-8 in ai_name" 400 'bad_request|bad_name'
http POST "/api/ai/socket/$target/write" '{"content":"x\ud800y"}'
check_error "lone surrogate escape in content" 400 'bad_json|bad_request'
http POST "/api/ai/socket/$target/write" '{"content":"caf\u00e9 \ud83d\ude00 ok","id":"good-utf8"}'
check "valid escapes and UTF-8 accepted" 202 "$STATUS"
http GET "/api/ai/socket/$target/read?wait_ms=2000"
check "valid UTF-8 comes back whole" 'target: café 😀 ok' "$(jget "$BODY" '.messages[0].content')"

# --- deep nesting ---------------------------------------------------------------------------
head -c 10000 /dev/zero | tr '\0' '[' > "$TEST_TMP/deep.json"
http_file POST /api/ai/socket/create "$TEST_TMP/deep.json"
check_error "10000 open brackets" 400 'bad_json|bad_request'
{ head -c 100000 /dev/zero | tr '\0' '['; head -c 100000 /dev/zero | tr '\0' ']'; } > "$TEST_TMP/deep.json"
http_file POST /api/ai/socket/create "$TEST_TMP/deep.json"
check_error "100000 nested arrays" 400 'bad_json|bad_request'
{ printf '{"ai_name":"deep","context":'; head -c 50000 /dev/zero | tr '\0' '['
  head -c 50000 /dev/zero | tr '\0' ']'; printf '}'; } > "$TEST_TMP/deep.json"
http_file POST /api/ai/socket/create "$TEST_TMP/deep.json"
check_error "deeply nested context" 400 'bad_json|bad_request'
{ printf '{"content":"hi","x":'; head -c 50000 /dev/zero | tr '\0' '{' | sed 's/{/{"a":/g'
  printf '1'; head -c 50000 /dev/zero | tr '\0' '}'; printf '}'; } > "$TEST_TMP/deep.json"
http_file POST "/api/ai/socket/$target/write" "$TEST_TMP/deep.json"
check_error "deeply nested objects on write" 400 'bad_json|bad_request'
http GET /health
check "alive after deep nesting" 200 "$STATUS"

# --- sizes -----------------------------------------------------------------------------------
http GET "/api/ai/socket/$target"
history_before=$(jget "$BODY" '.history_size' || true)
big_json "$TEST_TMP/big.json" '{"content":"' 4194305 '","id":"big1"}'
http_file POST "/api/ai/socket/$target/write" "$TEST_TMP/big.json"
check_error "content of 4 MiB + 1" 413 too_large
http GET "/api/ai/socket/$target"
check "the refused content left no history" "$history_before" "$(jget "$BODY" '.history_size')"

big_json "$TEST_TMP/big.json" '{"content":"' 4194304 '","id":"big2"}'
http_file POST "/api/ai/socket/$target/write" "$TEST_TMP/big.json"
check "content of exactly 4 MiB is accepted" 202 "$STATUS"

big_json "$TEST_TMP/big.json" '{"ai_name":"x","prompt":"' 8388608 '"}'
http_file POST /api/ai/socket/create "$TEST_TMP/big.json"
check_error "create body over 8 MiB" 413 too_large
big_json "$TEST_TMP/big.json" '{"content":"' 9000000 '"}'
http_file POST "/api/ai/socket/$target/write" "$TEST_TMP/big.json"
check_error "write body over 8 MiB" 413 too_large
big_json "$TEST_TMP/big.json" '{"message":"' 9000000 '"}'
http_file POST /api/team-chat "$TEST_TMP/big.json"
check_error "team-chat body over 8 MiB" 413 too_large
big_json "$TEST_TMP/big.json" '{"message":"' 4194305 '","timeout_ms":1000}'
http_file POST /api/team-chat "$TEST_TMP/big.json"
check_error "team-chat message over 4 MiB" 413 too_large

# A body announced too big is refused without waiting for it.
STATUS=$(curl -s -o "$TEST_TMP/body" -w '%{http_code}' --max-time 5 -X POST \
	-H 'Content-Type: application/json' -H 'Content-Length: 100000000' \
	--data-binary '{"content":"hi"}' "$URL/api/ai/socket/$target/write" 2>/dev/null) || true
BODY=$(cat "$TEST_TMP/body" 2>/dev/null || true)
check_error "announced body over 8 MiB" 413 too_large

# --- the server is still well ----------------------------------------------------------------
http GET /health
check "health after all bad input" 200 "$STATUS"
kill -0 "$SERVER_PID" 2>/dev/null && ok "server process alive" || fail "server process alive"
http POST "/api/ai/socket/$target/reset"
http POST "/api/ai/socket/$target/write" '{"content":"still here","id":"last"}'
check "write after all bad input" 202 "$STATUS"
http GET "/api/ai/socket/$target/read?wait_ms=2000"
check "reply after all bad input" 'target: still here' "$(jget "$BODY" '.messages[0].content')"

finish
