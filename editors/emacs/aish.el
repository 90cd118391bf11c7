;;; aish.el --- Run text through AI pipelines with aish  -*- lexical-binding: t; -*-

;; Copyright (C) 2026 The aish authors

;; Author: The aish authors
;; Version: 0.2.0
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
;;   `aish-propose-region'  the same, shown first as a diff to review
;;   `aish-accept', `aish-reject'  take or drop a proposal
;;   `aish-chat'            a conversation with an AI or a team
;;   `aish-add', `aish-context'  attach files and buffers as context
;;   `aish-team-chat'       ask every AI (or a group) at once
;;   `aish-team-chat-synthesize'  the same, and have rhetor sum it up
;;   `aish-send'            send one message to one AI
;;   `aish-list'            list the AI sockets of the server
;;   `aish-cancel'          cancel the newest request (C-u: all)
;;   `aish-log'             show the log (bridge messages, errors)
;;   `aish-stop'            stop the bridge
;;
;; Output streams into the *aish* buffer, one labelled section per
;; pipeline stage or team member, and the window follows it; the mode
;; line shows progress.  The commands on a region are one-shot (see
;; `aish-keep-history'); the chat is a conversation.  The files:
;; aish-rpc.el (the bridge, requests), aish-output.el (*aish*),
;; aish-complete.el (names and prompts), aish-target.el (regions
;; followed through edits), aish-propose.el, aish-chat.el and
;; aish-context.el.

;;; Code:

