#!/bin/bash
# tests/editor-shared-chat.sh: one conversation live in Vim, Emacs and
# Neovim at once, on one aish-rhetor, each editor with its own aish-bridge,
# as three users would have it: each opens the chat of one slow echo
# socket, then in turn (Vim, Emacs, Neovim) types a line and sends it.
# Every editor must show every turn (the others' questions and replies as
# they happen, Vim and Neovim streaming the others' replies), and all
# three the same conversation.  Then each editor is started again and
# opens the chat: the whole conversation is there, the same in each.
# The Vim and Neovim side is tests/vim/shared_chat.vim; the Emacs side is
# below.  A missing editor is left out (Vim and Emacs are needed).

. "$(dirname "$0")/setup.sh"

BRIDGE=${BRIDGE:-$top_builddir/aish-bridge}
VIM=${VIM_PROGRAM:-vim}
NVIM=${NVIM_PROGRAM:-nvim}
EMACS=${EMACS:-emacs}

for prog in "$VIM" "$EMACS"; do
	if ! command -v "$prog" >/dev/null 2>&1; then
		echo "$prog is not installed: skipped"
		exit 77
	fi
done
if [ ! -x "$BRIDGE" ]; then
	fail "aish-bridge is built" "$BRIDGE is missing"
	finish
fi
PARTS="vim emacs"
if command -v "$NVIM" >/dev/null 2>&1 &&
   "$NVIM" --headless -u NONE -es -c 'if !has("nvim-0.7") | cquit | endif' -c 'qall!'; then
	PARTS="vim emacs nvim"
