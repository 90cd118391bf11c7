#!/bin/bash
# server-groups.sh: groups of sockets (SPEC section 1): PUT, GET and
# DELETE /api/ai/groups, the broadcast socket team-chat-<group>, replies
# fanned out to the groups of their AI, team chats on a group, moderated
# team chats (a synthesis by rhetor), and groups surviving a restart.

TEST_TIMEOUT=${TEST_TIMEOUT:-30}
. "$(dirname "$0")/setup.sh"

T=$TEST_TMP
start_server
STATE=$STATE_DIR

http POST /api/ai/socket/create '{"ai_name":"apollo"}'
check "create apollo-1" 201 "$STATUS"
http POST /api/ai/socket/create '{"ai_name":"zeus","socket_id":"zeus"}'
check "create zeus" 201 "$STATUS"

# --- PUT / GET / DELETE ----------------------------------------------------
http PUT /api/ai/groups/reviewers '{"members":["apollo-1","athena","apollo-1"]}'
check "put: status" 200 "$STATUS"
check "put: answer" \
	'{"name":"reviewers","members":["apollo-1","athena"],"socket_id":"team-chat-reviewers"}' \
	"$(jget "$BODY" 'tojson')"
http GET /api/ai/groups
check "list: one group" '["reviewers"]' "$(jget "$BODY" '[.groups[].name] | tojson')"
http GET /api/ai/groups/reviewers
check "get: members" '["apollo-1","athena"]' "$(jget "$BODY" '.members | tojson')"
http GET /api/ai/socket/team-chat-reviewers
check "group socket exists" 200 "$STATUS"
check "group socket: provider none" none "$(jget "$BODY" .provider)"
http GET /api/ai/sockets
check "listing: groups of apollo-1" '["reviewers"]' \
	"$(jget "$BODY" '.sockets[] | select(.socket_id == "apollo-1") | .groups | tojson')"
check "listing: groups of hermes" '[]' \
	"$(jget "$BODY" '.sockets[] | select(.socket_id == "hermes") | .groups | tojson')"

http PUT /api/ai/groups/bad '{"members":["nobody"]}'
check_error "put: unknown member" 404 unknown_socket
check_match "put: names the unknown member" "*nobody*" "$(jget "$BODY" .error.message)"
http PUT /api/ai/groups/bad '{"members":["rhetor"]}'
check_error "put: rhetor is no member" 400 bad_request
http PUT /api/ai/groups/bad '{"members":["team-chat-all"]}'
check_error "put: team-chat-all is no member" 400 bad_request
check_match "put: names the bad member" "*team-chat-all*" "$(jget "$BODY" .error.message)"
http PUT /api/ai/groups/bad '{"members":[]}'
check_error "put: empty members" 400 bad_request
http PUT /api/ai/groups/bad '{"members":"apollo"}'
check_error "put: members not an array" 400 bad_request
http PUT /api/ai/groups/bad '{"members":[7]}'
check_error "put: member not a string" 400 bad_name
http PUT /api/ai/groups/bad 'nope'
check_error "put: bad JSON" 400 bad_json
http PUT /api/ai/groups/all '{"members":["apollo"]}'
check_error "put: 'all' is reserved" 400 bad_name
http PUT "/api/ai/groups/$(printf 'g%.0s' $(seq 1 60))" '{"members":["apollo"]}'
check_error "put: name too long" 400 bad_name
http PUT '/api/ai/groups/a%20b' '{"members":["apollo"]}'
check_error "put: bad name" 400 bad_name
http GET /api/ai/groups/bad
check_error "get: unknown group" 404 unknown_group
http DELETE /api/ai/groups/bad
check_error "delete: unknown group" 404 unknown_group
http POST /api/ai/groups/reviewers '{}'
check_error "post on a group: 405" 405 method_not_allowed
http GET /api/ai/groups
check "failed puts made nothing" 1 "$(jget "$BODY" '.groups | length')"

# --- the group's socket ------------------------------------------------------
# A write on team-chat-reviewers reaches apollo-1 and athena only.
ws_run "$T/g1" team-chat-reviewers -t 8000 <<'EOF2'
{"type":"write","content":"review this","id":"g1"}
wait 2
EOF2
check "group write: client exit" 0 "$WS_RC"
check "group write: ack members (server order)" '["athena","apollo-1"]' \
	"$(fq "$T/g1" '.[] | select(.type == "ack") | .members | tojson')"
check "group write: replies" "apollo-1:apollo: review this athena:athena: review this" \
	"$(fq "$T/g1" '[.[] | select(.type == "read") | .socket_id + ":" + .content] | sort | join(" ")')"
