#!/bin/bash
# bridge-vscode.sh: aish-bridge driven by a JSON-RPC client that aish did
# not write: vscode-jsonrpc@8 under node (installed into tests/node by
# .ci/run with `npm install --prefix tests/node`).  Skipped (77) when
# node or the module is missing.
. "$(dirname "$0")/setup.sh"

node_dir=$top_srcdir/tests/node
if ! command -v node >/dev/null 2>&1; then
	echo "node is not installed: skipped"
	exit 77
fi
if ! NODE_PATH="$node_dir/node_modules${NODE_PATH:+:$NODE_PATH}" \
    node -e 'require("vscode-jsonrpc/node")' 2>/dev/null; then
	echo "vscode-jsonrpc is not installed (npm install --prefix tests/node): skipped"
	exit 77
fi

start_server
while IFS= read -r line; do
	case "$line" in
	"ok - "*) ok "${line#ok - }" ;;
	"not ok - "*) failed=$((failed + 1)); echo "$line" ;;
	"NODEEXIT "*) fail "the node client ended early (status ${line#NODEEXIT })" ;;
	*) echo "$line" ;;
	esac
done < <(NODE_PATH="$node_dir/node_modules${NODE_PATH:+:$NODE_PATH}" \
	timeout 25 node "$node_dir/vscode-client.js" "$BRIDGE" "$URL" 2>&1 ||
	echo "NODEEXIT $?")
finish
