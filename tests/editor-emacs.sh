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

# Byte-compile a copy, so that no .elc lands in the source tree; the tests
# load the compiled files.
mkdir "$TEST_TMP/lisp"
cp "$top_srcdir"/editors/emacs/*.el "$TEST_TMP/lisp/"
rm -f "$TEST_TMP/lisp/aish-autoloads.el"
if timeout 60 "$EMACS" --batch -Q -L "$TEST_TMP/lisp" \
	--eval '(setq byte-compile-error-on-warn t)' \
	-f batch-byte-compile "$TEST_TMP"/lisp/*.el > "$TEST_TMP/compile.out" 2>&1; then
	ok "emacs aish.el byte-compiles without warnings"
else
	fail "emacs aish.el byte-compiles without warnings" "$(cat "$TEST_TMP/compile.out")"
fi

# emacs_run NAME HOME EMACS-ARGS...: runs a batch Emacs (HOME for it) and
# puts what it printed in $OUT.
emacs_run() {
	local home=$2
	shift 2
	OUT=$(HOME=$home timeout 60 "$EMACS" --batch "$@" 2>&1 | grep -v '^Loading ') || true
}

# The commands of the package, one a line: every aish- command it defines
# (the modes aside).
COMMANDS_EVAL='(mapatoms (lambda (s) (when (and (commandp s) (string-prefix-p "aish-" (symbol-name s)) (not (string-suffix-p "-mode" (symbol-name s)))) (princ (format "%s %s\n" s (if (autoloadp (symbol-function s)) "autoload" "defined"))))))'
emacs_run commands "$TEST_TMP" -Q -L "$TEST_TMP/lisp" --eval "(require 'aish)" \
	--eval "$COMMANDS_EVAL"
all_commands=$(printf '%s\n' "$OUT" | awk '$2 == "defined" {print $1}' | sort)
check "the package defines its commands" yes \
	"$(printf '%s\n' "$all_commands" | grep -qx aish-cancel && printf '%s\n' "$all_commands" | grep -qx aish-chat && echo yes)"

# Every command's docstring shows an example.
emacs_run docs "$TEST_TMP" -Q -L "$TEST_TMP/lisp" --eval "(require 'aish)" \
	--eval '(mapatoms (lambda (s) (when (and (commandp s) (string-prefix-p "aish-" (symbol-name s)) (not (string-suffix-p "-mode" (symbol-name s))) (not (string-match-p "Example" (or (documentation s) "")))) (message "%s" s))))'
check "every command's docstring has an example" "" "$OUT"

# The generated autoloads name every command, so that M-x finds each one
# before the package is loaded.
AUTOLOADS=$top_builddir/editors/emacs/aish-autoloads.el
if [ -f "$AUTOLOADS" ]; then
	emacs_run autoloads "$TEST_TMP" -Q -L "$TEST_TMP/lisp" -l "$AUTOLOADS" --eval "$COMMANDS_EVAL"
	check "every command is autoloaded" "$all_commands" \
		"$(printf '%s\n' "$OUT" | awk '$2 == "autoload" {print $1}' | sort)"
	emacs_run autoloads "$TEST_TMP" -Q -L "$TEST_TMP/lisp" -l "$AUTOLOADS" \
		--eval '(execute-kbd-macro (kbd "M-x aish-cancel RET"))'
	check "M-x aish-cancel before first use" "aish: nothing to cancel" "$OUT"
else
	fail "the autoloads are built" "$AUTOLOADS is missing"
fi

# make install puts the package where Debian's Emacs loads it: the files
# in $(lispdir)/aish, and 50aish.el in /etc/emacs/site-start.d that adds
# them and their autoloads (checked here under DESTDIR, the start-up file
# pointed at it).
startdir=$(sed -n 's/^emacsstartdir = //p' "$top_builddir/Makefile")
if [ -n "$startdir" ] && [ "$startdir" != no ]; then
	DEST=$TEST_TMP/root
	make -s -C "$top_builddir" install-aishlispLISP install-nodist_aishlispDATA \
		install-nodist_emacsstartDATA DESTDIR="$DEST" > "$TEST_TMP/install.out" 2>&1 ||
		fail "make install of the Emacs files" "$(cat "$TEST_TMP/install.out")"
	lispdir=$(sed -n 's/^(let ((dir "\(.*\)"))$/\1/p' "$top_builddir/editors/50aish.el")
	check "installed: the package, compiled, and its autoloads" yes \
		"$([ -f "$DEST$lispdir/aish.elc" ] && [ -f "$DEST$lispdir/aish-chat.el" ] &&
		   [ -f "$DEST$lispdir/aish-autoloads.el" ] && echo yes)"
	check "installed: the start-up file" "$startdir/50aish.el yes" \
		"$startdir/50aish.el $([ -f "$DEST$startdir/50aish.el" ] && echo yes)"
	sed "s|\"$lispdir\"|\"$DEST$lispdir\"|" "$DEST$startdir/50aish.el" > "$TEST_TMP/50aish.el"
	emacs_run startup "$TEST_TMP" -Q -l "$TEST_TMP/50aish.el" \
		--eval '(message "%s" (locate-library "aish"))' \
		--eval '(execute-kbd-macro (kbd "M-x aish-cancel RET"))'
	check "the start-up file alone gives M-x aish-cancel" \
		"$DEST$lispdir/aish.elc
aish: nothing to cancel" "$OUT"
else
	echo "# no start-up directory configured: install check skipped"
fi

# package-install-file of the package directory of a checkout, into a
# scratch HOME: the package manager compiles it and makes its autoloads.
mkdir -p "$TEST_TMP/checkout/aish" "$TEST_TMP/home"
cp "$top_srcdir"/editors/emacs/aish*.el "$TEST_TMP/checkout/aish/"
rm -f "$TEST_TMP/checkout/aish/aish-autoloads.el"
emacs_run package "$TEST_TMP/home" -Q \
	--eval '(progn (require (quote package)) (package-initialize) (package-install-file (car command-line-args-left)))' \
	"$TEST_TMP/checkout/aish/"
emacs_run package "$TEST_TMP/home" -Q --eval '(package-initialize)' \
	--eval '(message "%s %s" (package-installed-p (quote aish)) (autoloadp (symbol-function (quote aish-chat))))' \
	--eval '(execute-kbd-macro (kbd "M-x aish-cancel RET"))'
check "package-install-file: installed, autoloaded, M-x works" "t t
aish: nothing to cancel" "$OUT"

# use-package with :load-path, as doc/editors.md shows it (Debian's
# elpa-use-package; Emacs 29 has it built in).
USE_PACKAGE='(progn (setq package-directory-list (list "/usr/share/emacs/site-lisp/elpa")) (package-initialize))'
emacs_run use-package "$TEST_TMP/home2" -Q --eval "$USE_PACKAGE" \
	--eval '(message "%s" (if (locate-library "use-package") "yes" "no"))'
if [ "$OUT" = yes ]; then
	mkdir -p "$TEST_TMP/home2"
	emacs_run use-package "$TEST_TMP/home2" -Q --eval "$USE_PACKAGE" \
		--eval "(require 'use-package)" \
		--eval "(use-package aish :load-path \"$TEST_TMP/checkout/aish\"
		  :commands (aish-pipe-region aish-chat aish-cancel)
		  :bind ((\"C-c a c\" . aish-chat)))" \
		--eval '(message "%s %s" (autoloadp (symbol-function (quote aish-chat))) (key-binding (kbd "C-c a c")))' \
		--eval '(execute-kbd-macro (kbd "M-x aish-cancel RET"))'
	check "use-package :load-path: deferred, bound, M-x works" "t aish-chat
aish: nothing to cancel" "$OUT"
else
	echo "# use-package is not installed (apt-get install elpa-use-package): skipped"
fi

editor_fixture

rc=0
LC_ALL=C.UTF-8 LANG=C.UTF-8 \
AISH_TEST_BRIDGE=$BRIDGE AISH_TEST_URL=$URL AISH_TEST_RHETOR=$RHETOR \
AISH_TEST_SLOW=$SLOW AISH_TEST_SLOWER=$SLOWER \
	timeout 300 "$EMACS" --batch -Q -L "$TEST_TMP/lisp" \
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
