#!/bin/bash
# bridge-mcp.sh: `aish-bridge --mcp` driven by MCP's own reference client
# library, @modelcontextprotocol/sdk (installed into tests/node by
# .ci/install-deps), against a real aish-rhetor: initialize and version
# negotiation, every tool, progress, cancel, an unknown AI, a failing AI,
# bad input, and calls after errors (tests/node/mcp-client.mjs).  Skipped
# (77) when node or the module is missing.
. "$(dirname "$0")/setup.sh"

node_dir=$top_srcdir/tests/node
if ! command -v node >/dev/null 2>&1; then
	echo "node is not installed: skipped"
	exit 77
fi
if [ ! -f "$node_dir/node_modules/@modelcontextprotocol/sdk/package.json" ]; then
	echo "@modelcontextprotocol/sdk is not installed (npm install --prefix tests/node): skipped"
	exit 77
fi

cat > "$TEST_TMP/config.json" <<'EOF2'
{
  "default_provider": "echo",
  "providers": {
    "broken": {"type": "exec", "command": ["sh", "-c", "cat >/dev/null; echo out of tokens >&2; exit 3"]}
  }
}
EOF2
start_server "" --config "$TEST_TMP/config.json"
SLOW=$(editor_slow_socket slow 1500)
STREAMY=$(editor_slow_socket streamy 300)
http POST /api/ai/socket/create '{"ai_name":"broken","provider":"broken"}'
BROKEN=$(jget "$BODY" .socket_id)
http PUT /api/ai/groups/duo '{"members":["athena","apollo"]}'
check "fixture: two slow sockets, a broken one, a group" \
	"slow-1 streamy-1 broken-1 200" "$SLOW $STREAMY $BROKEN $STATUS"

while IFS= read -r line; do
	case "$line" in
	"ok - "*) ok "${line#ok - }" ;;
	"not ok - "*) failed=$((failed + 1)); echo "$line" ;;
	"NODEEXIT "*) fail "the node client ended early (status ${line#NODEEXIT })" ;;
	*) echo "$line" ;;
	esac
done < <(timeout $((40 * SLOWDOWN)) node "$node_dir/mcp-client.mjs" "$BRIDGE" \
	"$URL" "$SLOW" "$STREAMY" "$BROKEN" 2>&1 || echo "NODEEXIT $?")
finish