(require 'aish-rpc)
(require 'aish-output)
(require 'aish-complete)
(require 'aish-target)

;;;; Pipelines

;;;###autoload
(defun aish-pipe-region (beg end pipeline)
  "Run the text from BEG to END through PIPELINE, into *aish*.
PIPELINE is a string such as \"athena review this | apollo\": each
stage is an AI and an optional instruction.  Interactively, the
region, or the current line when no region is active; TAB
completes AI names.  The output of every stage streams into its own
section, and a window at the end of *aish* follows it.
Example: mark a paragraph, \\[aish-pipe-region] apollo fix the grammar RET.
From Lisp: (aish-pipe-region (point-min) (point-max) \"athena | apollo\")."
  (interactive (aish--region-args "Pipeline: "))
  (let* ((p (aish--check-pipeline pipeline))
         (input (aish--input beg end))
         (req (aish--pipeline-req p)))
    (setf (aish--req-on-result req) #'aish--pipe-result)
    (aish--ensure)
    (aish--block-start req)
    (aish--request req (list :input input :pipeline p)))
  nil)

(defun aish--pipe-result (req result)
  "Show every stage's final output of the pipeline REQ from RESULT."
  (let ((i 0))
    (seq-doseq (stage (plist-get result :stages))
      (let ((ai (or (plist-get stage :ai) "?")))
        (aish--section-set
         (aish--section req (aish--key req i ai) ai nil (plist-get stage :socket_id))
         (or (plist-get stage :output) "")))
      (setq i (1+ i))))
  (aish--notice "%s: done" (aish--req-title req)))

;;;###autoload
(defun aish-replace-region (beg end pipeline)
  "Replace the text from BEG to END with its output through PIPELINE.
PIPELINE is a string such as \"athena | apollo\".  The text is
replaced when the answer comes; edits elsewhere in the buffer are
fine (the region is followed with markers), but if the region's
own text changed meanwhile the output goes to *aish* instead.  A
final newline of the region is kept.  To review the change first,
use `aish-propose-region'.
Example: mark a function, \\[aish-replace-region] apollo add comments RET."
  (interactive (aish--region-args "Replace through pipeline: "))
  (let* ((p (aish--check-pipeline pipeline))
         (req (aish--pipeline-req p)))
    (setf (aish--req-target req) (aish--target-make beg end)
          (aish--req-on-result req) #'aish--replace-result)
    (aish--ensure)
    (aish--request req (list :input (aish--input beg end) :pipeline p)))
  nil)

(defun aish--last-ai (result)
  "The AI of the last stage of the pipeline RESULT."
  (let ((stages (plist-get result :stages)))
    (if (> (length stages) 0)
        (plist-get (aref stages (1- (length stages))) :ai)
      "aish")))

(defun aish--replace-result (req result)
  "Put the output of the pipeline REQ, from RESULT, in place of its text."
  (let ((target (aish--req-target req))
        (output (or (plist-get result :output) "")))
    (if (aish--target-intact-p target)
        (progn (aish--target-replace target output)
               (aish--notice "%s: replaced" (aish--req-title req)))
      (aish--block-start req)
      (aish--section-set (aish--section req "output" (aish--last-ai result))
                         output)
      (aish--notice "%s: the text changed meanwhile; the result is in %s"
                    (aish--req-title req) aish-output-buffer-name))
    (aish--target-release target)))

;;;; Team chat, send, list

(defun aish--team-args ()
  "Interactive arguments of `aish-team-chat'."
  (let ((group (and current-prefix-arg
                    (aish-read-group "Group (empty for all): "))))
    (list (read-string "Message to the team: ") group
          (and (consp current-prefix-arg)
               (>= (prefix-numeric-value current-prefix-arg) 16)))))

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
GROUP (TAB completes), and two (\\[universal-argument] \\[universal-argument]) ask
for GROUP and for the synthesis.  See also `aish-team-chat-synthesize'.
Example: \\[universal-argument] \\[aish-team-chat] duo RET one word for caching? RET."
  (interactive (aish--team-args))
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
                                    (list :moderation "synthesis")))))
  nil)

;;;###autoload
(defun aish-team-chat-synthesize (message &optional group)
  "Send MESSAGE to the team, or to GROUP, and have rhetor sum it up.
Like `aish-team-chat' with a synthesis: the members' replies stream
into *aish*, then rhetor's synthesis of them in a last section.
Interactively, a prefix argument asks for GROUP.
Example: \\[aish-team-chat-synthesize] how should we cache this? RET."
  (interactive
   (let ((group (and current-prefix-arg
                     (aish-read-group "Group (empty for all): "))))
     (list (read-string "Message to the team: ") group)))
  (aish-team-chat message group t))

(defun aish--team-result (req result)
  "Show every member's reply to the team chat REQ from RESULT."
  (let ((responses (plist-get result :responses))
        (late (plist-get result :timed_out)))
    (seq-doseq (r responses)
      (let* ((socket (plist-get r :socket_id))
             (ai (or (plist-get r :ai) socket "?")))
        (aish--section-set (aish--section req (format "0:%s" (or socket ai))
                                          ai nil socket)
                           (if (plist-get r :error)
                               (format "[error] %s" (plist-get r :error))
                             (or (plist-get r :content) "")))))
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
  "Send MESSAGE to the AI named AI; its reply streams into *aish*.
AI is a socket id or an AI name (TAB completes).
Example: \\[aish-send] apollo RET what is a pipe? RET."
  (interactive (list (aish-read-ai "AI: ") (read-string "Message: ")))
  (when (or (string-empty-p (string-trim (or ai "")))
            (string-empty-p (string-trim (or message ""))))
    (user-error "aish: give an AI and a message"))
  (let ((req (aish--req-make
              :method "aish/send" :status ai :ai ai
              :title (format "send to %s" ai)
              :on-result (lambda (req result)
                           (let ((socket (plist-get result :socket_id)))
                             (aish--section-set
                              (aish--section req (format "0:%s" (or socket ai))
                                             (aish--ai-of (or socket ai)) nil socket)
                              (or (plist-get result :content) "")))))))
    (aish--ensure)
    (aish--block-start req)
    (aish--request req (list :ai ai :content message)))
  nil)

;;;###autoload
(defun aish-list ()
  "List the AI sockets of the server in *aish*.
Example: \\[aish-list]."
  (interactive)
  (let ((req (aish--req-make :method "aish/list" :status "list"
                             :title "AI sockets"
                             :on-result #'aish--list-result)))
    (aish--ensure)
    (aish--block-start req)
    (aish--request req (make-hash-table)))
  nil)

(defun aish--list-result (req result)
  "Show the sockets of RESULT in the block of REQ."
  (let ((row (lambda (&rest fields)
               (apply #'format "%-24s %-16s %-10s %-12s %s" fields))))
    (aish--remember-sockets (plist-get result :sockets))
    (aish--block-note req (funcall row "SOCKET" "AI" "PROVIDER" "STATE" "QUEUE"))
    (seq-doseq (s (plist-get result :sockets))
      (aish--block-note
       req (funcall row (plist-get s :socket_id) (plist-get s :ai_name)
                    (plist-get s :provider) (plist-get s :state)
                    (plist-get s :queue_size))))))

;;;###autoload
(defun aish-log ()
  "Show the aish log: bridge start and stop, errors, AI messages.
Errors are one short line in the echo area; their whole text is here.
Example: \\[aish-log]."
  (interactive)
  (display-buffer (get-buffer-create aish-log-buffer-name))
  nil)

(provide 'aish)

(require 'aish-context)
(require 'aish-propose)
(require 'aish-chat)

;;; aish.el ends here
