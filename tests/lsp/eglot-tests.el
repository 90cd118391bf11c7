;;; eglot-tests.el --- aish-bridge as eglot's language server  -*- lexical-binding: t -*-

;; Emacs' own LSP client, eglot 1.9 (Debian's elpa-eglot), in
;; `emacs --batch': eglot on a buffer, `eglot-code-actions' on a region,
;; the action chosen as a user would, the buffer rewritten.  Writes
;; "ok - NAME" / "not ok - NAME: DETAIL" lines and a last "done" line to
;; $AISH_TEST_RESULT.  Environment: AISH_TEST_BRIDGE, AISH_TEST_URL,
;; AISH_TEST_SLOW (a socket that answers in 1.5 s), AISH_TEST_DIR.

;;; Code:

(setq package-directory-list '("/usr/share/emacs/site-lisp/elpa"))
(package-initialize)
(require 'eglot)
(require 'cl-lib)

(defvar aish-test-result (getenv "AISH_TEST_RESULT"))
(defvar aish-test-url (getenv "AISH_TEST_URL"))
(defvar aish-test-dir (file-name-as-directory (getenv "AISH_TEST_DIR")))

(defun aish-test-check (name ok &optional detail)
  "Write one check NAME, passed when OK, with DETAIL when it failed."
  (write-region (if ok (format "ok - %s\n" name)
                  (format "not ok - %s: %S\n" name detail))
                nil aish-test-result t 'quiet))

(defun aish-test-line (n)
  "The text of line N of the current buffer."
  (save-excursion
    (goto-char (point-min))
    (forward-line (1- n))
    (buffer-substring-no-properties (line-beginning-position)
                                    (line-end-position))))

(defun aish-test-region-of-line (n)
  "The start and end of line N."
  (save-excursion
    (goto-char (point-min))
    (forward-line (1- n))
    (list (line-beginning-position) (line-end-position))))

(defun aish-test-pick (title n)
  "Run the code action TITLE on line N, choosing it as a user would."
  (cl-letf (((symbol-function 'completing-read)
             (lambda (&rest _) title)))
    (let ((last-nonmenu-event t))
      (apply #'eglot-code-actions
             (append (aish-test-region-of-line n) (list nil t))))))

(defun aish-test-messages ()
  "What *Messages* holds."
  (with-current-buffer "*Messages*" (buffer-string)))

(defun aish-test-echo-calls ()
  "The count of finished echo provider calls, from /metrics."
  (let ((text (shell-command-to-string
               (format "curl -s %s/metrics" aish-test-url))))
    (if (string-match "aish_provider_latency_seconds_count{provider=\"echo\"} \\([0-9]+\\)" text)
        (string-to-number (match-string 1 text))
      0)))

(defun aish-test-error (thunk)
  "Call THUNK; the JSON-RPC error code it signals, or its value."
  (condition-case err (funcall thunk)
    (jsonrpc-error (list (alist-get 'jsonrpc-error-code (cdr err))
                         (alist-get 'jsonrpc-error-message (cdr err))))))

(defun aish-test-run ()
  "The whole test."
  (let* ((file (expand-file-name "notes.txt" aish-test-dir))
         (eglot-server-programs
          `((text-mode . (,(getenv "AISH_TEST_BRIDGE") "--rhetor"
                          ,aish-test-url "--no-spawn"))))
         (eglot-confirm-server-initiated-edits nil)
         server)
    (with-temp-file file (insert "hello world\nfix me\nthird\n"))
    (find-file file)
    (text-mode)
    (apply #'eglot (eglot--guess-contact))
    (setq server (eglot-current-server))
    (aish-test-check "eglot connects" (and server (eglot--server-capable :codeActionProvider))
                     server)
    (aish-test-check "serverInfo"
                     (equal (plist-get (eglot--server-info server) :name) "aish-bridge")
                     (eglot--server-info server))
    ;; rewrite: the default actions, chosen from eglot's menu
    (aish-test-pick "aish: rewrite with apollo" 2)
    (aish-test-check "rewrite: the buffer rewritten" (equal (aish-test-line 2) "apollo: fix me")
                     (buffer-string))
    ;; ask: eglot 1.9 takes no showDocument, so the answer is a message
    (aish-test-pick "aish: ask athena" 3)
    (aish-test-check "ask: the answer shown, with its file"
                     (string-match-p "type=3): athena: third\n\n(saved in .*/aish/answers/answer-"
                                     (aish-test-messages))
                     (aish-test-messages))
    (aish-test-check "ask: the buffer unchanged" (equal (aish-test-line 3) "third"))
    ;; team chat
    (aish-test-pick "aish: team chat" 1)
    (aish-test-check "team chat: each member's answer"
                     (and (string-match-p "## athena\n\nathena: hello world" (aish-test-messages))
                          (string-match-p "## apollo\n\napollo: hello world" (aish-test-messages)))
                     (aish-test-messages))
    ;; an unknown AI: the command's error, and shown
    (let* ((uri (eglot--path-to-uri file))
           (range (list :start (list :line 0 :character 0)
                        :end (list :line 0 :character 5)))
           (r (aish-test-error
               (lambda () (eglot-execute-command
                           server 'aish.rewrite
                           (vector (list :uri uri :range range :pipeline "apolo")))))))
      (aish-test-check "unknown AI: -32602 with the nearest name"
                       (and (equal (car-safe r) -32602)
                            (string-match-p "did you mean apollo" (cadr r)))
                       r)
      (aish-test-check "unknown AI: shown" (string-match-p "type=1): aish: unknown AI" (aish-test-messages))
                       (aish-test-messages))
      ;; a request after the error works (on the text as edited above)
      (aish-test-pick "aish: rewrite with athena" 1)
      (aish-test-check "a request after an error works"
                       (equal (aish-test-line 1) "athena: hello world") (buffer-string))
      ;; bad input
      (setq r (aish-test-error (lambda () (eglot-execute-command server 'aish.nosuch []))))
      (aish-test-check "an unknown command: -32602" (equal (car-safe r) -32602) r)
      (setq r (aish-test-error (lambda () (jsonrpc-request server :workspace/nosuch '(:x 1)))))
      (aish-test-check "an unknown request: -32601" (equal (car-safe r) -32601) r)
      ;; cancel: $/cancelRequest with the id jsonrpc gives the request
      (let ((before (aish-test-echo-calls))
            (text (buffer-string))
            (id (1+ (jsonrpc--next-request-id server)))
            answer)
        (jsonrpc-async-request
         server :workspace/executeCommand
         `(:command "aish.rewrite"
           :arguments ,(vector (list :uri uri :range range
                                     :pipeline (getenv "AISH_TEST_SLOW"))))
         :success-fn (lambda (res) (setq answer (list 'result res)))
         :error-fn (lambda (err) (setq answer (list 'error (plist-get err :code))))
         :timeout 10)
        (sleep-for 0.3)
        (jsonrpc-notify server :$/cancelRequest (list :id id))
        (with-timeout (3 nil)
          (while (null answer) (accept-process-output nil 0.05)))
        (aish-test-check "cancel: -32800" (equal answer '(error -32800)) answer)
        (sleep-for 1.8)
        (aish-test-check "cancel: the AI never finished on the server (metrics)"
                         (= (aish-test-echo-calls) before)
                         (list before (aish-test-echo-calls)))
        (aish-test-check "cancel: no edit" (equal (buffer-string) text) (buffer-string))))
    ;; eglot offers no progress: none was sent
    (let ((events (with-current-buffer (jsonrpc-events-buffer server) (buffer-string))))
      (aish-test-check "a client without progress gets none"
                       (not (string-match-p "\\$/progress\\|workDoneProgress/create" events))
                       nil))
    (eglot-shutdown server)
    (aish-test-check "shutdown" (not (jsonrpc-running-p server)))))

(condition-case err
    (progn (aish-test-run)
           (write-region "done\n" nil aish-test-result t 'quiet))
  (error (aish-test-check "the test ran" nil err)))

;;; eglot-tests.el ends here