check "group write: headers" "team-chat-from-apollo-1 team-chat-from-athena" \
	"$(fq "$T/g1" '[.[] | select(.type == "read") | .headers[0]] | sort | join(" ")')"

# HTTP write on the group socket: ack with the members.
http POST /api/ai/socket/team-chat-reviewers/write '{"content":"hi","id":"h1"}'
check "group http write: status" 202 "$STATUS"
check "group http write: members" '["athena","apollo-1"]' "$(jget "$BODY" '.members | tojson')"
check "group http write: queued" 2 "$(wait_queue team-chat-reviewers 2)"
http GET /api/ai/socket/team-chat-reviewers/read
check "group http write: read" "apollo: hi|athena: hi" \
	"$(jget "$BODY" '[.messages[].content] | sort | join("|")')"

# A direct write to athena reaches listeners on team-chat-reviewers too,
# but a write to zeus (no member) does not.
( ws_run "$T/listen" team-chat-reviewers -n 1 -l 600 -t 6000 -r "$T/listen.in" < /dev/null; exit "$WS_RC" ) & lpid=$!
wait_file "$T/listen.in"
http POST /api/ai/socket/zeus/write '{"content":"not for the group","id":"z1"}'
http POST /api/ai/socket/athena/write '{"content":"for the group","id":"a1"}'
RC=0; wait "$lpid" || RC=$?
check "listener: client exit" 0 "$RC"
check "listener: hears athena only" "athena:for the group" \
	"$(fq "$T/listen" '[.[] | select(.type == "read") | .socket_id + ":" + (.content | sub("^athena: "; ""))] | join(" ")')"

# --- HTTP team chat on a group -----------------------------------------------
http POST /api/team-chat '{"message":"who?","group":"reviewers","timeout_ms":5000}'
check "team-chat -g: status" 200 "$STATUS"
check "team-chat -g: responses" "apollo-1 athena" \
	"$(jget "$BODY" '[.responses[].socket_id] | sort | join(" ")')"
check "team-chat -g: no synthesis unless asked" null "$(jget "$BODY" .synthesis)"
http POST /api/team-chat '{"message":"who?","group":"nothere"}'
check_error "team-chat: unknown group" 404 unknown_group
http POST /api/team-chat '{"message":"who?","group":"reviewers","moderation":"vote"}'
check_error "team-chat: bad moderation" 400 bad_request

# --- moderation ----------------------------------------------------------------
http POST /api/team-chat '{"message":"cache?","group":"reviewers","moderation":"synthesis","timeout_ms":5000}'
check "synthesis: status" 200 "$STATUS"
check "synthesis: responses first" 2 "$(jget "$BODY" '.responses | length')"
check "synthesis: by rhetor" rhetor "$(jget "$BODY" .synthesis.socket_id)"
check_match "synthesis: has the question" "rhetor: Question: cache?*" "$(jget "$BODY" .synthesis.content)"
check_match "synthesis: has apollo's reply" '*\[apollo-1\] apollo: cache\?*' "$(jget "$BODY" .synthesis.content)"
check_match "synthesis: has athena's reply" '*\[athena\] athena: cache\?*' "$(jget "$BODY" .synthesis.content)"
check_match "synthesis: ms" "[0-9]*" "$(jget "$BODY" .synthesis.ms)"

# Over the WebSocket: the ack names rhetor last; its read comes last.
ws_run "$T/mod" team-chat-reviewers -t 8000 <<'EOF2'
{"type":"write","content":"ws question","id":"m1","moderation":"synthesis"}
wait 3
EOF2
check "ws synthesis: client exit" 0 "$WS_RC"
check "ws synthesis: ack members" '["athena","apollo-1","rhetor"]' \
	"$(fq "$T/mod" '.[] | select(.type == "ack") | .members | tojson')"
check "ws synthesis: rhetor last" "team-chat-from-rhetor" \
	"$(fq "$T/mod" '[.[] | select(.type == "read")] | last | .headers[0]')"
check_match "ws synthesis: content" "rhetor: Question: ws question*athena: ws question*" \
	"$(fq "$T/mod" '[.[] | select(.type == "read")] | last | .content')"
ws_run "$T/modbad" team-chat-reviewers -t 4000 <<'EOF2'
{"type":"write","content":"x","id":"m2","moderation":"loud"}
wait 1
EOF2
check "ws bad moderation: error" bad_request "$(fq "$T/modbad" '.[] | select(.type == "error") | .code')"
ws_run "$T/modai" apollo-1 -t 4000 <<'EOF2'
{"type":"write","content":"x","id":"m3","moderation":"synthesis"}
wait 1
EOF2
check "moderation on an AI socket: error" bad_request "$(fq "$T/modai" '.[] | select(.type == "error") | .code')"

