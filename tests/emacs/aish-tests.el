;;; aish-tests.el --- Tests of aish.el in a real Emacs  -*- lexical-binding: t; -*-

;;; Commentary:

;; Run by tests/editor-emacs.sh in `emacs --batch -Q' against a real
;; aish-bridge and aish-rhetor with the echo provider.  The environment:
;;   AISH_TEST_BRIDGE  the aish-bridge program
;;   AISH_TEST_URL     the test server
;;   AISH_TEST_SLOW    a socket that answers in 800 ms in 4 chunks
;;   AISH_TEST_SLOWER  a socket that answers in 4 s in 4 chunks
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
                   "== slow-1\n[From Slow]\nslow: label me\n"))))

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
               (partial (aish-test--section-text out "[From Slow]")))
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
                     '("[From Apollo]" "[From Slow]" "[From Rhetor] (synthesis)")))
      (should (equal (aish-test--section-text out "[From Slow]") "slow: stream me"))
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
                 (setq sent (list (aish--req-title req) params))))
              ((symbol-function 'aish--ensure) #'ignore))
      (aish-test--with-text ""
        (cl-letf (((symbol-function 'read-string)
                   (let ((answers (list "duo" "hello")))
                     (lambda (&rest _) (pop answers)))))
          (let ((current-prefix-arg '(4)))
            (call-interactively #'aish-team-chat))
          (should (equal sent '("team chat duo: hello"
                                (:message "hello" :group "duo")))))
        (cl-letf (((symbol-function 'read-string)
                   (let ((answers (list "duo" "hello")))
                     (lambda (&rest _) (pop answers)))))
          (let ((current-prefix-arg '(16)))
            (call-interactively #'aish-team-chat))
          (should (equal sent '("team chat duo with synthesis: hello"
                                (:message "hello" :group "duo"
                                          :moderation "synthesis")))))
        (cl-letf (((symbol-function 'read-string)
                   (lambda (&rest _) "hi")))
          (let ((current-prefix-arg nil))
            (call-interactively #'aish-team-chat-synthesize))
          (should (equal sent '("team chat with synthesis: hi"
                                (:message "hi" :moderation "synthesis"))))
          (let ((current-prefix-arg nil))
            (call-interactively #'aish-team-chat))
          (should (equal sent '("team chat: hi" (:message "hi")))))))))

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
    (aish-pipe-region (point-min) (point-max) (getenv "AISH_TEST_SLOWER"))
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
    (aish-pipe-region (point-min) (point-max) "nosuchai")
    (aish-test--settle)
    (should (string-match-p "nosuchai" aish-last-error))
    (should (string-match-p "apollo" aish-last-error))
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

;;; aish-tests.el ends here