fi
LAST=${PARTS##* }

start_server
http POST /api/ai/socket/create '{"ai_name":"shared","context":{"echo":{"delay_ms":1000,"chunks":4}}}'
SOCKET=$(jget "$BODY" .socket_id)
check "slow socket made" shared-1 "$SOCKET"

# The Emacs user: M-x aish-chat, waits as the Vim side does, types, C-c C-c.
cat > "$TEST_TMP/shared-chat.el" <<'EOF'
;;; shared-chat.el --- the Emacs participant of editor-shared-chat.sh  -*- lexical-binding: t; -*-
(require 'aish)
(setq aish-bridge-command (list (getenv "AISH_TEST_BRIDGE") "--no-spawn")
      aish-rhetor-url (getenv "AISH_TEST_URL"))
(defun shared-wait (pred seconds)
  "Wait until PRED is true or SECONDS pass; return whether it became true."
  (let ((end (+ (float-time) seconds)))
    (while (and (not (funcall pred)) (< (float-time) end))
      (accept-process-output nil 0.02))
    (funcall pred)))
(defun shared-conversation (buffer)
  "The lines of the conversation of the chat BUFFER."
  (with-current-buffer buffer
    (split-string (buffer-substring-no-properties (point-min) aish-chat--end) "\n" t)))
(defun shared-has (buffer line)
  (member line (shared-conversation buffer)))
(let* ((dir (getenv "SHARED_DIR")) (me (getenv "SHARED_NAME"))
       (socket (getenv "SHARED_SOCKET")) (ai (getenv "SHARED_AI"))
       (prev (getenv "SHARED_PREV")) (last (getenv "SHARED_LAST"))
       (errors nil) buffer)
  (execute-kbd-macro (kbd (format "M-x aish-chat RET %s RET" socket)))
  (setq buffer (get-buffer (format "*aish-chat %s*" socket)))
  (unless (and buffer (shared-wait (lambda () (buffer-local-value 'aish-chat--loaded buffer)) 10))
    (push "the chat did not open" errors))
  (when (and buffer (string-empty-p (or (getenv "SHARED_REOPEN") "")))
    (write-region "" nil (expand-file-name (concat me ".open") dir))
    (unless (shared-wait (lambda ()
                           (seq-every-p (lambda (p) (file-exists-p (expand-file-name (concat p ".open") dir)))
                                        (split-string (getenv "SHARED_ALL"))))
                         30)
      (push "not every editor opened the chat" errors))
    (when (and (not (string-empty-p prev))
               (not (shared-wait (lambda () (shared-has buffer (format "%s: from %s" ai prev))) 30)))
      (push (format "the reply to %s did not show" prev) errors))
    (set-buffer buffer)
    (goto-char (point-max))
    (execute-kbd-macro (concat "from " me))
    (execute-kbd-macro (kbd "C-c C-c"))
    (unless (shared-wait (lambda () (and (shared-has buffer (format "%s: from %s" ai me))
                                         (shared-has buffer (format "%s: from %s" ai last))))
                         30)
      (push "the replies did not all show" errors))
    (shared-wait (lambda () (null aish--requests)) 10))
  (with-temp-file (getenv "SHARED_OUT")
    (when buffer
      (insert (mapconcat #'identity (shared-conversation buffer) "\n") "\n")))
  (with-temp-file (getenv "AISH_TEST_RESULT")
    (insert (if errors
                (format "not ok - emacs shared chat: %s\n" (string-join (reverse errors) "; "))
              "ok - emacs shared chat\n")
            "done\n"))
  (kill-emacs 0))
EOF

# participant NAME PREV OUT [reopen]: starts the editor NAME as the
# participant that follows PREV; its conversation goes to OUT.
participant() {
	local name=$1 prev=$2 out=$3 reopen=${4:-}
	local env=(LC_ALL=C.UTF-8 LANG=C.UTF-8 HOME="$TEST_TMP/home-$name"
		AISH_TEST_SRCDIR="$top_srcdir" AISH_TEST_PLUGIN="$top_srcdir/editors/vim"
		AISH_TEST_BRIDGE="$BRIDGE" AISH_TEST_URL="$URL"
		AISH_TEST_RESULT="$TEST_TMP/$out.result"
		SHARED_DIR="$TEST_TMP/signals" SHARED_NAME="$name" SHARED_PREV="$prev"
		SHARED_LAST="$LAST" SHARED_ALL="$PARTS" SHARED_SOCKET="$SOCKET" SHARED_AI=shared
		SHARED_OUT="$TEST_TMP/$out" SHARED_REOPEN="$reopen")
	mkdir -p "$TEST_TMP/home-$name"
	case $name in
	vim) env "${env[@]}" timeout 90 "$VIM" -Nu NONE -i NONE -es \
		-S "$top_srcdir/tests/vim/shared_chat.vim" > "$TEST_TMP/$out.log" 2>&1 ;;
	nvim) env "${env[@]}" timeout 90 "$NVIM" --headless -u NONE -i NONE -n \
		-S "$top_srcdir/tests/vim/shared_chat.vim" > "$TEST_TMP/$out.log" 2>&1 ;;
	emacs) env "${env[@]}" timeout 90 "$EMACS" --batch -Q \
		-L "$top_srcdir/editors/emacs" -l "$TEST_TMP/shared-chat.el" > "$TEST_TMP/$out.log" 2>&1 ;;
	esac
}

# verdict NAME OUT: the lines the participant wrote, as checks.
verdict() {
	local name=$1 out=$2 line
	if [ -f "$TEST_TMP/$out.result" ]; then
		while IFS= read -r line; do
			case "$line" in
			"ok - "*) ok "$name: ${line#ok - }" ;;
			"not ok - "*) fail "$name: ${line#not ok - }" ;;
			esac
		done < "$TEST_TMP/$out.result"
	fi
	grep -qx done "$TEST_TMP/$out.result" 2>/dev/null ||
		fail "$name ran to the end" "$(tail -c 2000 "$TEST_TMP/$out.log" 2>/dev/null)"
}

# All at once, each in turn.
mkdir -p "$TEST_TMP/signals"
prev=
pids=()
for name in $PARTS; do
	participant "$name" "$prev" "$name.live" &
	pids+=($!)
	prev=$name
done
for pid in "${pids[@]}"; do
	wait "$pid" || true
done
expected=
for name in $PARTS; do
	expected+="[You]
from $name
[From Shared ($SOCKET)]
shared: from $name
"
done
for name in $PARTS; do
	verdict "$name" "$name.live"
	check "$name shows every turn, once, in order" "$(printf %s "$expected")" \
		"$(cat "$TEST_TMP/$name.live" 2>/dev/null)"
done

# Quit, start again, open the chat: the whole conversation.
for name in $PARTS; do
	participant "$name" "" "$name.again" reopen
	verdict "$name reopened" "$name.again"
	check "$name reopened shows the whole conversation" "$(printf %s "$expected")" \
		"$(cat "$TEST_TMP/$name.again" 2>/dev/null)"
done
finish