# --- private sockets: no team chat reaches them -------------------------------
http POST /api/ai/socket/create '{"ai_name":"athena","socket_id":"own-1","private":true}'
check "private: created" 201 "$STATUS"
http POST /api/ai/socket/create '{"ai_name":"athena","socket_id":"own-2","private":"yes"}'
check_error "private: not a boolean" 400 bad_request
http GET /api/ai/socket/own-1
check "private: described so" true "$(jget "$BODY" .private)"
http GET /api/ai/socket/athena
check "others: no private field" null "$(jget "$BODY" .private)"
http POST /api/team-chat '{"message":"all of you?","timeout_ms":5000}'
check "team-chat-all: athena answers" 1 \
	"$(jget "$BODY" '[.responses[] | select(.socket_id == "athena")] | length')"
check "team-chat-all: the private socket does not" 0 \
	"$(jget "$BODY" '[.responses[] | select(.socket_id == "own-1")] | length')"
# Its replies do not reach team-chat-all's readers either.
( ws_run "$T/all" team-chat-all -n 1 -l 600 -t 6000 -r "$T/all.in" < /dev/null; exit "$WS_RC" ) & lpid=$!
wait_file "$T/all.in"
http POST /api/ai/socket/own-1/write '{"content":"just for me","id":"o1"}'
http POST /api/ai/socket/athena/write '{"content":"for all","id":"o2"}'
RC=0; wait "$lpid" || RC=$?
check "team-chat-all listener: client exit" 0 "$RC"
check "team-chat-all listener: hears athena only" "athena:for all" \
	"$(fq "$T/all" '[.[] | select(.type == "read") | .socket_id + ":" + (.content | sub("^athena: "; ""))] | join(" ")')"
http GET /api/ai/socket/own-1/read
check "private: its own reply is queued" "just for me" \
	"$(jget "$BODY" '.messages[0].content | sub("^athena: "; "")')"
http PUT /api/ai/groups/mine '{"members":["own-1"]}'
check "private: a group may hold it" 200 "$STATUS"
http DELETE /api/ai/groups/mine
check "private: group deleted" 200 "$STATUS"

# --- replace, delete a member, restart, delete the group -----------------------------
http PUT /api/ai/groups/reviewers '{"members":["apollo-1","zeus"]}'
check "replace: members" '["apollo-1","zeus"]' "$(jget "$BODY" '.members | tojson')"
http PUT /api/ai/groups/solo '{"members":["zeus"]}'
check "second group" 200 "$STATUS"
http DELETE /api/ai/socket/zeus
check "delete zeus" 200 "$STATUS"
http GET /api/ai/groups/reviewers
check "deleted socket left the group" '["apollo-1"]' "$(jget "$BODY" '.members | tojson')"

stop_server
start_server "$STATE"
http GET /api/ai/groups
check "restart: groups kept in order" "reviewers:apollo-1 solo:" \
	"$(jget "$BODY" '[.groups[] | .name + ":" + (.members | join(","))] | join(" ")')"
http GET /api/ai/socket/team-chat-solo
check "restart: group socket kept" 200 "$STATUS"
http GET /api/ai/socket/own-1
check "restart: still private" true "$(jget "$BODY" .private)"
http POST /api/team-chat '{"message":"again?","timeout_ms":5000}'
check "restart: team-chat-all still leaves it out" 0 \
	"$(jget "$BODY" '[.responses[] | select(.socket_id == "own-1")] | length')"
http DELETE /api/ai/socket/own-1
check "private: deleted like any created socket" 200 "$STATUS"
http POST /api/team-chat '{"message":"anyone?","group":"solo","timeout_ms":2000}'
check "empty group: no responses" '{"responses":[],"timed_out":[]}' "$(jget "$BODY" tojson)"

http DELETE /api/ai/groups/solo
check "delete group" '{"deleted":true}' "$(jget "$BODY" tojson)"
http GET /api/ai/socket/team-chat-solo
check_error "group socket gone" 404 unknown_socket
http DELETE /api/ai/socket/team-chat-reviewers
check_error "group socket cannot be deleted alone" 403 forbidden
check_match "the refusal names the group route" "*groups/reviewers*" "$(jget "$BODY" .error.message)"
stop_server
start_server "$STATE"
http GET /api/ai/groups
check "restart: deleted group stays deleted" '["reviewers"]' "$(jget "$BODY" '[.groups[].name] | tojson')"

finish
