#!/bin/bash
# bridge-lsp.sh: aish-bridge as a language server, driven by the LSP's own
# reference client library (vscode-languageserver-protocol over
# vscode-jsonrpc, under node; installed into tests/node by
# .ci/install-deps): initialize, document sync, the code actions (every
# kind), executeCommand with $/progress, applyEdit and showDocument,
# cancel, an unknown AI, bad input, and requests after errors.  Skipped
# (77) when node or the module is missing.
. "$(dirname "$0")/setup.sh"

node_dir=$top_srcdir/tests/node
if ! command -v node >/dev/null 2>&1; then
	echo "node is not installed: skipped"
	exit 77
fi
if ! NODE_PATH="$node_dir/node_modules${NODE_PATH:+:$NODE_PATH}" \
    node -e 'require("vscode-languageserver-protocol/node")' 2>/dev/null; then
	echo "vscode-languageserver-protocol is not installed (npm install --prefix tests/node): skipped"
	exit 77
fi

start_server
http POST /api/ai/socket/create \
	'{"ai_name":"slow","context":{"echo":{"delay_ms":1500,"chunks":4}}}'
SLOW=$(jget "$BODY" .socket_id)
http POST /api/ai/socket/create \
	'{"ai_name":"streamy","context":{"echo":{"delay_ms":300,"chunks":4}}}'
STREAMY=$(jget "$BODY" .socket_id)
http PUT /api/ai/groups/duo '{"members":["athena","apollo"]}'
check "fixture: two slow sockets and a group" "slow-1 streamy-1 200" \
	"$SLOW $STREAMY $STATUS"
mkdir -p "$TEST_TMP/xdg"

while IFS= read -r line; do
	case "$line" in
	"ok - "*) ok "${line#ok - }" ;;
	"not ok - "*) failed=$((failed + 1)); echo "$line" ;;
	"NODEEXIT "*) fail "the node client ended early (status ${line#NODEEXIT })" ;;
	*) echo "$line" ;;
	esac
done < <(NODE_PATH="$node_dir/node_modules${NODE_PATH:+:$NODE_PATH}" \
	timeout $((60 * SLOWDOWN)) node "$node_dir/lsp-client.js" "$BRIDGE" "$URL" \
	"$TEST_TMP/xdg" "$SLOW" "$STREAMY" 2>&1 || echo "NODEEXIT $?")
finish
