#!/bin/bash
# tests/editor-emacs.sh: byte-compiles editors/emacs/aish.el (a warning is
# a failure) and runs its ERT tests (tests/emacs/aish-tests.el) in a batch
# Emacs, against a real aish-bridge and aish-rhetor with the echo provider.

. "$(dirname "$0")/setup.sh"

BRIDGE=${BRIDGE:-$top_builddir/aish-bridge}
EMACS=${EMACS:-emacs}

if ! command -v "$EMACS" >/dev/null 2>&1; then
	echo "$EMACS is not installed: skipped (apt-get install emacs-nox)"
	exit 77
fi
if [ ! -x "$BRIDGE" ]; then
	fail "aish-bridge is built" "$BRIDGE is missing"
	finish
fi

# Byte-compile a copy, so that no .elc lands in the source tree.
cp "$top_srcdir/editors/emacs/aish.el" "$TEST_TMP/"
if timeout 60 "$EMACS" --batch -Q --eval '(setq byte-compile-error-on-warn t)' \
	-f batch-byte-compile "$TEST_TMP/aish.el" > "$TEST_TMP/compile.out" 2>&1; then
	ok "emacs aish.el byte-compiles without warnings"
else
	fail "emacs aish.el byte-compiles without warnings" "$(cat "$TEST_TMP/compile.out")"
fi

editor_fixture

rc=0
LC_ALL=C.UTF-8 LANG=C.UTF-8 \
AISH_TEST_BRIDGE=$BRIDGE AISH_TEST_URL=$URL \
AISH_TEST_SLOW=$SLOW AISH_TEST_SLOWER=$SLOWER \
	timeout 300 "$EMACS" --batch -Q -L "$TEST_TMP" \
	-l "$top_srcdir/tests/emacs/aish-tests.el" \
	-f ert-run-tests-batch-and-exit > "$TEST_TMP/ert.out" 2>&1 || rc=$?

# One line a test from ERT's report ("passed  N/M  name", "FAILED  N/M  name").
while read -r verdict _ name _; do
	case "$verdict" in
	passed) ok "emacs $name" ;;
	FAILED) fail "emacs $name" "see the ERT output below" ;;
	esac
done < <(grep -E '^ *(passed|FAILED) +[0-9]+/[0-9]+ ' "$TEST_TMP/ert.out")
if [ "$rc" -ne 0 ]; then
	fail "ert exits 0" "exit status $rc"
	tail -c 6000 "$TEST_TMP/ert.out"
fi
finish
