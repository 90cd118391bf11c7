;;; aish-rpc.el --- The aish bridge: process, requests, messages  -*- lexical-binding: t; -*-

;; Copyright (C) 2026 The aish authors

;; This file is not part of GNU Emacs.

;; This program is free software: you can redistribute it and/or modify
;; it under the terms of the GNU General Public License as published by
;; the Free Software Foundation, either version 3 of the License, or
;; (at your option) any later version.

;;; Commentary:

;; The lowest layer of aish.el: the options, the `aish-bridge' process
;; (started on first use, spoken to with the built-in `jsonrpc' library
;; over a pipe), the requests in flight and their progress, the log,
;; short error lines in the echo area, the mode-line spinner, and the
;; items attached as context.  Every other aish file builds on it.
;;
;; Callbacks from the bridge run inside jsonrpc's process filter: an
;; error escaping them would break the connection (and kill a batch
;; Emacs), so each one runs under `aish--guarded'.

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
When `aish-rhetor-url' is set, \"--rhetor URL\" is added to it.
Example: \\='(\"aish-bridge\" \"--log\" \"/tmp/aish-bridge.log\")."
  :type '(repeat string))

(defcustom aish-rhetor-url nil
  "The URL of aish-rhetor, passed to the bridge as --rhetor.
When nil, the bridge uses AISH_RHETOR_URL or http://127.0.0.1:8300."
  :type '(choice (const :tag "The bridge's default" nil) string))

(define-obsolete-variable-alias 'aish-request-timeout 'aish-timeout "0.2.0")

(defcustom aish-timeout nil
  "Seconds of silence after which a request fails, or nil.
The limit counts from the last thing an AI sent (its acceptance of
the request, a streamed piece, a reply): a reply that keeps
streaming is never cut.  nil means the bridge's default (120 s)."
  :type '(choice (const :tag "The bridge's default" nil) number))

(defcustom aish-keep-history nil
  "When non-nil, one-shot commands join the AI's conversation.
By default the commands on a region (pipe, replace, propose, team
chat, send) are one-shot: each AI answers this request alone, from
its system prompt, and its history is neither read nor extended.
The chat (`aish-chat') is always a conversation."
  :type 'boolean)

(defcustom aish-start-timeout 30
  "Seconds to wait for the bridge to answer `initialize'."
  :type 'number)

(defcustom aish-log-buffer-name "*aish-log*"
  "The name of the buffer that receives the log."
  :type 'string)

(defcustom aish-log-message-limit 2000
  "Characters of one AI message kept in the log."
  :type 'integer)

;;;; State

(defvar aish--connection nil
  "The `jsonrpc-process-connection' to the bridge, or nil.")

(defvar aish--requests (make-hash-table)
  "Requests in flight, by JSON-RPC id.")

(defvar aish--spinner-timer nil
  "The timer that turns the mode-line spinner.")

(defvar aish--spin 0
  "The position of the mode-line spinner.")

(defvar aish--died 0
  "Requests that failed because the bridge died, not yet reported.")

(defvar aish-last-error nil
  "The last error reported by aish, as a string.")

(defvar aish-last-notice nil
  "The last notice shown by aish, as a string.")

(defvar aish-context-items nil
  "The items attached as context, newest last.
Each is a plist (:name NAME :text TEXT :language LANG :buffer BUF
:file FILE); the text of a buffer item is read when a request is
sent.  See `aish-add' and `aish-context'.")

(defvar aish-message-functions nil
  "Functions called with the params of every aish/message notification.
The chat buffers follow their conversations through it.")

(defvar aish-delta-functions nil
  "Functions called with the params of every aish/delta notification.
The chat buffers stream the replies other editors asked for through it.")

(defvar aish-start-functions nil
  "Functions called with no argument when a new bridge is ready.")

(defconst aish--mode-line '(:eval (aish--mode-line-string))
  "The entry that aish puts in `global-mode-string' while it works.")

(cl-defstruct (aish--req (:constructor aish--req-make))
  "A request in flight.
ON-RESULT is called with the request and the result; ON-PROGRESS,
when set, with the request and each aish/progress params instead
of the default streaming into *aish*; ON-END with the request and
the error text (nil on success) when it ends, however it ends."
  id conn method title stages ai (status "") block sections
  tail target on-result on-progress on-end cancelling done data)

;;;; Messages and log

(defun aish--log (format-string &rest args)
  "Add a line made by FORMAT-STRING and ARGS to the log buffer."
  (let ((text (apply #'format format-string args)))
    (with-current-buffer (get-buffer-create aish-log-buffer-name)
      (let ((inhibit-read-only t))
        (save-excursion
          (goto-char (point-max))
          (insert (format-time-string "%H:%M:%S ") text "\n"))))))

(defun aish--short (text)
  "TEXT as one line that fits the echo area."
  (let* ((line (replace-regexp-in-string "[\n\t ]+" " " (string-trim text)))
         (width (max 40 (1- (frame-width)))))
    (if (<= (string-width line) width)
        line
      (concat (truncate-string-to-width line (- width 18))
              "… (M-x aish-log)"))))

(defun aish--error (format-string &rest args)
  "Report an error made by FORMAT-STRING and ARGS, without signalling.
One short line goes to the echo area, the whole text to the log.
Used from process callbacks, where a signal would break the connection."
  (let ((text (concat "aish: " (apply #'format format-string args))))
    (setq aish-last-error text)
    (aish--log "error: %s" text)
    (message "%s" (propertize (aish--short text) 'face 'error))))

(defun aish--notice (format-string &rest args)
  "Show a notice made by FORMAT-STRING and ARGS."
  (let ((text (concat "aish: " (apply #'format format-string args))))
    (setq aish-last-notice text)
    (message "%s" (aish--short text))))

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
                       :stderr (get-buffer-create " *aish stderr*")))))
    (aish--log "started %s" (mapconcat #'identity command " "))
    (condition-case err
        (let* ((result (jsonrpc-request
                        aish--connection 'initialize
                        '(:client_info (:name "aish.el" :version "0.2.0"))
                        :timeout aish-start-timeout))
               (rhetor (plist-get result :rhetor)))
          (aish--log "bridge ready; rhetor %s %s"
                     (plist-get rhetor :url)
                     (if (eq (plist-get rhetor :connected) t)
                         "connected" "not connected")))
      (error
       (aish-stop)
       (user-error "aish: the bridge did not start: %s"
                   (aish--condition-text err))))
    (run-hooks 'aish-start-functions)))

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

(defun aish--exit-text (conn)
  "How the bridge process of CONN ended, as words."
  (let ((proc (ignore-errors (jsonrpc--process conn))))
    (pcase (and proc (process-status proc))
      ('signal (format "killed (signal %d)" (process-exit-status proc)))
      ('exit (format "exited (status %d)" (process-exit-status proc)))
      (_ "ended"))))

(defun aish--on-shutdown (conn)
  "The bridge of CONN ended: fail its requests in flight, say so once."
  (aish--guarded
    (let ((how (aish--exit-text conn))
          pending)
      (aish--log "bridge %s" how)
      (maphash (lambda (_id req)
                 (when (eq (aish--req-conn req) conn)
                   (push req pending)))
               aish--requests)
      (dolist (req pending)
        (aish--finish req "aish-bridge exited" nil t))
      (setq pending (+ (length pending) aish--died)
            aish--died 0)
      (when (eq conn aish--connection)
        (setq aish--connection nil)
        (unless (aish--stopping-p conn)
          (aish--error "aish-bridge %s%s; next command restarts it"
                       how
                       (if (> pending 0)
                           (format ", %d request%s failed" pending
                                   (if (> pending 1) "s" ""))
                         "")))))))

(defun aish--stopping-p (conn)
  "Non-nil when CONN is being stopped on purpose."
  (ignore-errors (process-get (jsonrpc--process conn) 'aish-stopping)))

;;;###autoload
(defun aish-stop ()
  "Stop the bridge.
The next aish command starts it again.  Example: \\[aish-stop]."
  (interactive)
  (when aish--connection
    (let ((conn aish--connection))
      (setq aish--connection nil)
      (ignore-errors (process-put (jsonrpc--process conn) 'aish-stopping t))
      (ignore-errors (jsonrpc-shutdown conn t)))))

;;;; Requests

(defun aish--next-id (conn)
  "The id that the next request on CONN will get.
`jsonrpc-async-request' does not return it; progress notifications
carry it."
  (1+ (jsonrpc--next-request-id conn)))

(defconst aish--one-shot-methods '("aish/pipeline" "aish/send" "aish/teamChat")
  "The methods that are one-shot unless `aish-keep-history' is set.")

(defconst aish--context-methods
  '("aish/pipeline" "aish/send" "aish/teamChat" "aish/write")
  "The methods that take context items.")

(defun aish--context-params ()
  "The context items as the bridge's `context' param (a vector)."
  (vconcat
   (delq nil
         (mapcar (lambda (item)
                   (let ((text (aish--context-text item)))
                     (and text
                          (append (list :name (plist-get item :name) :text text)
                                  (let ((lang (plist-get item :language)))
                                    (and lang (list :language lang)))))))
                 aish-context-items))))

(defun aish--context-text (item)
  "The text of the context ITEM now, or nil when its buffer is gone."
  (let ((buffer (plist-get item :buffer))
        (file (plist-get item :file)))
    (cond (file
           (condition-case err
               (with-temp-buffer
                 (insert-file-contents file)
                 (buffer-string))
             (file-error
              (aish--log "context %s: %s" file (error-message-string err))
              nil)))
          ((null buffer) (plist-get item :text))
          ((buffer-live-p buffer)
           (with-current-buffer buffer
             (save-restriction
               (widen)
               (buffer-substring-no-properties (point-min) (point-max))))))))

(defun aish--params (method params)
  "PARAMS of METHOD with the time limit, freshness and context added.
PARAMS is a plist, or a hash table for no params at all."
  (if (hash-table-p params)
      params
    (append params
          (and aish-timeout (member method aish--context-methods)
               (not (plist-member params :timeout_ms))
               (list :timeout_ms (round (* 1000 aish-timeout))))
          (and (member method aish--one-shot-methods)
               (not (plist-member params :fresh))
               (list :fresh (if aish-keep-history :json-false t)))
          (and aish-context-items (member method aish--context-methods)
               (list :context (aish--context-params))))))

(defun aish--request (req params)
  "Send REQ (an `aish--req') with PARAMS and record it."
  (let* ((conn (aish--ensure))
         (id (aish--next-id conn))
         (method (aish--req-method req)))
    (setf (aish--req-id req) id
          (aish--req-conn req) conn)
    (puthash id req aish--requests)
    (jsonrpc-async-request
     conn (intern method) (aish--params method params)
     :success-fn (lambda (result)
                   (aish--guarded (aish--on-result req result)))
     :error-fn (lambda (err)
                 (aish--guarded (aish--on-error req err)))
     :timeout nil)
    (aish--spinner-start)
    req))

(defun aish--on-result (req result)
  "The answer RESULT to REQ."
  (unwind-protect
      (when (aish--req-on-result req)
        (funcall (aish--req-on-result req) req result))
    (aish--finish req nil)))

(defun aish--on-error (req err)
  "The error ERR (a plist with :code and :message) answering REQ."
  (aish--log "%s (request %s): error %s %s%s" (aish--req-title req)
             (aish--req-id req) (plist-get err :code) (plist-get err :message)
             (let ((data (plist-get err :data)))
               (if data (format " %S" data) "")))
  (pcase (plist-get err :code)
    (-32800 (aish--finish req nil t))
    ;; jsonrpc's own code when the process died: `aish--on-shutdown'
    ;; says it once for every request.
    (-1 (setq aish--died (1+ aish--died))
        (aish--finish req "aish-bridge exited" nil t))
    (_ (aish--finish req (aish--error-text err)))))

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

(defun aish--finish (req error &optional cancelled quiet)
  "End REQ: report ERROR or its cancellation when CANCELLED.
With QUIET, ERROR goes in the output but not in the echo area."
  (unless (aish--req-done req)
    (setf (aish--req-done req) t)
    (remhash (aish--req-id req) aish--requests)
    (unwind-protect
        (cond (cancelled
               (aish--block-note req "[cancelled]")
               (aish--notice "%s: cancelled" (aish--req-title req)))
              (error
               (aish--block-note req (concat "[error] " error))
               (unless quiet
                 (aish--error "%s" error))))
      (when (aish--req-on-end req)
        (funcall (aish--req-on-end req) req (if cancelled "cancelled" error)))
      (when (zerop (hash-table-count aish--requests))
        (aish--spinner-stop)))))

(defun aish--block-note (req text)
  "Add the line TEXT at the end of the output block of REQ, if any."
  (let ((block (aish--req-block req)))
    (when (and (markerp block) (buffer-live-p (marker-buffer block)))
      (aish--insert-at block (concat text "\n")))))

(defun aish--on-notification (_conn method params)
  "A notification METHOD with PARAMS from the bridge."
  (aish--guarded
    (pcase method
      ('aish/progress (aish--on-progress params))
      ('aish/message (aish--on-message params))
      ('aish/delta (dolist (f aish-delta-functions)
                     (aish--guarded (funcall f params))))
      (_ (aish--log "notification %s" method)))))

(defun aish--on-message (params)
  "Log the AI message of an aish/message notification PARAMS; pass it on."
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
               content))
  (dolist (f aish-message-functions)
    (aish--guarded (funcall f params))))

(defun aish--on-progress (params)
  "An aish/progress notification PARAMS: hand it to its request."
  (let ((req (gethash (plist-get params :request_id) aish--requests)))
    (when (and req (not (aish--req-done req)))
      (let ((ai (or (plist-get params :ai) "?"))
            (stage (or (plist-get params :stage) 0)))
        (setf (aish--req-status req)
              (cond ((equal (aish--req-method req) "aish/pipeline")
                     (format "%s %d/%d" ai (1+ stage) (aish--req-stages req)))
                    ((and (equal (aish--req-method req) "aish/teamChat")
                          (eql stage 1))
                     (concat ai " (synthesis)"))
                    (t ai))))
      (if (aish--req-on-progress req)
          (funcall (aish--req-on-progress req) req params)
        (aish--stream-progress req params)))))

(declare-function aish--stream-progress "aish-output" (req params))
(declare-function aish--insert-at "aish-output" (marker text))

;;;; Cancelling

(defun aish--newest-request ()
  "The request in flight sent last, or nil."
  (let (newest)
    (maphash (lambda (_id req)
               (when (or (null newest) (> (aish--req-id req) (aish--req-id newest)))
                 (setq newest req)))
             aish--requests)
    newest))

;;;###autoload
(defun aish-cancel (&optional all)
  "Cancel the newest aish request in flight; with ALL, every one.
Interactively, a prefix argument (\\[universal-argument] \\[aish-cancel])
cancels them all.  The AIs' work stops on the server too.
Example: start \\[aish-pipe-region] on a long text, then \\[aish-cancel]."
  (interactive "P")
  (let ((newest (aish--newest-request)))
    (if (or (null newest) (not (aish--live-p)))
        (aish--notice "nothing to cancel")
      (if all
          (progn
            (maphash (lambda (_id req) (setf (aish--req-cancelling req) t))
                     aish--requests)
            (aish--cancel-request nil))
        (aish--cancel-request newest)))))

(defun aish--cancel-request (req)
  "Ask the bridge to cancel REQ, or every request when REQ is nil."
  (when (and (aish--live-p) (or (null req) (not (aish--req-done req))))
    (when req
      (setf (aish--req-cancelling req) t))
    (jsonrpc-async-request
     aish--connection 'aish/cancel
     (if req (list :id (aish--req-id req)) (make-hash-table))
     :success-fn (lambda (result)
                   (aish--guarded
                     (aish--log "cancelled %S" (plist-get result :cancelled))))
     :error-fn (lambda (err)
                 (aish--guarded
                   (aish--error "cancel: %s" (aish--error-text err))))
     :timeout 10)))

;;;; The mode line

(defun aish--mode-line-string ()
  "The mode-line text while requests are in flight."
  (let ((req (aish--newest-request))
        (n (hash-table-count aish--requests)))
    (when req
      (format " aish[%c %s%s%s]"
              (aref "-\\|/" (% aish--spin 4))
              (aish--req-status req)
              (if (aish--req-cancelling req) " cancelling" "")
              (if (> n 1) (format " +%d" (1- n)) "")))))

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

(provide 'aish-rpc)

;;; aish-rpc.el ends here
