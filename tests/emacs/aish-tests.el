;;; aish-tests.el --- Tests of aish.el in a real Emacs  -*- lexical-binding: t; -*-

;;; Commentary:

;; Run by tests/editor-emacs.sh in `emacs --batch -Q' against a real
;; aish-bridge and aish-rhetor with the echo provider.  The environment:
;;   AISH_TEST_BRIDGE  the aish-bridge program
;;   AISH_TEST_URL     the test server
;;   AISH_TEST_SLOW    a socket that answers in 800 ms in 4 chunks
;;   AISH_TEST_SLOWER  a socket that answers in 4 s in 4 chunks (unused:
;;                     see `aish-test--slower')
;; and make the groups "duo" (athena, apollo) and "slowduo" (the slow
;; socket, apollo).

;;; Code:

(require 'ert)
(require 'aish)

(setq aish-bridge-command (list (getenv "AISH_TEST_BRIDGE") "--no-spawn")
      aish-rhetor-url (getenv "AISH_TEST_URL"))

(defun aish-test--wait (pred ms)
  "Let process output in until PRED is true or MS milliseconds pass."
  (let ((end (+ (float-time) (/ ms 1000.0))))
    (while (and (not (funcall pred)) (< (float-time) end))
      (accept-process-output nil 0.02))
    (funcall pred)))

(defun aish-test--slower ()
  "A socket that answers in 4 s in 4 chunks.
Made here, by a name that is no numbered session socket: the server
deletes a socket that a session made once its readers have been gone
for a while (--abandon-ms), which the env's AISH_TEST_SLOWER is after
a slow run's bridges have come and gone."
  (aish-test--create "slower" "slower-emacs" '(:echo (:delay_ms 4000 :chunks 4))))

(defun aish-test--settle (&optional ms)
  "Wait up to MS milliseconds (default 10 s) for every request to end."
  (should (aish-test--wait (lambda () (zerop (aish-busy))) (or ms 10000))))

(defun aish-test--output ()
  "The text of *aish*."
  (with-current-buffer (aish--output-buffer)
    (buffer-substring-no-properties (point-min) (point-max))))

(defmacro aish-test--with-text (text &rest body)
  "Run BODY in a fresh buffer holding TEXT, with *aish* emptied."
  (declare (indent 1))
  `(progn
     (with-current-buffer (aish--output-buffer)
       (let ((inhibit-read-only t)) (erase-buffer)))
     (setq aish-last-error nil aish-last-notice nil)
     (with-temp-buffer
       (insert ,text)
       ,@body)))

(ert-deftest aish-pipe-two-stages ()
  (aish-test--with-text "Design a cache"
    (aish-pipe-region (point-min) (point-max) "athena | apollo")
    (aish-test--settle)
    (should (equal (aish-test--output)
                   (concat "== athena | apollo\n"
                           "[From Athena]\nathena: Design a cache\n"
                           "[From Apollo]\napollo: athena: Design a cache\n")))
    (should-not aish-last-error)))

(ert-deftest aish-pipe-with-instruction ()
  (aish-test--with-text "this are wrong"
    (aish-pipe-region (point-min) (point-max) "apollo fix the grammar")
    (aish-test--settle)
    (should (equal (aish-test--output)
                   (concat "== apollo fix the grammar\n"
                           "[From Apollo]\napollo: fix the grammar\n\n"
                           "this are wrong\n")))
    (should-not aish-last-error)))

(ert-deftest aish-replace ()
  (aish-test--with-text "one\ntwo\nthree\n"
    (goto-char (point-min))
    (forward-line 1)
    (aish-replace-region (point) (line-beginning-position 2) "apollo")
    (aish-test--settle)
    (should (equal (buffer-string) "one\napollo: two\nthree\n"))
    (aish-replace-region (point-min) (point-max) "hermes | numa")
    (aish-test--settle)
    (should (equal (buffer-string) "numa: hermes: one\napollo: two\nthree\n"))
    (should (string-match-p "replaced" aish-last-notice))))

(ert-deftest aish-replace-refused-after-edit ()
  (aish-test--with-text "keep me\ntwo\n"
    (aish-replace-region 1 8 (getenv "AISH_TEST_SLOW"))
    (goto-char 3)
    (insert "X")
    (aish-test--settle)
    (should (equal (buffer-string) "keXep me\ntwo\n"))
    (should (string-match-p "changed meanwhile" aish-last-notice))
    (should (string-match-p "^slow: keep me$" (aish-test--output)))))

(ert-deftest aish-replace-survives-edits-elsewhere ()
  (aish-test--with-text "head\nbody\n"
    (aish-replace-region 6 11 (getenv "AISH_TEST_SLOW"))
    (goto-char (point-min))
    (insert "new first line\n")
    (aish-test--settle)
    (should (equal (buffer-string) "new first line\nhead\nslow: body\n"))))

(ert-deftest aish-replace-into-killed-buffer ()
  (aish-test--with-text ""
    (let ((buffer (generate-new-buffer "aish-doomed")))
      (with-current-buffer buffer
        (insert "doomed text")
        (aish-replace-region (point-min) (point-max) (getenv "AISH_TEST_SLOW")))
      (kill-buffer buffer)
      (aish-test--settle)
      (should-not aish-last-error)
      (should (string-match-p "slow: doomed text" (aish-test--output))))))

(ert-deftest aish-streaming-and-progress ()
  (aish-test--with-text "abcdefghijklmnopqrstuvwxyz"
    (aish-pipe-region (point-min) (point-max) (getenv "AISH_TEST_SLOW"))
    (let ((final "slow: abcdefghijklmnopqrstuvwxyz")
          (partial 0) status)
      (while (and (> (aish-busy) 0) (< partial 1000))
        (let ((out (aish-test--output)))
          (when (and (string-match "\\[From [^]\n]*\\]\n\\(.*\\)\n" out)
                     (let ((seen (match-string 1 out)))
                       (and (> (length seen) 0)
                            (not (equal seen final))
                            (string-prefix-p seen final))))
            (setq partial (1+ partial))))
        (unless status
          (setq status (aish-status))
          (should (member aish--mode-line global-mode-string)))
        (accept-process-output nil 0.01))
      (should (> partial 0))
      (should (string-match-p "slow" status))
      (should (string-suffix-p (concat final "\n") (aish-test--output)))
      (should-not (aish-status))
      (should-not (member aish--mode-line global-mode-string)))))

(ert-deftest aish-labels-name-the-ai ()
  "A stage that names a socket is labelled with its AI's name (SPEC 4)."
  (aish-test--with-text "label me"
    (aish-pipe-region (point-min) (point-max) (getenv "AISH_TEST_SLOW"))
    (aish-test--settle)
    (should (equal (aish-test--output)
                   "== slow-1\n[From Slow (slow-1)]\nslow: label me\n"))))

(ert-deftest aish-team-chat ()
  (aish-test--with-text ""
    (aish-team-chat "is a pipe | a filter?")
    (aish-test--settle 15000)
    (let ((out (aish-test--output)))
      (should (string-prefix-p "== team chat: is a pipe | a filter?\n" out))
      (dolist (ai '("apollo" "athena" "hermes" "sophia" "telos"))
        (should (string-match-p
                 (format "^\\[From %s\\]\n%s: is a pipe | a filter\\?$"
                         (capitalize ai) ai)
                 out)))
      (should (>= (cl-count-if (lambda (l) (string-prefix-p "[From " l))
                               (split-string out "\n"))
                  15)))))

(defun aish-test--labels (out)
  "The section labels of the *aish* text OUT, in order."
  (seq-filter (lambda (l) (string-prefix-p "[From " l)) (split-string out "\n")))

(defun aish-test--section-text (out label)
  "The text of the section LABEL in the *aish* text OUT, or nil.
The text ends at the next label or note, less its final newlines."
  (let ((lines (member label (split-string out "\n"))))
    (when lines
      (string-trim-right
       (mapconcat #'identity
                  (seq-take-while
                   (lambda (l)
                     (not (string-match-p
                           "\\`\\[\\(From \\|timed out\\]\\|error\\]\\)" l)))
                   (cdr lines))
                  "\n")
       "\n+"))))

