;;; aish.el --- Run text through AI pipelines with aish  -*- lexical-binding: t; -*-

;; Copyright (C) 2026 The aish authors

;; Author: The aish authors
;; Version: 0.1.0
;; Package-Requires: ((emacs "27.1") (jsonrpc "1.0.9"))
;; Keywords: tools, processes, convenience

;; This file is not part of GNU Emacs.

;; This program is free software: you can redistribute it and/or modify
;; it under the terms of the GNU General Public License as published by
;; the Free Software Foundation, either version 3 of the License, or
;; (at your option) any later version.

;;; Commentary:

;; aish makes AIs behave like Unix processes: text goes through
;; pipelines of AIs ("athena | apollo") and AI teams answer together.
;; This package starts `aish-bridge' on first use and speaks JSON-RPC
;; to it with the built-in `jsonrpc' library, over a pipe.
;;
;; Commands:
;;   `aish-pipe-region'     run the region through a pipeline into *aish*
;;   `aish-replace-region'  replace the region with a pipeline's output
;;   `aish-team-chat'       ask every AI (or a group) at once
;;   `aish-team-chat-synthesize'  the same, and have rhetor sum it up
;;   `aish-send'            send one message to one AI
;;   `aish-list'            list the AI sockets of the server
;;   `aish-cancel'          cancel every request in flight
;;   `aish-log'             show the log (bridge messages, errors)
;;   `aish-stop'            stop the bridge
;;
;; Output streams into the *aish* buffer, one labelled section per
;; pipeline stage or team member; the mode line shows progress.

;;; Code:

(require 'cl-lib)
(require 'jsonrpc)
(require 'seq)
(require 'subr-x)

;;;; Options

(defgroup aish nil
  "Run text through AI pipelines served by aish-rhetor."
  :group 'tools
  :prefix "aish-")

(defcustom aish-bridge-command '("aish-bridge")
  "The command that starts the bridge: a program and its arguments.
When `aish-rhetor-url' is set, \"--rhetor URL\" is added to it."
  :type '(repeat string))

