#!/bin/bash
# bridge-lsp-editors.sh: aish-bridge as the language server of the
# editors' own LSP clients, headless: Neovim's vim.lsp
# (tests/lsp/nvim-lsp.lua) and Emacs' eglot (tests/lsp/eglot-tests.el).
# Each starts the bridge, asks for code actions on a range, runs them
# (rewrite, ask, team chat), and sees the buffer rewritten; progress,
# cancel, an unknown AI, bad input and a request after an error too.  An
# editor that is not installed is skipped.
. "$(dirname "$0")/setup.sh"

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
export AISH_TEST_BRIDGE=$BRIDGE AISH_TEST_URL=$URL AISH_TEST_SLOW=$SLOW \
	AISH_TEST_STREAMY=$STREAMY LC_ALL=C.UTF-8 LANG=C.UTF-8

# results NAME FILE: counts the lines of a result file; a missing "done"
# line means the editor died.
results() {
	local line name
	if [ -f "$2" ]; then
		while IFS= read -r line; do
			case "$line" in
			"ok - "*) ok "$1: ${line#ok - }" ;;
			"not ok - "*) name=${line#not ok - }; fail "$1: ${name%%: *}" "${name#*: }" ;;
			esac
		done < "$2"
	fi
	if ! grep -qx done "$2" 2>/dev/null; then
		fail "$1 ran every test" "$(tail -c 2000 "$3")"
	fi
}

# Neovim's vim.lsp.
if command -v nvim >/dev/null 2>&1; then
	export AISH_TEST_DIR=$TEST_TMP/nvim
	mkdir -p "$AISH_TEST_DIR/xdg"
	XDG_STATE_HOME=$AISH_TEST_DIR/xdg AISH_TEST_RESULT=$AISH_TEST_DIR/result \
		timeout $((60 * SLOWDOWN)) nvim --headless -u NONE -i NONE -n \
		-c "luafile $top_srcdir/tests/lsp/nvim-lsp.lua" \
		> "$AISH_TEST_DIR/out" 2>&1 || true
	results nvim "$AISH_TEST_DIR/result" "$AISH_TEST_DIR/out"
else
	echo "nvim is not installed: its part skipped"
fi

# Emacs' eglot (Debian's elpa-eglot).
# eglot 1.9 offers no progress and no showDocument: it gets neither.
if command -v emacs >/dev/null 2>&1 &&
   ls -d /usr/share/emacs/site-lisp/elpa/eglot-* >/dev/null 2>&1; then
	export AISH_TEST_DIR=$TEST_TMP/eglot
	mkdir -p "$AISH_TEST_DIR/xdg"
	XDG_STATE_HOME=$AISH_TEST_DIR/xdg AISH_TEST_RESULT=$AISH_TEST_DIR/result \
		timeout $((60 * SLOWDOWN)) emacs --batch -Q \
		-l "$top_srcdir/tests/lsp/eglot-tests.el" \
		> "$AISH_TEST_DIR/out" 2>&1 || true
	results eglot "$AISH_TEST_DIR/result" "$AISH_TEST_DIR/out"
else
	echo "emacs or eglot (apt-get install elpa-eglot) is missing: its part skipped"
fi
finish
