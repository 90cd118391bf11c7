#!/bin/bash
# tests/editor-vim.sh: runs the Vim plugin's tests (tests/vim/test_aish.vim)
# inside a headless Vim, against a real aish-bridge and aish-rhetor with the
# echo provider.  Each Vim test becomes one "ok"/"not ok" line.
# tests/editor-nvim.sh sources this script to run the same tests against
# the same plugin (editors/vim) in a headless Neovim.

. "$(dirname "$0")/setup.sh"

BRIDGE=${BRIDGE:-$top_builddir/aish-bridge}

if [ "$TEST_NAME" = editor-nvim ]; then
	VIM=${NVIM_PROGRAM:-nvim}
	PLUGIN=$top_srcdir/editors/vim
	VIM_ARGS=(--headless -u NONE -i NONE -n)
	if ! command -v "$VIM" >/dev/null 2>&1 ||
	   ! "$VIM" --headless -u NONE -es -c 'if !has("nvim-0.7") | cquit | endif' -c 'qall!'; then
		echo "Neovim 0.7 or later is not installed: skipped (apt-get install neovim)"
		exit 77
	fi
else
	VIM=${VIM_PROGRAM:-vim}
	PLUGIN=$top_srcdir/editors/vim
	VIM_ARGS=(-Nu NONE -i NONE -es)
	if ! command -v "$VIM" >/dev/null 2>&1; then
		echo "$VIM is not installed: skipped (apt-get install vim-nox)"
		exit 77
	fi
	if ! "$VIM" --version | grep -q '+job' || ! "$VIM" --version | grep -q '+channel'; then
		echo "$VIM lacks +job or +channel: skipped"
		exit 77
	fi
fi
if [ ! -x "$BRIDGE" ]; then
	fail "aish-bridge is built" "$BRIDGE is missing"
	finish
fi

editor_fixture

# Each test file runs in its own editor; AISH_TEST_FILES picks some.
for file in ${AISH_TEST_FILES:-$top_srcdir/tests/vim/test_*.vim}; do
	base=$(basename "$file" .vim)
	result=$TEST_TMP/$base.result
	rc=0
	LC_ALL=C.UTF-8 LANG=C.UTF-8 \
	AISH_TEST_SRCDIR=$top_srcdir AISH_TEST_PLUGIN=$PLUGIN AISH_TEST_BRIDGE=$BRIDGE AISH_TEST_URL=$URL \
	AISH_TEST_SLOW=$SLOW AISH_TEST_SLOWER=$SLOWER AISH_TEST_RESULT=$result \
		timeout 300 "$VIM" "${VIM_ARGS[@]}" -S "$file" \
		> "$TEST_TMP/$base.out" 2>&1 || rc=$?

	# The verdict is the result file (vim -es exits 1 after an error
	# message even when every assertion held); a missing "done" line
	# means the editor died.
	if [ -f "$result" ]; then
		while IFS= read -r line; do
			case "$line" in
			"ok - "*) ok "${line#ok - }" ;;
			"not ok - "*) name=${line#not ok - }; fail "${name%%: *}" "${name#*: }" ;;
			esac
		done < "$result"
	fi
	if ! grep -qx done "$result" 2>/dev/null; then
		fail "$base ran every test" "exit status $rc; output: $(tail -c 2000 "$TEST_TMP/$base.out")"
	fi
done
finish