(defcustom aish-rhetor-url nil
  "The URL of aish-rhetor, passed to the bridge as --rhetor.
When nil, the bridge uses AISH_RHETOR_URL or http://127.0.0.1:8300."
  :type '(choice (const :tag "The bridge's default" nil) string))

(defcustom aish-request-timeout nil
  "Seconds to wait for the answer to a request, or nil for no limit.
AI pipelines can take minutes; the bridge has its own time limits."
  :type '(choice (const :tag "No limit" nil) number))

(defcustom aish-start-timeout 30
  "Seconds to wait for the bridge to answer `initialize'."
  :type 'number)

(defcustom aish-output-buffer-name "*aish*"
  "The name of the buffer that receives AI output."
  :type 'string)

(defcustom aish-log-buffer-name "*aish-log*"
  "The name of the buffer that receives the log."
  :type 'string)

(defcustom aish-log-message-limit 2000
  "Characters of one AI message kept in the log."
  :type 'integer)

(defface aish-label '((t :inherit font-lock-keyword-face))
  "Face of the \"[From Ai]\" labels in the *aish* buffer.")

(defface aish-title '((t :inherit font-lock-function-name-face :weight bold))
  "Face of the title line of each request in the *aish* buffer.")

;;;; State

(defvar aish--connection nil
  "The `jsonrpc-process-connection' to the bridge, or nil.")

(defvar aish--requests (make-hash-table)
  "Requests in flight, by JSON-RPC id.")

(defvar aish--spinner-timer nil
  "The timer that turns the mode-line spinner.")

(defvar aish--spin 0
  "The position of the mode-line spinner.")

(defvar aish-last-error nil
  "The last error reported by aish, as a string.")

(defvar aish-last-notice nil
  "The last notice shown by aish, as a string.")

(defconst aish--mode-line '(:eval (aish--mode-line-string))
  "The entry that aish puts in `global-mode-string' while it works.")

(cl-defstruct (aish--req (:constructor aish--req-make))
  "A request in flight."
  id conn method title stages ai (status "") block sections
  tail target on-result cancelling done)

;;;; Messages and log

(defun aish--log (format-string &rest args)
  "Add a line made by FORMAT-STRING and ARGS to the log buffer."
  (let ((text (apply #'format format-string args)))
    (with-current-buffer (get-buffer-create aish-log-buffer-name)
      (let ((inhibit-read-only t))
        (save-excursion
          (goto-char (point-max))
          (insert (format-time-string "%H:%M:%S ") text "\n"))))))

(defun aish--error (format-string &rest args)
  "Report an error made by FORMAT-STRING and ARGS, without signalling.
Used from process callbacks, where a signal would break the connection."
  (let ((text (concat "aish: " (apply #'format format-string args))))
    (setq aish-last-error text)
    (aish--log "error: %s" text)
    (message "%s" (propertize text 'face 'error))))

(defun aish--notice (format-string &rest args)
  "Show a notice made by FORMAT-STRING and ARGS."
  (let ((text (concat "aish: " (apply #'format format-string args))))
    (setq aish-last-notice text)
    (message "%s" text)))

(defmacro aish--guarded (&rest body)
  "Run BODY; report an error instead of signalling it.
Process callbacks run BODY: an error escaping them would kill a batch
Emacs and leave the connection in a bad state."
  (declare (indent 0) (debug t))
  `(condition-case err
       (progn ,@body)
     (error (aish--error "internal error: %s" (error-message-string err)))))

;;;; The bridge

(defun aish--command ()
  "Return the command line to start the bridge."
  (append aish-bridge-command
          (and aish-rhetor-url (list "--rhetor" aish-rhetor-url))))

(defun aish--live-p ()
  "Non-nil when the bridge is running."
  (and aish--connection (jsonrpc-running-p aish--connection)))

(defun aish--start ()
  "Start the bridge and initialize it; signal a `user-error' on failure."
  (let* ((command (aish--command))
         (program (car command)))
    (unless (and program (executable-find program))
      (user-error "aish: cannot start the bridge: %S is not an executable \
program (see `aish-bridge-command')" program))
    (setq aish--connection
          (make-instance
           'jsonrpc-process-connection
           :name "aish"
           :events-buffer-scrollback-size 0
           :notification-dispatcher #'aish--on-notification
           :request-dispatcher #'aish--on-request
           :on-shutdown #'aish--on-shutdown
           :process (lambda ()
                      (make-process
                       :name "aish-bridge"
                       :command command
                       :connection-type 'pipe
                       :coding 'utf-8-emacs-unix
                       :noquery t
                       :stderr (get-buffer-create "*aish stderr*")))))
    (aish--log "started %s" (mapconcat #'identity command " "))
    (condition-case err
        (let* ((result (jsonrpc-request
                        aish--connection 'initialize
                        '(:client_info (:name "aish.el" :version "0.1.0"))
                        :timeout aish-start-timeout))
               (rhetor (plist-get result :rhetor)))
          (aish--log "bridge ready; rhetor %s %s"
                     (plist-get rhetor :url)
                     (if (eq (plist-get rhetor :connected) t)
                         "connected" "not connected")))
      (error
       (aish-stop)
       (user-error "aish: the bridge did not start: %s"
                   (aish--condition-text err))))))

(defun aish--condition-text (err)
  "The text of the error ERR, a jsonrpc error or another condition."
  (or (cdr (assq 'jsonrpc-error-message (cdr err)))
      (error-message-string err)))

(defun aish--ensure ()
  "Return the connection to the bridge, starting it when needed."
  (unless (aish--live-p)
    (aish--start))
  aish--connection)

(defun aish--on-request (_conn method _params)
  "Refuse a request METHOD from the bridge: none is expected."
  (signal 'jsonrpc-error
          `(:code -32601 :message ,(format "aish.el handles no %s" method))))

(defun aish--on-shutdown (conn)
  "The bridge of CONN ended: fail its requests in flight."
  (aish--guarded
    (aish--log "bridge exited")
    (let (pending)
      (maphash (lambda (_id req)
                 (when (eq (aish--req-conn req) conn)
                   (push req pending)))
               aish--requests)
      (dolist (req pending)
        (aish--finish req "aish-bridge exited")))
    (when (eq conn aish--connection)
      (setq aish--connection nil))))

;;;###autoload
(defun aish-stop ()
  "Stop the bridge.
The next aish command starts it again."
  (interactive)
  (when aish--connection
    (let ((conn aish--connection))
      (setq aish--connection nil)
      (ignore-errors (jsonrpc-shutdown conn t)))))

;;;; Requests

(defun aish--next-id (conn)
  "The id that the next request on CONN will get.
`jsonrpc-async-request' does not return it; progress notifications
carry it."
  (1+ (jsonrpc--next-request-id conn)))

(defun aish--request (req params)
  "Send REQ (an `aish--req') with PARAMS and record it."
  (let* ((conn (aish--ensure))
         (id (aish--next-id conn)))
    (setf (aish--req-id req) id
          (aish--req-conn req) conn)
    (puthash id req aish--requests)
    (jsonrpc-async-request
     conn (intern (aish--req-method req)) params
     :success-fn (lambda (result)
                   (aish--guarded (aish--on-result req result)))
     :error-fn (lambda (err)
                 (aish--guarded (aish--on-error req err)))
     :timeout-fn (lambda ()
                   (aish--guarded (aish--finish req "no answer in time")))
     :timeout aish-request-timeout)
    (aish--spinner-start)
    req))

(defun aish--on-result (req result)
  "The answer RESULT to REQ."
  (unwind-protect
      (funcall (aish--req-on-result req) req result)
    (aish--finish req nil)))

(defun aish--on-error (req err)
  "The error ERR (a plist with :code and :message) answering REQ."
  (if (eql (plist-get err :code) -32800)
      (aish--finish req nil t)
    (aish--finish req (aish--error-text err))))

(defun aish--error-text (err)
  "One line of text for the JSON-RPC error object ERR."
  (let ((message (plist-get err :message))
        (code (plist-get err :code)))
    (replace-regexp-in-string
     "\n" " "
     (if (and (stringp message) (> (length message) 0))
         message
       (pcase code
         (-32001 "Rhetor unreachable")
         (-32003 "timed out")
         (-32004 "AI error")
         (-32005 "too many requests")
         (_ (format "error %s" code)))))))

(defun aish--finish (req error &optional cancelled)
  "End REQ: report ERROR or its cancellation when CANCELLED."
  (unless (aish--req-done req)
    (setf (aish--req-done req) t)
    (remhash (aish--req-id req) aish--requests)
    (cond (cancelled
           (aish--block-note req "[cancelled]")
           (aish--notice "%s: cancelled" (aish--req-title req)))
          (error
           (aish--block-note req (concat "[error] " error))
           (aish--error "%s: %s" (aish--req-title req) error)))
    (when (zerop (hash-table-count aish--requests))
      (aish--spinner-stop))))

(defun aish--on-notification (_conn method params)
  "A notification METHOD with PARAMS from the bridge."
  (aish--guarded
    (pcase method
      ('aish/progress (aish--on-progress params))
      ('aish/message (aish--on-message params))
      (_ (aish--log "notification %s" method)))))

(defun aish--on-message (params)
  "Log the AI message of an aish/message notification PARAMS."
  (let* ((content (or (plist-get params :content) ""))
         (size (string-bytes content)))
    (when (> (length content) aish-log-message-limit)
      (setq content (format "%s... (%d bytes)"
                            (substring content 0 aish-log-message-limit)
                            size)))
    (aish--log "message from %s (socket %s, seq %s%s): %s"
               (plist-get params :ai_name) (plist-get params :socket_id)
               (plist-get params :seq)
               (let ((to (plist-get params :in_reply_to)))
                 (if to (format ", reply to %s" to) ""))
               content)))

(defun aish--synthesis-p (req stage)
  "Non-nil when STAGE of REQ is the synthesis of a team chat.
The moderator's progress comes as stage 1 of the team chat."
  (and (equal (aish--req-method req) "aish/teamChat") (eql stage 1)))

(defun aish--key (req stage ai)
  "The key of the section of STAGE and AI in REQ.
Pipeline stages are known by their index, team members by socket
id when the progress gives it, else by name."
  (if (equal (aish--req-method req) "aish/pipeline")
      (format "stage %d" stage)
    (format "%d:%s" stage ai)))

(defun aish--on-progress (params)
  "An aish/progress notification PARAMS: stream it into its section."
  (let ((req (gethash (plist-get params :request_id) aish--requests)))
    (when req
      (let ((ai (or (plist-get params :ai) "?"))
            (stage (or (plist-get params :stage) 0))
            (kind (plist-get params :kind))
            (content (plist-get params :content)))
        (setf (aish--req-status req)
              (cond ((equal (aish--req-method req) "aish/pipeline")
                     (format "%s %d/%d" ai (1+ stage) (aish--req-stages req)))
                    ((aish--synthesis-p req stage) (concat ai " (synthesis)"))
                    (t ai)))
        (when (aish--req-block req)
          (let ((section
                 (if (aish--synthesis-p req stage)
                     (aish--synthesis-section req ai)
                   (aish--section
                    req (aish--key req stage
                                   (or (plist-get params :socket_id) ai))
                    ai))))
            (cond ((and (equal kind "delta") (stringp content))
                   (aish--section-append section content))
                  ((and (equal kind "end") (stringp content))
                   (aish--section-set section content)))))))))

;;;; The *aish* buffer

(define-derived-mode aish-output-mode special-mode "aish"
  "Major mode of the *aish* buffer, where AI output streams in.
Each request gets a title line and one \"[From Ai]\" section per
pipeline stage or team member.")

(defun aish--output-buffer ()
  "The *aish* buffer, made when missing."
  (or (get-buffer aish-output-buffer-name)
      (with-current-buffer (get-buffer-create aish-output-buffer-name)
        (aish-output-mode)
        (current-buffer))))

(defun aish--block-start (req)
  "Start the block of REQ at the end of *aish* and show the buffer."
  (let ((buffer (aish--output-buffer)))
    (with-current-buffer buffer
      (let ((inhibit-read-only t))
        (save-excursion
          (goto-char (point-max))
          (unless (bobp) (insert "\n"))
          (insert (propertize (concat "== " (aish--req-title req))
                              'face 'aish-title)
                  "\n")
          (setf (aish--req-block req) (point-marker)))))
    (display-buffer buffer)))

(defun aish--insert-at (marker text)
  "Insert TEXT at MARKER and move MARKER past it."
  (with-current-buffer (marker-buffer marker)
    (let ((inhibit-read-only t))
      (save-excursion
        (goto-char marker)
        (insert text)
        (set-marker marker (point))))))

(defun aish--block-note (req text)
  "Add the line TEXT at the end of the block of REQ."
  (let ((block (aish--req-block req)))
    (when (and block (buffer-live-p (marker-buffer block)))
      (aish--insert-at block (concat text "\n")))))

(defun aish--label (ai)
  "The label of the section of AI."
  (propertize (format "[From %s]" (capitalize ai)) 'face 'aish-label))

(defun aish--section (req key ai &optional suffix)
  "The section KEY of REQ, labelled for AI (then SUFFIX); made when new.
A section is (KEY START . END): markers around its text.  A new
section goes at the end of the block of REQ, but above the
synthesis section, which stays last (the tail of REQ marks its
label)."
  (or (cdr (assoc key (aish--req-sections req)))
      (let* ((block (aish--req-block req))
             (tail (aish--req-tail req))
             (at (if tail (copy-marker tail) block)))
        (when (and block (buffer-live-p (marker-buffer block)))
          (aish--insert-at at (concat (aish--label ai)
                                      (if suffix (concat " " suffix) "")
                                      "\n"))
          (let ((start (copy-marker at))
                (end (copy-marker at)))
            (aish--insert-at at "\n")
            (unless (eq at block)
              (set-marker at nil))
            (let ((section (cons start end)))
              (push (cons key section) (aish--req-sections req))
              section))))))

(defun aish--synthesis-section (req ai)
  "The synthesis section of the team chat REQ, by the moderator AI.
Labelled \"[From Rhetor] (synthesis)\"; made at the end of the
block, where it stays: its label becomes the tail of REQ."
  (or (cdr (assoc "synthesis" (aish--req-sections req)))
      (let* ((block (aish--req-block req))
             (label (and block (copy-marker block)))
             (section (aish--section req "synthesis"
                                     (if (member ai '(nil "")) "rhetor" ai)
                                     "(synthesis)")))
        (when label
          (if section
              (progn (set-marker-insertion-type label t)
                     (setf (aish--req-tail req) label))
            (set-marker label nil)))
        section)))

(defun aish--section-append (section text)
  "Add streamed TEXT at the end of SECTION."
  (when (and section (buffer-live-p (marker-buffer (cdr section))))
    (aish--insert-at (cdr section) text)))

(defun aish--section-set (section text)
  "Make SECTION hold TEXT, the final word of a stage or member."
  (when (and section (buffer-live-p (marker-buffer (car section))))
    (with-current-buffer (marker-buffer (car section))
      (unless (equal (buffer-substring-no-properties (car section) (cdr section))
                     text)
        (let ((inhibit-read-only t))
          (delete-region (car section) (cdr section))
          (set-marker (cdr section) (car section))
          (aish--insert-at (cdr section) text))))))

;;;; The mode line

(defun aish--mode-line-string ()
  "The mode-line text while requests are in flight."
  (let (reqs)
    (maphash (lambda (_id req) (push req reqs)) aish--requests)
    (when reqs
      (let ((req (car (sort reqs (lambda (a b)
                                   (> (aish--req-id a) (aish--req-id b)))))))
        (format " aish[%c %s%s%s]"
                (aref "-\\|/" (% aish--spin 4))
                (aish--req-status req)
                (if (aish--req-cancelling req) " cancelling" "")
                (if (cdr reqs) (format " +%d" (length (cdr reqs))) ""))))))

(defun aish-status ()
  "The progress of the requests in flight, or nil when none."
  (aish--mode-line-string))

(defun aish-busy ()
  "The number of requests in flight."
  (hash-table-count aish--requests))

(defun aish--spinner-start ()
  "Show progress in the mode line."
  (unless (member aish--mode-line global-mode-string)
    (setq global-mode-string
          (append (if (listp global-mode-string)
                      global-mode-string
                    (list global-mode-string))
                  (list aish--mode-line))))
  (unless aish--spinner-timer
    (setq aish--spinner-timer
          (run-with-timer 0.15 0.15 #'aish--spinner-tick))))

(defun aish--spinner-tick ()
  "Turn the mode-line spinner."
  (setq aish--spin (1+ aish--spin))
  (force-mode-line-update t))

(defun aish--spinner-stop ()
  "Remove the progress from the mode line."
  (when aish--spinner-timer
    (cancel-timer aish--spinner-timer)
    (setq aish--spinner-timer nil))
  (when (listp global-mode-string)
    (setq global-mode-string (delete aish--mode-line global-mode-string)))
  (force-mode-line-update t))

;;;; Commands

(defun aish--check-pipeline (pipeline)
  "Return PIPELINE trimmed; signal a `user-error' when it is malformed."
  (let ((p (string-trim (or pipeline ""))))
    (when (or (string-empty-p p)
              (string-match-p "\\`|\\||[ \t]*\\'\\||[ \t]*|" p))
      (user-error "aish: give a pipeline of AIs, like \"athena | apollo\""))
    p))

(defun aish--region-args (prompt)
  "Interactive arguments: the region (else the line) and a PROMPT answer."
  (if (use-region-p)
      (list (region-beginning) (region-end) (read-string prompt))
    (list (line-beginning-position) (line-end-position) (read-string prompt))))

(defun aish--input (beg end)
  "The text from BEG to END, less one final newline."
  (let ((text (buffer-substring-no-properties beg end)))
    (if (string-suffix-p "\n" text) (substring text 0 -1) text)))

(defun aish--pipeline-req (pipeline)
  "A pipeline request for PIPELINE."
  (aish--req-make :method "aish/pipeline" :title pipeline :status pipeline
                  :stages (length (split-string pipeline "|"))))

;;;###autoload
(defun aish-pipe-region (beg end pipeline)
  "Run the text from BEG to END through PIPELINE, into *aish*.
PIPELINE is a string such as \"athena | apollo\".  Interactively,
the region, or the current line when no region is active.  The
output of every stage streams into its own section."
  (interactive (aish--region-args "Pipeline: "))
  (let* ((p (aish--check-pipeline pipeline))
         (input (aish--input beg end))
         (req (aish--pipeline-req p)))
    (setf (aish--req-on-result req) #'aish--pipe-result)
    (aish--ensure)
    (aish--block-start req)
    (aish--request req (list :input input :pipeline p))))

(defun aish--pipe-result (req result)
  "Show every stage's final output of the pipeline REQ from RESULT."
  (let ((i 0))
    (seq-doseq (stage (plist-get result :stages))
      (let ((ai (or (plist-get stage :ai) "?")))
        (aish--section-set (aish--section req (aish--key req i ai) ai)
                           (or (plist-get stage :output) "")))
      (setq i (1+ i))))
  (aish--notice "%s: done" (aish--req-title req)))

;;;###autoload
(defun aish-replace-region (beg end pipeline)
  "Replace the text from BEG to END with its output through PIPELINE.
PIPELINE is a string such as \"athena | apollo\".  The text is
replaced when the answer comes, unless it changed meanwhile: then
the output goes to *aish* instead.  A final newline of the region
is kept."
  (interactive (aish--region-args "Replace through pipeline: "))
  (let* ((p (aish--check-pipeline pipeline))
         (req (aish--pipeline-req p)))
    (setf (aish--req-target req)
          (list (copy-marker beg) (copy-marker end t)
                (buffer-substring-no-properties beg end))
          (aish--req-on-result req) #'aish--replace-result)
    (aish--ensure)
    (aish--request req (list :input (aish--input beg end) :pipeline p))))

(defun aish--replace-result (req result)
  "Put the output of the pipeline REQ, from RESULT, in place of its text."
  (pcase-let* ((`(,beg ,end ,old) (aish--req-target req))
               (buffer (marker-buffer beg))
               (output (or (plist-get result :output) "")))
    (if (not (and (buffer-live-p buffer)
                  (with-current-buffer buffer
                    (equal (buffer-substring-no-properties beg end) old))))
        (let ((stages (plist-get result :stages)))
          (aish--block-start req)
          (aish--section-set
           (aish--section req "output"
                          (if (> (length stages) 0)
                              (plist-get (aref stages (1- (length stages))) :ai)
                            "aish"))
           output)
          (aish--notice "%s: the text changed meanwhile; the result is in %s"
                        (aish--req-title req) aish-output-buffer-name))
      (with-current-buffer buffer
        (when (and (string-suffix-p "\n" old)
                   (not (string-suffix-p "\n" output)))
          (setq output (concat output "\n")))
        (save-excursion
          (goto-char beg)
          (delete-region beg end)
          (insert output)))
      (aish--notice "%s: replaced" (aish--req-title req)))
    (set-marker beg nil)
    (set-marker end nil)))

;;;###autoload
(defun aish-team-chat (message &optional group synthesize)
  "Send MESSAGE to every AI, or to the members of GROUP, into *aish*.
Each member's reply streams into its own section.  When SYNTHESIZE
is non-nil, the server's moderator AI, rhetor, then reads the
replies and writes one synthesis of them, which streams into a last
section, \"[From Rhetor] (synthesis)\".  GROUP is a group made on
the server (PUT /api/ai/groups/GROUP); nil or \"\" means the whole
team.

Interactively, a prefix argument (\\[universal-argument]) asks for
GROUP, and two (\\[universal-argument] \\[universal-argument]) ask
for GROUP and for the synthesis.  See also `aish-team-chat-synthesize'."
  (interactive
   (let ((group (and current-prefix-arg (read-string "Group (empty for all): "))))
     (list (read-string "Message to the team: ") group
           (and (consp current-prefix-arg)
                (>= (prefix-numeric-value current-prefix-arg) 16)))))
  (when (string-empty-p (string-trim (or message "")))
    (user-error "aish: give a message for the team"))
  (when (and group (string-empty-p (string-trim group)))
    (setq group nil))
  (let ((req (aish--req-make
              :method "aish/teamChat" :status "team chat"
              :title (format "team chat%s%s: %s"
                             (if group (concat " " group) "")
                             (if synthesize " with synthesis" "")
                             message)
              :on-result #'aish--team-result)))
    (aish--ensure)
    (aish--block-start req)
    (aish--request req (append (list :message message)
                               (and group (list :group group))
                               (and synthesize
                                    (list :moderation "synthesis"))))))

;;;###autoload
(defun aish-team-chat-synthesize (message &optional group)
  "Send MESSAGE to the team, or to GROUP, and have rhetor sum it up.
Like `aish-team-chat' with a synthesis: the members' replies stream
into *aish*, then rhetor's synthesis of them in a last section.
Interactively, a prefix argument asks for GROUP."
  (interactive
   (let ((group (and current-prefix-arg (read-string "Group (empty for all): "))))
     (list (read-string "Message to the team: ") group)))
  (aish-team-chat message group t))

(defun aish--team-result (req result)
  "Show every member's reply to the team chat REQ from RESULT."
  (let ((responses (plist-get result :responses))
        (late (plist-get result :timed_out)))
    (seq-doseq (r responses)
      ;; Streamed sections are known by AI name; find one by socket id too.
      (let* ((ai (or (plist-get r :ai) (plist-get r :socket_id) "?"))
             (by-socket (assoc (format "0:%s" (plist-get r :socket_id))
                               (aish--req-sections req))))
        (aish--section-set (if by-socket
                               (cdr by-socket)
                             (aish--section req (format "0:%s" ai) ai))
                           (or (plist-get r :content) ""))))
    (let ((synthesis (plist-get result :synthesis)))
      (when synthesis
        (let ((error (plist-get synthesis :error)))
          (aish--section-set
           (aish--synthesis-section req (plist-get synthesis :ai))
           (if error
               (format "[error] %s" error)
             (or (plist-get synthesis :content) ""))))))
    (when (> (length late) 0)
      (aish--block-note req (concat "[timed out] "
                                    (mapconcat #'identity late ", "))))
    (aish--notice "team chat: %d replies" (length responses))))

;;;###autoload
(defun aish-send (ai message)
  "Send MESSAGE to the AI named AI.
The reply is shown in *aish*."
  (interactive (list (read-string "AI: ") (read-string "Message: ")))
  (when (or (string-empty-p (string-trim (or ai "")))
            (string-empty-p (string-trim (or message ""))))
    (user-error "aish: give an AI and a message"))
  (let ((req (aish--req-make
              :method "aish/send" :status ai :ai ai
              :title (format "send to %s" ai)
              :on-result (lambda (req result)
                           (let ((name (aish--req-ai req)))
                             (aish--section-set
                              (aish--section req (format "0:%s" name) name)
                              (or (plist-get result :content) "")))))))
    (aish--ensure)
    (aish--block-start req)
    (aish--request req (list :ai ai :content message))))

;;;###autoload
(defun aish-list ()
  "List the AI sockets of the server in *aish*."
  (interactive)
  (let ((req (aish--req-make :method "aish/list" :status "list"
                             :title "AI sockets"
                             :on-result #'aish--list-result)))
    (aish--ensure)
    (aish--block-start req)
    (aish--request req (make-hash-table))))

(defun aish--list-result (req result)
  "Show the sockets of RESULT in the block of REQ."
  (let ((row (lambda (&rest fields)
               (apply #'format "%-24s %-16s %-10s %-12s %s" fields))))
    (aish--block-note req (funcall row "SOCKET" "AI" "PROVIDER" "STATE" "QUEUE"))
    (seq-doseq (s (plist-get result :sockets))
      (aish--block-note
       req (funcall row (plist-get s :socket_id) (plist-get s :ai_name)
                    (plist-get s :provider) (plist-get s :state)
                    (plist-get s :queue_size))))))

;;;###autoload
(defun aish-cancel ()
  "Cancel every aish request in flight."
  (interactive)
  (if (or (zerop (hash-table-count aish--requests)) (not (aish--live-p)))
      (aish--notice "nothing to cancel")
    (maphash (lambda (_id req) (setf (aish--req-cancelling req) t))
             aish--requests)
    (jsonrpc-async-request
     aish--connection 'aish/cancel (make-hash-table)
     :success-fn (lambda (result)
                   (aish--guarded
                     (aish--log "cancelled %S" (plist-get result :cancelled))))
     :error-fn (lambda (err)
                 (aish--guarded
                   (aish--error "cancel: %s" (aish--error-text err))))
     :timeout 10)))

;;;###autoload
(defun aish-log ()
  "Show the aish log: bridge start and stop, errors, AI messages."
  (interactive)
  (display-buffer (get-buffer-create aish-log-buffer-name)))

(provide 'aish)

;;; aish.el ends here
