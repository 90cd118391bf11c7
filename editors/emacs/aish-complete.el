;;; aish-complete.el --- Minibuffer completion of AI and group names  -*- lexical-binding: t; -*-

;; Copyright (C) 2026 The aish authors

;; This file is not part of GNU Emacs.

;; This program is free software: you can redistribute it and/or modify
;; it under the terms of the GNU General Public License as published by
;; the Free Software Foundation, either version 3 of the License, or
;; (at your option) any later version.

;;; Commentary:

;; The names of the server's AI sockets and groups, kept from the
;; bridge's aish/list and refreshed in the background when a prompt
;; opens: completion reads the cache and never waits for the server.
;;
;; `aish-read-pipeline' reads "athena review this | apollo": TAB
;; completes the AI name at the start of each stage and leaves the
;; instruction alone (spaces are ordinary characters there).
;; `aish-read-ai' and `aish-read-group' read one name.

;;; Code:

(require 'aish-rpc)

(defcustom aish-names-max-age 10
  "Seconds after which a prompt refreshes the cached AI names."
  :type 'number
  :group 'aish)

(defvar aish--sockets nil
  "The server's sockets from the last aish/list: a list of plists.")

(defvar aish--sockets-time nil
  "When `aish--sockets' was fetched (a float time), or nil.")

(defvar aish--sockets-asked nil
  "Non-nil while an aish/list for the cache is in flight.")

(defvar aish-pipeline-history nil
  "Pipelines entered at aish prompts.")

(defvar aish-name-history nil
  "AI and group names entered at aish prompts.")

(defun aish--remember-sockets (sockets)
  "Keep SOCKETS (a vector of socket plists) as the cache."
  (setq aish--sockets (append sockets nil)
        aish--sockets-time (float-time)))

(defun aish--refresh-names (&optional force)
  "Fetch the socket list in the background when the cache is old.
With FORCE, fetch it whatever its age.  Never waits; never signals."
  (when (and (not aish--sockets-asked)
             (or force (null aish--sockets-time)
                 (> (- (float-time) aish--sockets-time) aish-names-max-age)))
    (condition-case err
        (let ((conn (aish--ensure)))
          (setq aish--sockets-asked t)
          (jsonrpc-async-request
           conn 'aish/list (make-hash-table)
           :success-fn (lambda (result)
                         (aish--guarded
                           (setq aish--sockets-asked nil)
                           (aish--remember-sockets (plist-get result :sockets))))
           :error-fn (lambda (err)
                       (aish--guarded
                         (setq aish--sockets-asked nil)
                         (aish--log "names: %s" (aish--error-text err))))
           :timeout nil))
      (error (setq aish--sockets-asked nil)
             (aish--log "names: %s" (error-message-string err))))))

(add-hook 'aish-start-functions #'aish--forget-names)

(defun aish--forget-names ()
  "Let the next prompt fetch the names again (a new bridge)."
  (setq aish--sockets-time nil
        aish--sockets-asked nil))

(defun aish--team-socket-p (id)
  "Non-nil when the socket ID is a team chat socket."
  (string-prefix-p "team-chat-" id))

(defun aish-ai-names ()
  "The names a stage may use: every socket id but the team chat ones.
A roster AI's socket id is its name; another socket of an AI has an
id of its own (\"apollo-2\")."
  (let (names)
    (dolist (s aish--sockets)
      (let ((id (plist-get s :socket_id)))
        (unless (or (null id) (aish--team-socket-p id))
          (push id names))))
    (sort names #'string<)))

(defun aish-group-names ()
  "The groups of the server, from the socket list."
  (let (names)
    (dolist (s aish--sockets)
      (let ((id (plist-get s :socket_id)))
        (seq-doseq (g (plist-get s :groups))
          (push g names))
        (when (and id (aish--team-socket-p id) (not (equal id "team-chat-all")))
          (push (substring id (length "team-chat-")) names))))
    (delete-dups (sort names #'string<))))

(defun aish--socket-of (name)
  "The socket id that NAME (a socket id or an AI name) stands for."
  (or (and (seq-find (lambda (s) (equal (plist-get s :socket_id) name))
                     aish--sockets)
           name)
      (let ((of-ai (seq-filter (lambda (s) (equal (plist-get s :ai_name) name))
                               aish--sockets)))
        (and (= (length of-ai) 1) (plist-get (car of-ai) :socket_id)))
      name))

(defun aish--ai-of (socket-id)
  "The AI name of SOCKET-ID from the cache, else SOCKET-ID."
  (or (plist-get (seq-find (lambda (s) (equal (plist-get s :socket_id) socket-id))
                           aish--sockets)
                 :ai_name)
      socket-id))

;;;; Reading a pipeline

(defvar aish-minibuffer-map
  (let ((map (make-sparse-keymap)))
    (set-keymap-parent map minibuffer-local-map)
    (define-key map "\t" #'completion-at-point)
    (define-key map (kbd "M-TAB") #'completion-at-point)
    map)
  "The keymap of the aish pipeline prompt: TAB completes AI names.")

(defun aish--stage-name-bounds ()
  "The bounds of the AI name being typed at point, or nil.
The name is the first word of a stage: after the start of the
input or a \"|\", and before any blank."
  (let* ((start (minibuffer-prompt-end))
         (before (buffer-substring-no-properties start (point)))
         (stage (if (string-match ".*|\\(.*\\)\\'" before)
                    (match-beginning 1)
                  0))
         (lead (string-match "[^ \t]\\|\\'" before stage)))
    (unless (string-match-p "[ \t]" (substring before lead))
      (cons (+ start lead)
            (save-excursion (skip-chars-forward "^ \t|") (point))))))

(defun aish--pipeline-capf ()
  "Complete the AI name of the stage at point in a pipeline prompt."
  (let ((bounds (aish--stage-name-bounds)))
    (when bounds
      (list (car bounds) (cdr bounds)
            (completion-table-dynamic (lambda (_) (aish-ai-names)))
            :exclusive 'no))))

(defun aish-read-pipeline (prompt &optional initial)
  "Read a pipeline with PROMPT, INITIAL text; TAB completes AI names.
Example: \"athena review this | apo\" TAB gives \"... | apollo\"."
  (aish--refresh-names)
  (minibuffer-with-setup-hook
      (lambda ()
        (add-hook 'completion-at-point-functions #'aish--pipeline-capf nil t))
    (read-from-minibuffer prompt initial aish-minibuffer-map nil
                          'aish-pipeline-history)))

(defun aish-read-ai (prompt)
  "Read an AI name (a socket id or AI name) with PROMPT, with completion."
  (aish--refresh-names)
  (completing-read prompt (completion-table-dynamic (lambda (_) (aish-ai-names)))
                   nil nil nil 'aish-name-history))

(defun aish-read-group (prompt)
  "Read a group name with PROMPT, with completion."
  (aish--refresh-names)
  (completing-read prompt (completion-table-dynamic (lambda (_) (aish-group-names)))
                   nil nil nil 'aish-name-history))

;;;; Command arguments

(defun aish--check-pipeline (pipeline)
  "Return PIPELINE trimmed; signal a `user-error' when it is malformed."
  (let ((p (string-trim (or pipeline ""))))
    (when (or (string-empty-p p)
              (string-match-p "\\`|\\||[ \t]*\\'\\||[ \t]*|" p))
      (user-error "aish: give a pipeline of AIs, like \"athena | apollo\""))
    p))

(defun aish--region-args (prompt)
  "Interactive arguments: the region (else the line) and a pipeline.
The pipeline is read with PROMPT and completion."
  (let ((bounds (if (use-region-p)
                    (list (region-beginning) (region-end))
                  (list (line-beginning-position) (line-end-position)))))
    (append bounds (list (aish-read-pipeline prompt)))))

(defun aish--input (beg end)
  "The text from BEG to END, less one final newline."
  (let ((text (buffer-substring-no-properties beg end)))
    (if (string-suffix-p "\n" text) (substring text 0 -1) text)))

(defun aish--pipeline-req (pipeline)
  "A pipeline request for PIPELINE."
  (aish--req-make :method "aish/pipeline" :title pipeline :status pipeline
                  :stages (length (split-string pipeline "|"))))

(provide 'aish-complete)

;;; aish-complete.el ends here