(ert-deftest aish-team-chat-group ()
  "A team chat with a group answers exactly that group's members."
  (aish-test--with-text ""
    (aish-team-chat "what is a cache?" "duo")
    (aish-test--settle 15000)
    (let ((out (aish-test--output)))
      (should (string-prefix-p "== team chat duo: what is a cache?\n" out))
      (should (equal (sort (aish-test--labels out) #'string<)
                     '("[From Apollo]" "[From Athena]")))
      (should (equal (aish-test--section-text out "[From Apollo]")
                     "apollo: what is a cache?"))
      (should (equal (aish-test--section-text out "[From Athena]")
                     "athena: what is a cache?"))
      (should-not aish-last-error)
      (should (string-match-p "2 replies" aish-last-notice)))))

(ert-deftest aish-team-chat-synthesis ()
  "With SYNTHESIZE, rhetor's synthesis is the block's last section."
  (aish-test--with-text ""
    (aish-team-chat "one word for caching?" "duo" t)
    (aish-test--settle 15000)
    (let* ((out (aish-test--output))
           (labels (aish-test--labels out))
           (text (aish-test--section-text out "[From Rhetor] (synthesis)")))
      (should (string-prefix-p
               "== team chat duo with synthesis: one word for caching?\n" out))
      (should (= (length labels) 3))
      (should (equal (sort (seq-take labels 2) #'string<)
                     '("[From Apollo]" "[From Athena]")))
      (should (equal (nth 2 labels) "[From Rhetor] (synthesis)"))
      (should (string-prefix-p "rhetor: " text))
      (should (string-match-p "apollo: one word for caching\\?" text))
      (should (string-match-p "athena: one word for caching\\?" text))
      (should (equal (aish-test--section-text out "[From Athena]")
                     "athena: one word for caching?"))
      (should-not aish-last-error))))

(ert-deftest aish-team-chat-synthesis-streams ()
  "The synthesis section shows when rhetor begins (progress stage 1)
and stays last while a slow member streams above it."
  (aish-test--with-text ""
    (aish-team-chat "stream me" "slowduo" t)
    (let ((seen 0))
      (while (and (> (aish-busy) 0) (< seen 1000))
        (let* ((out (aish-test--output))
               (partial (aish-test--section-text out "[From Slow (slow-1)]")))
          (when (and (equal (car (last (aish-test--labels out)))
                            "[From Rhetor] (synthesis)")
                     partial (> (length partial) 0)
                     (not (equal partial "slow: stream me")))
            (setq seen (1+ seen))))
        (accept-process-output nil 0.01))
      (should (> seen 0)))
    (aish-test--settle 1000)
    (let* ((out (aish-test--output))
           (labels (aish-test--labels out)))
      (should (equal (append (sort (seq-take labels 2) #'string<) (nthcdr 2 labels))
                     '("[From Apollo]" "[From Slow (slow-1)]" "[From Rhetor] (synthesis)")))
      (should (equal (aish-test--section-text out "[From Slow (slow-1)]") "slow: stream me"))
      (should (string-match-p "\\`rhetor: \\(.\\|\n\\)*\\[slow-1\\] slow: stream me"
                              (aish-test--section-text
                               out "[From Rhetor] (synthesis)"))))))

(ert-deftest aish-team-chat-synthesis-stays-last ()
  "A member section made after the synthesis section goes above it."
  (aish-test--with-text ""
    (let* ((req (aish--req-make :method "aish/teamChat" :title "t"))
           (_ (aish--block-start req))
           (synthesis (aish--synthesis-section req "rhetor")))
      (aish--section-append synthesis "rhetor: x")
      (let ((apollo (aish--section req "0:apollo" "apollo")))
        (aish--section-append apollo "apollo: a\nb")
        (aish--section-set (aish--section req "0:athena" "athena") "athena: 1")
        (aish--section-append apollo "c"))
      (aish--section-set synthesis "rhetor: final\nline")
      (aish--block-note req "[timed out] z")
      (should (equal (aish-test--output)
                     (concat "== t\n[From Apollo]\napollo: a\nbc\n"
                             "[From Athena]\nathena: 1\n"
                             "[From Rhetor] (synthesis)\nrhetor: final\nline\n"
                             "[timed out] z\n"))))))

(ert-deftest aish-team-chat-interactive ()
  "C-u asks for a group; C-u C-u asks for a group and the synthesis."
  (let (sent)
    (cl-letf (((symbol-function 'aish--request)
               (lambda (req params)
                 (setq sent (list (aish--req-title req) params)))))
      (aish-test--with-text ""
        (execute-kbd-macro (kbd "C-u M-x aish-team-chat RET duo RET hello RET"))
        (should (equal sent '("team chat duo: hello"
                              (:message "hello" :group "duo"))))
        (execute-kbd-macro (kbd "C-u C-u M-x aish-team-chat RET duo RET hello RET"))
        (should (equal sent '("team chat duo with synthesis: hello"
                              (:message "hello" :group "duo"
                                        :moderation "synthesis"))))
        (execute-kbd-macro (kbd "M-x aish-team-chat-synthesize RET hi RET"))
        (should (equal sent '("team chat with synthesis: hi"
                              (:message "hi" :moderation "synthesis"))))
        (execute-kbd-macro (kbd "M-x aish-team-chat RET hi RET"))
        (should (equal sent '("team chat: hi" (:message "hi"))))))))

(ert-deftest aish-team-chat-unknown-group ()
  (aish-test--with-text ""
    (should-error (aish-team-chat "  " "duo") :type 'user-error)
    (aish-team-chat "hello" "nosuchgroup")
    (aish-test--settle)
    (should (string-match-p "nosuchgroup" (or aish-last-error "")))
    (should (string-match-p "^\\[error\\] " (aish-test--output)))))

(ert-deftest aish-send ()
  (aish-test--with-text ""
    (aish-send "athena" "hi | there")
    (aish-test--settle)
    (should (equal (aish-test--output)
                   "== send to athena\n[From Athena]\nathena: hi | there\n"))))

(ert-deftest aish-list ()
  (aish-test--with-text ""
    (aish-list)
    (aish-test--settle)
    (let ((out (aish-test--output)))
      (should (string-match-p "^SOCKET " out))
      (should (string-match-p "^apollo +apollo " out)))))

(ert-deftest aish-cancel ()
  (aish-test--with-text "cancel me"
    (aish-pipe-region (point-min) (point-max) (aish-test--slower))
    (should (aish-test--wait (lambda () (aish-status)) 2000))
    (sleep-for 0.3)
    (let ((start (float-time)))
      (aish-cancel)
      (aish-test--settle 3000)
      (should (< (- (float-time) start) 2.5)))
    (should (string-suffix-p "[cancelled]\n" (aish-test--output)))
    (should (string-match-p "cancelled" aish-last-notice))
    (should-not aish-last-error)))

(ert-deftest aish-multibyte ()
  (let ((text "héllo wörld — ✓ 日本語 😀\nünïcödé ∑ ﬁ e\u0301"))
    (aish-test--with-text text
      (aish-pipe-region (point-min) (point-max) "apollo")
      (aish-test--settle)
      (should (equal (aish-test--output)
                     (concat "== apollo\n[From Apollo]\napollo: " text "\n")))
      (aish-replace-region (point-min) (point-max) "athena")
      (aish-test--settle)
      (should (equal (buffer-string) (concat "athena: " text))))))

(ert-deftest aish-one-megabyte-region ()
  (let ((text (mapconcat (lambda (i) (format "%05d %s\n" i (make-string 57 ?x)))
                         (number-sequence 0 16383) "")))
    (should (= (length text) 1048576))
    (aish-test--with-text text
      (aish-replace-region (point-min) (point-max) "apollo")
      (aish-test--settle 60000)
      (should-not aish-last-error)
      (should (equal (buffer-string) (concat "apollo: " text)))
      (aish-pipe-region (point-min) (point-max) "athena")
      (aish-test--settle 60000)
      (should (equal (aish-test--output)
                     (concat "== athena\n[From Athena]\nathena: apollo: "
                             text))))))

(ert-deftest aish-unknown-ai ()
  (aish-test--with-text "x"
    (aish-pipe-region (point-min) (point-max) "apolo")
    (aish-test--settle)
    (should (string-match-p "unknown AI \"apolo\" (did you mean apollo\\?)"
                            aish-last-error))
    (should (string-match-p "^\\[error\\] " (aish-test--output)))))

(ert-deftest aish-bad-pipeline-argument ()
  (aish-test--with-text "x"
    (should-error (aish-pipe-region (point-min) (point-max) "athena | | apollo")
                  :type 'user-error)
    (should-error (aish-replace-region (point-min) (point-max) "  ")
                  :type 'user-error)
    (should (zerop (aish-busy)))))

(ert-deftest aish-server-down ()
  (aish-stop)
  (let ((aish-rhetor-url "http://127.0.0.1:1"))
    (unwind-protect
        (aish-test--with-text "x"
          (aish-pipe-region (point-min) (point-max) "apollo")
          (aish-test--settle 15000)
          (should (string-match-p "unreachable\\|reach\\|connect\\|refused"
                                  (or aish-last-error "")))
          (should (string-match-p "^\\[error\\] " (aish-test--output))))
      (aish-stop))))

(ert-deftest aish-bridge-missing ()
  (aish-stop)
  (let ((aish-bridge-command '("/nonexistent/aish-bridge")))
    (aish-test--with-text "x"
      (should-error (aish-pipe-region (point-min) (point-max) "apollo")
                    :type 'user-error)
      (should (zerop (aish-busy))))))

(ert-deftest aish-log-has-messages ()
  (aish-test--with-text "log me"
    (aish-pipe-region (point-min) (point-max) "apollo")
    (aish-test--settle)
    (aish-log)
    (with-current-buffer aish-log-buffer-name
      (should (string-match-p "message from apollo .*apollo: log me"
                              (buffer-string))))))



;;;; Output that follows, and survives edits

(defun aish-test--create (ai &optional socket-id context)
  "Make a socket of AI (SOCKET-ID, echo CONTEXT) through the bridge."
  (condition-case err
      (plist-get (jsonrpc-request (aish--ensure) 'aish/create
                                  (append (list :ai_name ai)
                                          (and socket-id (list :socket_id socket-id))
                                          (and context (list :context context))))
                 :socket_id)
    (jsonrpc-error
     ;; A second run against one server: the socket is there already.
     (if (and socket-id (string-match-p "already exists" (aish--condition-text err)))
         socket-id
       (signal (car err) (cdr err))))))

(defun aish-test--section-end-of (label)
  "The position in *aish* just after the text of the last section LABEL."
  (with-current-buffer (aish--output-buffer)
    (save-excursion
      (goto-char (point-max))
      (search-backward (concat label "\n"))
      (forward-line 1)
      (search-forward "\n" nil t)
      (1- (point)))))

(ert-deftest aish-output-follows-in-a-window-not-selected ()
  "A window at the end of *aish* follows the text as it streams,
selected or not; one whose point was moved away stays."
  (aish-test--with-text "follow me please"
    (delete-other-windows)
    (let ((source (selected-window)))
      (aish-pipe-region (point-min) (point-max) (getenv "AISH_TEST_SLOW"))
      (let ((out (get-buffer-window (aish--output-buffer))))
        (should out)
        (should-not (eq out (selected-window)))
        (should (eq source (selected-window)))
        (let ((moves 0) (last nil))
          (while (> (aish-busy) 0)
            (accept-process-output nil 0.01)
            (let ((wp (window-point out)))
              (unless (eql wp last)
                (setq moves (1+ moves) last wp))
              (with-current-buffer (aish--output-buffer)
                ;; Always at the end of the newest text: the end of the
                ;; buffer before the section comes, then the end of the
                ;; section's text, before its final newline.
                (should (>= wp (1- (point-max)))))))
          (should (> moves 2))
          (should (= (window-point out)
                     (aish-test--section-end-of "[From Slow (slow-1)]"))))
        ;; Now the user moves away: the window stays where it was put.
        (aish-pipe-region (point-min) (point-max) (getenv "AISH_TEST_SLOW"))
        (aish-test--wait (lambda () (string-match-p "slow: f" (aish-test--output))) 3000)
        (set-window-point out 1)
        (aish-test--settle)
        (should (= (window-point out) 1))
        (should (string-suffix-p "slow: follow me please\n" (aish-test--output)))))))

(ert-deftest aish-output-edited-mid-stream ()
  "Erasing or editing *aish* while a reply streams raises no error and
the rest of the reply still arrives."
  (aish-test--with-text "abcdefghijklmnopqrstuvwxyz0123456789"
    (let ((errors 0))
      (cl-letf (((symbol-function 'aish--error)
                 (lambda (&rest _) (setq errors (1+ errors)))))
        (aish-pipe-region (point-min) (point-max) (getenv "AISH_TEST_SLOW"))
        (should (aish-test--wait
                 (lambda () (string-match-p "slow: a" (aish-test--output))) 3000))
        (with-current-buffer (aish--output-buffer)
          (read-only-mode -1)
          (execute-kbd-macro (kbd "C-x h C-w"))
          (should (equal (buffer-string) "")))
        (should (aish-test--wait (lambda () (> (length (aish-test--output)) 0)) 3000))
        (with-current-buffer (aish--output-buffer)
          (goto-char (point-min))
          (insert "typed by the user\n"))
        (aish-test--settle)
        (with-current-buffer (aish--output-buffer) (read-only-mode 1))
        (let ((out (aish-test--output)))
          (should (string-prefix-p "typed by the user\n" out))
          (should (string-suffix-p "0123456789\n" out)))
        (should (= errors 0))))))

;;;; Completion, errors, labels

(defun aish-test--names-ready ()
  "Fill the name cache and wait for it."
  (aish--refresh-names t)
  (should (aish-test--wait (lambda () (member "apollo" (aish-ai-names))) 3000)))

(ert-deftest aish-completion-in-the-minibuffer ()
  "TAB completes AI names at the start of each stage (not in the
instruction) and group names; typing a space inserts a space."
  (aish-test--names-ready)
  (should (member "duo" (aish-group-names)))
  (should-not (member "team-chat-all" (aish-ai-names)))
  (aish-test--with-text "complete me"
    (switch-to-buffer (current-buffer))
    (transient-mark-mode 1)
    (execute-kbd-macro
     (kbd "M-< C-SPC C-e M-x aish-pipe-region RET ath TAB SPC review SPC th TAB SPC | SPC apol TAB RET"))
    (aish-test--settle)
    (should (string-prefix-p "== athena review th | apollo\n" (aish-test--output)))
    (should (string-match-p "^apollo: athena: review th\n\ncomplete me$"
                            (aish-test--output))))
  (let (sent)
    (cl-letf (((symbol-function 'aish--request)
               (lambda (req params) (setq sent (list (aish--req-title req) params)))))
      (execute-kbd-macro (kbd "C-u M-x aish-team-chat RET du TAB RET hi RET"))
      (should (equal sent '("team chat duo: hi" (:message "hi" :group "duo"))))
      (execute-kbd-macro (kbd "M-x aish-send RET hermes TAB RET yo RET"))
      (should (equal (cadr sent) '(:ai "hermes" :content "yo"))))))

(ert-deftest aish-completion-never-waits ()
  "A prompt with an empty cache opens at once; the names come later."
  (aish-test--with-text "x"
    (setq aish--sockets nil aish--sockets-time nil)
    (let ((start (float-time)) sent)
      (cl-letf (((symbol-function 'aish--request)
                 (lambda (_req params) (setq sent params))))
        (execute-kbd-macro (kbd "M-x aish-pipe-region RET apollo RET")))
      (should (< (- (float-time) start) 0.5))
      (should (equal (plist-get sent :pipeline) "apollo")))
    (should (aish-test--wait (lambda () (member "apollo" (aish-ai-names))) 3000))))

(defun aish-test--echoed (thunk)
  "The messages shown while THUNK runs and requests settle."
  (let (shown)
    (cl-letf* ((real (symbol-function 'message))
               ((symbol-function 'message)
                (lambda (fmt &rest args)
                  (when fmt (push (apply #'format fmt args) shown))
                  (apply real fmt args))))
      (funcall thunk)
      (aish-test--settle))
    (nreverse shown)))

(ert-deftest aish-errors-are-one-short-line ()
  "An error is one line that fits the echo area; the whole is logged."
  (aish-test--with-text "x"
    (let* ((shown (aish-test--echoed
                   (lambda () (aish-pipe-region (point-min) (point-max)
                                                "athena | nosuchai-with-a-long-name"))))
           (line (car (last shown))))
      (should (string-match-p "unknown AI \"nosuchai" line))
      (should-not (string-match-p "\n" line))
      (should (<= (string-width line) (frame-width)))
      (with-current-buffer aish-log-buffer-name
        (should (string-match-p ":known \\[.*\"apollo\"" (buffer-string)))))))

(ert-deftest aish-unknown-group-says-group ()
  (aish-test--with-text ""
    (aish-team-chat "hello" "nosuchgroup")
    (aish-test--settle)
    (should (string-match-p "unknown group \"nosuchgroup\"" aish-last-error))
    (should-not (string-match-p "team-chat-nosuchgroup" aish-last-error))))

(ert-deftest aish-two-sockets-of-one-ai-labelled-apart ()
  (aish-test--create "apollo" "apollo-2")
  (aish-test--with-text "twice"
    (aish-pipe-region (point-min) (point-max) "apollo | apollo-2")
    (aish-test--settle)
    (should (equal (aish-test--output)
                   (concat "== apollo | apollo-2\n"
                           "[From Apollo]\napollo: twice\n"
                           "[From Apollo (apollo-2)]\napollo: apollo: twice\n")))))

;;;; The bridge, cancelling, one-shot, time

(ert-deftest aish-killed-bridge ()
  "A killed bridge is one clear message; the next command starts a new one."
  (aish-test--with-text "x"
    (aish-pipe-region (point-min) (point-max) (aish-test--slower))
    (should (aish-test--wait (lambda () (aish-status)) 2000))
    (let ((shown (aish-test--echoed
                  (lambda ()
                    (signal-process (jsonrpc--process aish--connection) 9)
                    (aish-test--wait (lambda () (null aish--connection)) 3000)))))
      (should (cl-some (lambda (m)
                         (string-match-p
                          "\\`aish: aish-bridge killed (signal 9), 1 request failed; next command restarts it\\'"
                          m))
                       shown))
      (should (= 1 (cl-count-if (lambda (m) (string-match-p "killed" m)) shown))))
    (should (string-match-p "^\\[error\\] aish-bridge exited" (aish-test--output)))
    (aish-pipe-region (point-min) (point-max) "apollo")
    (aish-test--settle)
    (should (string-suffix-p "[From Apollo]\napollo: x\n" (aish-test--output)))))

(ert-deftest aish-cancel-newest-or-all ()
  (aish-test--with-text "cancel"
    (aish-pipe-region (point-min) (point-max) (getenv "AISH_TEST_SLOW"))
    (aish-pipe-region (point-min) (point-max) (aish-test--slower))
    (should (aish-test--wait (lambda () (= (aish-busy) 2)) 1000))
    (aish-cancel)
    (aish-test--settle 3000)
    (let ((out (aish-test--output)))
      (should (string-match-p "slow: cancel\n" out))
      (should (string-suffix-p "[cancelled]\n" out))
      (should (= 1 (cl-count-if (lambda (l) (equal l "[cancelled]"))
                                (split-string out "\n")))))
    (aish-pipe-region (point-min) (point-max) (aish-test--slower))
    (aish-pipe-region (point-min) (point-max) (aish-test--slower))
    (should (aish-test--wait (lambda () (= (aish-busy) 2)) 1000))
    (execute-kbd-macro (kbd "C-u M-x aish-cancel RET"))
    (aish-test--settle 3000)
    (should (= 3 (cl-count-if (lambda (l) (equal l "[cancelled]"))
                              (split-string (aish-test--output) "\n"))))))

(defun aish-test--sent-params (thunk)
  "The params of every request THUNK sends, method first."
  (let (sent)
    (cl-letf* ((real (symbol-function 'jsonrpc-async-request))
               ((symbol-function 'jsonrpc-async-request)
                (lambda (conn method params &rest args)
                  (push (cons method params) sent)
                  (apply real conn method params args))))
      (funcall thunk)
      (aish-test--settle))
    sent))

(defun aish-test--history-length (socket)
  "How many turns the server keeps for SOCKET."
  (length (plist-get (jsonrpc-request (aish--ensure) 'aish/history
                                      (list :socket_id socket))
                     :turns)))

(ert-deftest aish-one-shot-unless-keep-history ()
  "Commands on a region send fresh: t, and the AI's history does not
grow; with `aish-keep-history' they join the conversation."
  (let ((socket (aish-test--create "oneshot")))
    (aish-test--with-text "alone"
      (let ((sent (aish-test--sent-params
                   (lambda () (aish-pipe-region (point-min) (point-max) socket)))))
        (should (eq t (plist-get (cdr (assq 'aish/pipeline sent)) :fresh))))
      (should (= 0 (aish-test--history-length socket)))
      (let* ((aish-keep-history t)
             (sent (aish-test--sent-params
                    (lambda () (aish-send socket "remember me")))))
        (should (eq :json-false (plist-get (cdr (assq 'aish/send sent)) :fresh))))
      (should (= 2 (aish-test--history-length socket))))))

(ert-deftest aish-timeout-is-the-silence-limit ()
  "`aish-timeout' goes as timeout_ms; a gap longer than it fails."
  (aish-test--with-text "slowly"
    (let* ((aish-timeout 0.3)
           (sent (aish-test--sent-params
                  (lambda () (aish-pipe-region (point-min) (point-max)
                                               (aish-test--slower))))))
      (should (= 300 (plist-get (cdr (assq 'aish/pipeline sent)) :timeout_ms)))
      (should (string-match-p "timed out\\|no reply\\|silent\\|timeout" aish-last-error)))
    (let ((aish-timeout 5))
      (aish-pipe-region (point-min) (point-max) (aish-test--slower))
      (aish-test--settle 8000)
      (should (string-suffix-p "slower: slowly\n" (aish-test--output))))))

;;;; Replace follows the region

(ert-deftest aish-replace-with-typing-around ()
  "Typing just before and after the region, and elsewhere, while a
replace runs is fine; only the region's own text counts."
  (aish-test--with-text "before\nTARGET\nafter\n"
    (aish-replace-region 8 15 (getenv "AISH_TEST_SLOW"))
    (goto-char 8) (insert "<")
    (goto-char (+ 8 1 7)) (insert ">")
    (goto-char (point-max)) (insert "more\n")
    (goto-char (point-min)) (insert "top\n")
    (aish-test--settle)
    (should (equal (buffer-string) "top\nbefore\n<slow: TARGET\n>after\nmore\n"))))

;;;; Propose, accept, reject

(defun aish-test--propose-and-wait (beg end pipeline &optional group)
  "Propose BEG..END through PIPELINE (or to GROUP); wait for the diff."
  (aish-propose-region beg end pipeline group)
  (let ((proposal (car aish--proposals)))
    (aish-test--settle)
    (should (buffer-live-p (aish--proposal-diff proposal)))
    proposal))

(defun aish-test--diff-text (proposal)
  "The text of PROPOSAL's diff buffer."
  (with-current-buffer (aish--proposal-diff proposal)
    (buffer-substring-no-properties (point-min) (point-max))))

(ert-deftest aish-propose-that-fails-closes ()
  "A proposal whose request fails leaves no proposal buffer or window
behind; the error is one line in the echo area."
  (aish-test--with-text "some text\n"
    (delete-other-windows)
    (switch-to-buffer (current-buffer))
    (should-not (aish-propose-region 1 5 "nosuchai"))
    (aish-test--settle)
    (should-not (seq-find (lambda (b) (string-prefix-p "*aish-proposal" (buffer-name b)))
                          (buffer-list)))
    (should-not aish--proposals)
    (should (= 1 (length (window-list))))
    (should (string-match-p "nosuchai" aish-last-error))
    (should-not (string-match-p "\n" aish-last-error))
    (should (equal (buffer-string) "some text\n"))))

(ert-deftest aish-commands-return-nothing ()
  "Commands called from Lisp (as M-: does) return nil, not the request."
  (aish-test--with-text "return nothing"
    (should-not (aish-pipe-region (point-min) (point-max) "apollo"))
    (should-not (aish-replace-region (point-min) (point-max) "apollo"))
    (should-not (aish-send "apollo" "hi"))
    (should-not (aish-team-chat "hi" "duo"))
    (should-not (aish-list))
    (should-not (aish-log))
    (aish-test--settle)))

(ert-deftest aish-propose-accept-from-the-source ()
  "The proposal streams into a buffer, then a diff-mode buffer shows
it against the region; `aish-accept' in the source applies it, and
edits elsewhere in the buffer meanwhile are fine."
  (aish-test--with-text "head\none\ntwo\ntail\n"
    (switch-to-buffer (current-buffer))
    (aish-propose-region 6 14 (getenv "AISH_TEST_SLOW"))
    (let ((proposal (car aish--proposals))
          (streamed nil))
      (while (> (aish-busy) 0)
        (let ((text (with-current-buffer (aish--proposal-buffer proposal)
                      (buffer-string))))
          (when (string-match "\\[From Slow (slow-1)\\]\n\\(sl.*\\)" text)
            (unless (equal (match-string 1 text) "slow: one") (setq streamed t))))
        (accept-process-output nil 0.01))
      (should streamed)
      (goto-char (point-min)) (insert "new top\n")
      (aish-test--settle)
      (let ((diff (aish-test--diff-text proposal)))
        (should (string-match-p "^-one\n\\+slow: one\n two\n" diff))
        (with-current-buffer (aish--proposal-diff proposal)
          (should (derived-mode-p 'diff-mode))))
      (should (equal (buffer-string) "new top\nhead\none\ntwo\ntail\n"))
      (execute-kbd-macro (kbd "M-x aish-accept RET"))
      (should (equal (buffer-string) "new top\nhead\nslow: one\ntwo\ntail\n"))
      (should-not (buffer-live-p (aish--proposal-diff proposal)))
      (should-not aish--proposals))))

(ert-deftest aish-propose-reject-and-refuse ()
  "C-c C-k in the diff drops the proposal; a region that changed
refuses the proposal."
  (aish-test--with-text "alpha\nbeta\n"
    (let ((proposal (aish-test--propose-and-wait 1 7 "apollo"))
          (source (current-buffer)))
      (with-current-buffer (aish--proposal-diff proposal)
        (switch-to-buffer (current-buffer))
        (execute-kbd-macro (kbd "C-c C-k")))
      (with-current-buffer source
        (should (equal (buffer-string) "alpha\nbeta\n")))
      (should-not aish--proposals)
      (switch-to-buffer source))
    (let ((proposal (aish-test--propose-and-wait 1 7 "apollo")))
      (goto-char 2) (insert "X")
      (should-error (aish-accept) :type 'user-error)
      (should (memq proposal aish--proposals))
      (aish-reject)
      (should (equal (buffer-string) "aXlpha\nbeta\n")))))

(ert-deftest aish-propose-hunk-by-hunk ()
  "The proposal may be edited; hunks are taken one at a time (C-c C-a)
or dropped (M-k) before C-c C-c applies the rest."
  (let ((text (mapconcat (lambda (i) (format "line %02d\n" i)) (number-sequence 1 20) "")))
    (aish-test--with-text text
      (let ((proposal (aish-test--propose-and-wait (point-min) (point-max) "apollo"))
            (source (current-buffer)))
        ;; Edit the proposal: change line 10 and line 20 too, diff again.
        (with-current-buffer (aish--proposal-buffer proposal)
          (switch-to-buffer (current-buffer))
          (goto-char (point-min))
          (search-forward "line 10") (replace-match "LINE 10")
          (search-forward "line 20") (replace-match "LINE 20")
          (execute-kbd-macro (kbd "C-c C-d")))
        (with-current-buffer (aish--proposal-diff proposal)
          (switch-to-buffer (current-buffer))
          (should (= 3 (how-many "^@@" (point-min) (point-max))))
          ;; Take the LINE 10 hunk alone, drop the first one, accept the rest.
          (goto-char (point-min))
          (search-forward "+LINE 10")
          (execute-kbd-macro (kbd "C-c C-a"))
          (with-current-buffer source
            (should (string-match-p "^LINE 10$" (buffer-string)))
            (should (string-match-p "^line 01$" (buffer-string))))
          (goto-char (point-min))
          (search-forward "+apollo: line 01")
          (execute-kbd-macro (kbd "M-k"))
          (execute-kbd-macro (kbd "C-c C-c")))
        (switch-to-buffer source)
        (should (equal (buffer-string)
                       (replace-regexp-in-string
                        "line 20" "LINE 20"
                        (replace-regexp-in-string "line 10" "LINE 10" text))))))))

(ert-deftest aish-propose-with-a-group ()
  "With a group, each member's answer is a proposal: accept takes the
one at point in the diff."
  (aish-test--with-text "pick one\n"
    (let ((proposal (aish-test--propose-and-wait (point-min) (point-max) "rewrite" "duo"))
          (source (current-buffer)))
      (let ((diff (aish-test--diff-text proposal)))
        (should (string-match-p "^\\+\\+\\+ Athena\n" diff))
        (should (string-match-p "^\\+\\+\\+ Apollo\n" diff))
        (should (string-match-p "^\\+athena: rewrite$" diff)))
      (with-current-buffer (aish--proposal-diff proposal)
        (switch-to-buffer (current-buffer))
        (goto-char (point-min))
        (search-forward "+++ Athena")
        (forward-line 2)
        (execute-kbd-macro (kbd "C-c C-c")))
      (switch-to-buffer source)
      (should (equal (buffer-string) "athena: rewrite\n\npick one\n")))))

;;;; Context

(ert-deftest aish-context-attach-list-clear ()
  "Attached buffers go with the next requests as context items; the
mode line shows them; `aish-context' lists and clears."
  (unwind-protect
      (let ((notes (get-buffer-create "notes.c")))
        (with-current-buffer notes
          (switch-to-buffer notes)
          (erase-buffer)
          (insert "int hits;\n")
          (c-mode)
          (execute-kbd-macro (kbd "M-x aish-add RET")))
        (should (equal (aish--context-mode-line-string) " [aish: notes.c]"))
        (should (string-match-p "attached notes.c" aish-last-notice))
        (with-current-buffer notes (insert "int misses;\n"))
        (aish-test--with-text "review this"
          (aish-pipe-region (point-min) (point-max) "apollo")
          (aish-test--settle)
          (should (string-suffix-p
                   "apollo: notes.c\n```c\nint hits;\nint misses;\n```\n\nreview this\n"
                   (aish-test--output))))
        (execute-kbd-macro (kbd "M-x aish-context RET"))
        (should (string-match-p "context: notes.c" aish-last-notice))
        (execute-kbd-macro (kbd "C-u M-x aish-context RET"))
        (should-not aish-context-items)
        (should-not (aish--context-mode-line-string))
        (aish-test--with-text "bare"
          (aish-pipe-region (point-min) (point-max) "apollo")
          (aish-test--settle)
          (should (string-suffix-p "[From Apollo]\napollo: bare\n" (aish-test--output)))))
    (setq aish-context-items nil)
    (kill-buffer "notes.c")))

;;;; Chat

(defun aish-test--chat-text (buffer)
  "The conversation in the chat BUFFER, above its prompt line."
  (with-current-buffer buffer
    (buffer-substring-no-properties (point-min) aish-chat--end)))

(ert-deftest aish-chat-send-reopen ()
  "C-c C-c sends the prompt area and clears it, the reply streams in;
a reopened chat shows the whole conversation from the server."
  (let* ((socket (aish-test--create "chatty" nil '(:echo (:delay_ms 400 :chunks 4))))
         (buffer (aish-chat socket)))
    (should (equal (buffer-name buffer) (format "*aish-chat %s*" socket)))
    (should (aish-test--wait (lambda () (buffer-local-value 'aish-chat--loaded buffer)) 3000))
    (with-current-buffer buffer
      (switch-to-buffer buffer)
      (execute-kbd-macro (kbd "h e l l o SPC t h e r e C-c C-c"))
      (should (equal (buffer-substring-no-properties aish-chat--prompt (point-max)) ""))
      (let ((partial nil))
        (while (> (aish-busy) 0)
          (when (string-match-p "chatty: h[^\n]*\n\\'" (aish-test--chat-text buffer))
            (unless (string-match-p "chatty: hello there\n\\'" (aish-test--chat-text buffer))
              (setq partial t)))
          (accept-process-output nil 0.01))
        (should partial))
      (execute-kbd-macro (kbd "s e c o n d C-c C-c"))
      (aish-test--settle))
    (let ((expected (format "[You]\nhello there\n[From Chatty (%s)]\nchatty: hello there\n[You]\nsecond\n[From Chatty (%s)]\nchatty: second\n"
                            socket socket)))
      (should (equal (aish-test--chat-text buffer) expected))
      (kill-buffer buffer)
      ;; As after quitting Emacs: a new bridge, the history from the server.
      (aish-stop)
      (setq buffer (aish-chat socket))
      (should (aish-test--wait (lambda () (buffer-local-value 'aish-chat--loaded buffer)) 3000))
      (should (equal (aish-test--chat-text buffer) expected))
      (kill-buffer buffer))))

(defun aish-test--peer-form (socket out)
  "What another Emacs runs: open the chat of SOCKET, say \"ready\",
wait for a reply from the first Emacs, write the chat to OUT."
  `(progn
     (require 'aish)
     (setq aish-bridge-command ',aish-bridge-command
           aish-rhetor-url ,aish-rhetor-url)
     (let ((b (aish-chat ,socket))
           (end (+ (float-time) 20)))
       (while (and (not (buffer-local-value 'aish-chat--loaded b))
                   (< (float-time) end))
         (accept-process-output nil 0.02))
       (message "ready")
       (while (and (not (string-match-p "from the first\n"
                                        (with-current-buffer b (buffer-string))))
                   (< (float-time) end))
         (accept-process-output nil 0.02))
       (with-temp-file ,out
         (insert (with-current-buffer b
                   (buffer-substring-no-properties (point-min) aish-chat--end)))))))

(ert-deftest aish-chat-live-in-two-emacsen ()
  "A chat open in another Emacs shows the turns sent from this one."
  (let* ((socket (aish-test--create "shared"))
         (out (make-temp-file "aish-chat-peer"))
         (peer (make-process
                :name "aish-peer" :connection-type 'pipe :noquery t
                :buffer (generate-new-buffer " *aish-peer*")
                :command
                (list (expand-file-name invocation-name invocation-directory)
                      "--batch" "-Q" "-L" (file-name-directory (locate-library "aish"))
                      "--eval" (format "%S" (aish-test--peer-form socket out))))))
    (unwind-protect
        (progn
          (unless (aish-test--wait
                   (lambda () (with-current-buffer (process-buffer peer)
                                (string-match-p "ready" (buffer-string))))
                   15000)
            (error "The other Emacs did not start: %s"
                   (with-current-buffer (process-buffer peer) (buffer-string))))
          (let ((buffer (aish-chat socket)))
            (should (aish-test--wait (lambda () (buffer-local-value 'aish-chat--loaded buffer)) 3000))
            (with-current-buffer buffer
              (goto-char (point-max))
              (insert "from the first")
              (aish-chat-send))
            (aish-test--settle)
            (should (aish-test--wait (lambda () (not (process-live-p peer))) 15000))
            (let ((seen (with-temp-buffer (insert-file-contents out) (buffer-string))))
              (should (string-match-p (format "\\[From Shared (%s)\\]\nshared: from the first\n"
                                              (regexp-quote socket))
                                      seen)))
            (kill-buffer buffer)))
      (when (process-live-p peer) (delete-process peer))
      (delete-file out))))

(ert-deftest aish-chat-with-a-team ()
  "A chat with a group: each member answers; reopening shows it."
  (let ((buffer (aish-chat "-g duo")))
    (should (equal (buffer-name buffer) "*aish-chat team-chat-duo*"))
    (should (aish-test--wait (lambda () (buffer-local-value 'aish-chat--loaded buffer)) 3000))
    (with-current-buffer buffer
      (goto-char (point-max))
      (insert "team question")
      (aish-chat-send))
    (aish-test--settle)
    (let ((text (aish-test--chat-text buffer)))
      (should (string-match-p "\\[You\\]\nteam question\n" text))
      (should (string-match-p "\\[From Athena\\]\nathena: team question\n" text))
      (should (string-match-p "\\[From Apollo\\]\napollo: team question\n" text)))
    (kill-buffer buffer)
    (setq buffer (aish-chat nil "duo"))
    (should (aish-test--wait (lambda () (buffer-local-value 'aish-chat--loaded buffer)) 3000))
    (let ((text (aish-test--chat-text buffer)))
      (should (= 1 (cl-count-if (lambda (l) (equal l "team question"))
                                (split-string text "\n"))))
      (should (string-match-p "\\[From Athena\\]\nathena: team question\n" text))
      (should (string-match-p "\\[From Apollo\\]\napollo: team question\n" text)))
    (kill-buffer buffer)))

(defun aish-test--other-editor (messages)
  "Another editor: a second aish-bridge sent MESSAGES (plists), one a
line, then the end of its input; it answers them all and exits."
  (let ((proc (make-process
               :name "aish-other" :connection-type 'pipe :noquery t
               :buffer (generate-new-buffer " *aish-other*")
               :command (list (getenv "AISH_TEST_BRIDGE") "--no-spawn"
                              "--rhetor" aish-rhetor-url))))
    (dolist (m messages)
      (process-send-string proc (concat (json-serialize m) "\n")))
    (process-send-eof proc)
    proc))

(defun aish-test--other-send (socket text)
  "Another editor asks SOCKET TEXT as part of its conversation."
  (aish-test--other-editor
   (list '(:jsonrpc "2.0" :id 1 :method "initialize" :params (:client_info (:name "other")))
         `(:jsonrpc "2.0" :id 2 :method "aish/send"
                    :params (:socket_id ,socket :content ,text :fresh :false)))))

(defun aish-test--open-chat (socket)
  "Open the chat of SOCKET and wait until it shows its conversation."
  (let ((buffer (aish-chat socket)))
    (should (aish-test--wait (lambda () (buffer-local-value 'aish-chat--loaded buffer)) 3000))
    buffer))

(ert-deftest aish-chat-group-typed-at-the-prompt ()
  "\"-g duo\" typed at the prompt of M-x aish-chat (SPC is a space
there) opens the team chat; TAB completes \"-g d\" to it."
  (execute-kbd-macro (kbd "M-x aish-chat RET - g SPC d u o RET"))
  (let ((buffer (get-buffer "*aish-chat team-chat-duo*")))
    (should buffer)
    (should (aish-test--wait (lambda () (buffer-local-value 'aish-chat--loaded buffer)) 3000))
    (kill-buffer buffer))
  (should (aish-test--wait (lambda () (member "duo" (aish-group-names))) 3000))
  (execute-kbd-macro (kbd "M-x aish-chat RET - g SPC d TAB RET"))
  (let ((buffer (get-buffer "*aish-chat team-chat-duo*")))
    (should buffer)
    (should (aish-test--wait (lambda () (buffer-local-value 'aish-chat--loaded buffer)) 3000))
    (kill-buffer buffer)))

(ert-deftest aish-chat-unknown-ai-or-group ()
  "A chat with an unknown AI or group closes, saying so on one line."
  (setq aish-last-error nil)
  (let ((buffer (aish-chat "nosuchai")))
    (should (aish-test--wait (lambda () (not (buffer-live-p buffer))) 3000))
    (should (equal aish-last-error
                   "aish: unknown AI \"nosuchai\" (M-x aish-list lists the AI sockets)")))
  (let ((buffer (aish-chat nil "nosuchgroup")))
    (should (aish-test--wait (lambda () (not (buffer-live-p buffer))) 3000))
    (should (equal aish-last-error
                   "aish: unknown group \"nosuchgroup\" (or one without members)"))))

(ert-deftest aish-chat-own-question-with-context-once ()
  "A question sent with context shows once: the bridge tells it back
with the context blocks in front."
  (let* ((socket (aish-test--create "ctx"))
         (aish-context-items (list (list :name "notes.txt" :text "some notes")))
         (buffer (aish-test--open-chat socket)))
    (with-current-buffer buffer
      (goto-char (point-max))
      (insert "with context")
      (aish-chat-send))
    (aish-test--settle)
    (should (equal (aish-test--chat-text buffer)
                   (format "[You]\nwith context\n[From Ctx (%s)]\nctx: notes.txt\n```\nsome notes\n```\n\nwith context\n"
                           socket)))
    (kill-buffer buffer)))

(ert-deftest aish-chat-streams-another-editors-reply ()
  "A reply another editor asked for streams into the chat as it comes
\(aish/delta), then shows whole, once."
  (let* ((socket (aish-test--create "afar" nil '(:echo (:delay_ms 1200 :chunks 4))))
         (buffer (aish-test--open-chat socket))
         (other (aish-test--other-send socket "from afar"))
         (final (format "[You]\nfrom afar\n[From Afar (%s)]\nafar: from afar\n" socket))
         (partial nil))
    (unwind-protect
        (progn
          (while (and (process-live-p other)
                      (not (equal (aish-test--chat-text buffer) final)))
            (let ((text (aish-test--chat-text buffer)))
              (when (and (string-match "\\[From Afar[^\n]*\n\\(.*\\)\n" text)
                         (let ((seen (match-string 1 text)))
                           (and (> (length seen) 0)
                                (not (equal seen "afar: from afar")))))
                (setq partial t)))
            (accept-process-output nil 0.01))
          (should partial)
          (should (aish-test--wait (lambda () (equal (aish-test--chat-text buffer) final)) 3000))
          (should (aish-test--wait (lambda () (not (process-live-p other))) 5000))
          (should (equal (aish-test--chat-text buffer) final)))
      (when (process-live-p other) (delete-process other))
      (kill-buffer buffer))))

(ert-deftest aish-chat-leaves-out-one-shot-replies ()
  "The reply to a one-shot request on the chat's socket is no turn."
  (let* ((socket (aish-test--create "oneshot" nil '(:echo (:delay_ms 300 :chunks 3))))
         (buffer (aish-test--open-chat socket)))
    (aish-test--with-text ""
      (aish-send socket "just once")
      (aish-test--settle)
      (should (string-suffix-p "oneshot: just once\n" (aish-test--output))))
    (let ((other (aish-test--other-editor
                  (list '(:jsonrpc "2.0" :id 1 :method "initialize" :params (:client_info (:name "other")))
                        `(:jsonrpc "2.0" :id 2 :method "aish/send"
                                   :params (:socket_id ,socket :content "theirs once"))))))
      (should (aish-test--wait (lambda () (not (process-live-p other))) 5000)))
    (accept-process-output nil 0.2)
    (should (equal (aish-test--chat-text buffer) ""))
    (kill-buffer buffer)))

(ert-deftest aish-chat-catches-up-after-the-bridge-ended ()
  "Turns said while the chat's bridge was gone show, in their place,
when the next question starts a new bridge."
  (let* ((socket (aish-test--create "gap"))
         (buffer (aish-test--open-chat socket)))
    (aish-stop)
    (let ((other (aish-test--other-send socket "meanwhile")))
      (should (aish-test--wait (lambda () (not (process-live-p other))) 5000)))
    (with-current-buffer buffer
      (goto-char (point-max))
      (insert "back")
      (aish-chat-send))
    (aish-test--settle)
    (should (aish-test--wait
             (lambda () (string-match-p "meanwhile" (aish-test--chat-text buffer))) 3000))
    (should (equal (aish-test--chat-text buffer)
                   (format "[You]\nmeanwhile\n[From Gap (%s)]\ngap: meanwhile\n[You]\nback\n[From Gap (%s)]\ngap: back\n"
                           socket socket)))
    ;; Live again: another editor's turn comes in.
    (let ((other (aish-test--other-send socket "live")))
      (should (aish-test--wait (lambda () (not (process-live-p other))) 5000)))
    (should (aish-test--wait
             (lambda () (string-suffix-p "gap: live\n" (aish-test--chat-text buffer))) 3000))
    (kill-buffer buffer)))

;;;; The server goes away and comes back

(defun aish-test--start-rhetor (state &optional port)
  "Start aish-rhetor with STATE on PORT (a free one when nil); its URL.
Returns (PROCESS . URL) once it says where it listens."
  (let* ((buffer (generate-new-buffer " *aish-test-rhetor*"))
         (proc (make-process :name "aish-test-rhetor" :buffer buffer :noquery t
                             :connection-type 'pipe
                             :command (list (getenv "AISH_TEST_RHETOR")
                                            "--port" (format "%d" (or port 0))
                                            "--state-dir" state))))
    (should (aish-test--wait
             (lambda () (with-current-buffer buffer
                          (string-match-p "listening on http://[0-9.:]+\n" (buffer-string))))
             5000))
    (with-current-buffer buffer
      (string-match "listening on \\(http://[0-9.:]+\\)\n" (buffer-string))
      (cons proc (match-string 1 (buffer-string))))))

(ert-deftest aish-server-killed-and-back ()
  "A request in flight when the server dies fails with one short line;
the next request after it is back works, with the same bridge."
  (let* ((state (make-temp-file "aish-state" t))
         (server (aish-test--start-rhetor state))
         (url (cdr server))
         (port (string-to-number (car (last (split-string url ":")))))
         (aish-rhetor-url url)
         (aish-bridge-command (append aish-bridge-command '("--unreachable-ms" "800"))))
    (unwind-protect
        (progn
          (aish-stop)
          (aish-test--with-text "still there?"
            (aish-test--create "lasting" "lasting" '(:echo (:delay_ms 3000 :chunks 3)))
            (aish-pipe-region (point-min) (point-max) "lasting")
            (should (aish-test--wait (lambda () (string-match-p "lasting: " (aish-test--output)))
                                     3000))
            (delete-process (car server))
            (let ((start (float-time)))
              (aish-test--settle 5000)
              (should (< (- (float-time) start) 3)))
            (should (string-match-p "reach" aish-last-error))
            (should-not (string-match-p "\n" aish-last-error))
            (should (string-match-p "^\\[error\\] " (aish-test--output)))
            (setq server (aish-test--start-rhetor state port))
            (let ((conn aish--connection))
              (aish-send "apollo" "back again")
              (aish-test--settle 5000)
              (should (eq conn aish--connection)))
            (should (string-suffix-p "[From Apollo]\napollo: back again\n"
                                     (aish-test--output)))))
      (aish-stop)
      (when (process-live-p (car server)) (delete-process (car server)))
      (delete-directory state t))))

(ert-deftest aish-chat-user-turns-pushed ()
  "When the server pushes user turns (aish/message with role \"user\"),
a chat shows another editor's turn, and not its own twice."
  (let* ((socket (aish-test--create "pushed"))
         (buffer (aish-chat socket)))
    (should (aish-test--wait (lambda () (buffer-local-value 'aish-chat--loaded buffer)) 3000))
    (with-current-buffer buffer
      (goto-char (point-max))
      (insert "mine")
      (aish-chat-send))
    (aish-test--settle)
    ;; The bridge has told this buffer's own turn back (aish/message,
    ;; role "user"); then another editor's comes, twice.
    (aish--on-notification nil 'aish/message
                           (list :socket_id socket :ai_name "pushed" :role "user"
                                 :content "from elsewhere" :seq 900002))
    (aish--on-notification nil 'aish/message
                           (list :socket_id socket :ai_name "pushed" :role "user"
                                 :content "from elsewhere" :seq 900002))
    (should (equal (aish-test--chat-text buffer)
                   (format "[You]\nmine\n[From Pushed (%s)]\npushed: mine\n[You]\nfrom elsewhere\n"
                           socket)))
    (kill-buffer buffer)))

;;; aish-tests.el ends here
