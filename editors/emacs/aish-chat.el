;;; aish-chat.el --- A conversation with an AI or a team  -*- lexical-binding: t; -*-

;; Copyright (C) 2026 The aish authors

;; This file is not part of GNU Emacs.

;; This program is free software: you can redistribute it and/or modify
;; it under the terms of the GNU General Public License as published by
;; the Free Software Foundation, either version 3 of the License, or
;; (at your option) any later version.

;;; Commentary:

;; `aish-chat' opens *aish-chat SOCKET*: the conversation the server
;; keeps for the socket (aish/history), then a line, then the prompt
;; area, everything below it.  C-c C-c sends the prompt area (as part
;; of the conversation, not one-shot) and clears it; the reply streams
;; in above the line.  Opening a chat opens its socket in the bridge
;; (aish/open), so every turn on it, whoever wrote it, comes as
;; aish/message ("role" "user" or "assistant") and every piece of a
;; reply as aish/delta: every Emacs (and Vim) with the same chat open
;; shows every turn as it arrives, other editors' replies streaming.
;; The chat's own question told back, and its own reply, show once;
;; one-shot replies ("fresh": true) never.  After a new bridge, each
;; chat reads its conversation again and puts the turns it missed in
;; their place.  Reopening a chat, even after quitting Emacs, shows
;; the whole conversation.  With a group, the chat is with a team:
;; each member answers in turn.

;;; Code:

(require 'aish-rpc)
(require 'aish-output)
(require 'aish-complete)

(defcustom aish-chat-history-limit 200
  "How many turns of a conversation a chat buffer shows when it opens."
  :type 'integer
  :group 'aish)

(defface aish-chat-user '((t :inherit font-lock-string-face :weight bold))
  "Face of the \"[You]\" labels in chat buffers."
  :group 'aish)

(defface aish-chat-separator '((t :inherit shadow))
  "Face of the line above the prompt area of a chat buffer."
  :group 'aish)

(defvar-local aish-chat-socket nil
  "The socket of this chat buffer (for a team, team-chat-GROUP).")

(defvar-local aish-chat-group nil
  "The group of this chat buffer, or nil for a chat with one AI.")

(defvar-local aish-chat--members nil
  "The member sockets of a team chat, whose messages it shows.")

(defvar-local aish-chat--end nil
  "A marker at the end of the conversation, above the prompt line.")

(defvar-local aish-chat--prompt nil
  "A marker at the start of the prompt area.")

(defvar-local aish-chat--seen nil
  "The seqs of the turns shown, a hash table.")

(defvar-local aish-chat--loaded nil
  "Non-nil once the history is shown; messages wait until then.")

(defvar-local aish-chat--waiting nil
  "Messages that came before the history, newest first.")

(defvar-local aish-chat--requests nil
  "The requests of this buffer in flight, oldest first.")

(defvar-local aish-chat--sent nil
  "Questions sent from here that the bridge has not told back yet.
Each is a plist (:text TEXT :call CALL :at TIME :context BOOL).")

(defvar-local aish-chat--remote nil
  "Replies another editor asked for, streaming in: write id -> section.")

(defvar-local aish-chat--last-user nil
  "The text of the last user turn shown (a team echoes it per member).")

(defvar-local aish-chat--reload-at nil
  "When the conversation was read again after a new bridge, or nil.")

(defvar-local aish-chat--catchup nil
  "Where the turns said while no bridge followed the chat go, or nil.")

(defvar-local aish-chat--own-seqs nil
  "The seqs of the questions sent from here since the conversation was
read again, as the bridge told them back.")

(defvar aish--chat-place nil
  "The marker where the next turn goes, when not the end of the chat.")

(cl-defstruct (aish--chat-call (:constructor aish--chat-call-make))
  "What a chat request needs: its BUFFER, the id of its WRITE once the
bridge tells the question back, the sockets whose reply CLAIMED came."
  buffer write claimed)

(defvar aish-chat-mode-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "C-c C-c") #'aish-chat-send)
    (define-key map (kbd "C-c C-k") #'aish-cancel)
    map)
  "Keys of chat buffers.")

(define-derived-mode aish-chat-mode text-mode "aish-chat"
  "Major mode of aish chat buffers.
Type below the line and \\[aish-chat-send] sends it; the reply streams
in above the line.  \\[aish-cancel] cancels the newest request."
  (setq-local header-line-format
              '(:eval (format " aish chat with %s — C-c C-c sends the text below the line"
                              (or aish-chat-group aish-chat-socket)))))

;;;; Opening

(defun aish--chat-args ()
  "Interactive arguments of `aish-chat'."
  (if current-prefix-arg
      (list nil (aish-read-group "Chat with group: "))
    (list (aish--chat-read "Chat with AI (or -g GROUP): "))))

(defun aish--chat-read (prompt)
  "Read with PROMPT an AI, or \"-g GROUP\"; TAB completes both.
SPC is a space here (not a completion): \"-g duo\" can be typed."
  (aish--refresh-names)
  (let ((minibuffer-local-completion-map
         (let ((map (make-sparse-keymap)))
           (set-keymap-parent map minibuffer-local-completion-map)
           (define-key map " " #'self-insert-command)
           map)))
    (completing-read prompt
                     (completion-table-dynamic
                      (lambda (_)
                        (append (aish-ai-names)
                                (mapcar (lambda (g) (concat "-g " g))
                                        (aish-group-names)))))
                     nil nil nil 'aish-name-history)))

;;;###autoload
(defun aish-chat (ai &optional group)
  "Open the conversation with AI, or with the team GROUP.
The buffer *aish-chat SOCKET* shows what the server keeps of the
conversation, then a prompt area below a line: type there and
\\<aish-chat-mode-map>\\[aish-chat-send] sends it and clears it; the reply streams in above
the line.  Every turn of the conversation shows as it arrives, in
every Emacs (and Vim) that has this chat open, and reopening it,
even after quitting Emacs, shows it whole.  AI is a socket id or an
AI name (TAB completes); \"-g GROUP\" as AI, or interactively a
prefix argument (\\[universal-argument]), makes it a chat with a team.
Example: \\[aish-chat] apollo RET, type a question, \\[aish-chat-send]."
  (interactive (aish--chat-args))
  (when (and ai (string-match "\\`[ \t]*-g[ \t]+\\([^ \t]+\\)[ \t]*\\'" ai))
    (setq group (match-string 1 ai) ai nil))
  (when (and group (string-empty-p (string-trim group)))
    (setq group nil))
  (unless (or group (and ai (not (string-empty-p (string-trim ai)))))
    (user-error "aish: give an AI (or a group) to chat with"))
  (aish--ensure)
  (let* ((socket (if group (concat "team-chat-" group) (aish--socket-of (string-trim ai))))
         (name (format "*aish-chat %s*" socket))
         (buffer (get-buffer name)))
    (unless (buffer-live-p buffer)
      (setq buffer (aish--chat-buffer-make name socket group))
      (with-current-buffer buffer
        (aish--chat-load)))
    (pop-to-buffer buffer)
    buffer))

(defun aish--chat-buffer-make (name socket group)
  "A new chat buffer NAME for SOCKET (of GROUP), the prompt below a line."
  (with-current-buffer (get-buffer-create name)
    (aish-chat-mode)
    (setq aish-chat-socket socket
          aish-chat-group group
          aish-chat--seen (make-hash-table)
          aish-chat--remote (make-hash-table :test #'equal))
    (let ((inhibit-read-only t))
      (insert (propertize "(loading the conversation)\n" 'aish-chat-loading t))
      (setq aish-chat--end (copy-marker (point)))
      (insert (propertize "---- type below this line; C-c C-c sends ----\n"
                          'face 'aish-chat-separator
                          'read-only t 'rear-nonsticky t 'front-sticky nil))
      (setq aish-chat--prompt (copy-marker (point))))
    (current-buffer)))

(defun aish--chat-load (&optional again)
  "Fetch the conversation of the current chat buffer and show it.
The socket list comes first: it names the AIs (and a group's members);
then each socket is opened (aish/open, so that no turn is missed
between the history and the first live one) and its history read.
AGAIN: the chat shows its conversation already (a new bridge), so
only the turns it lacks are added, in their place."
  (let ((buffer (current-buffer)))
    (when again
      (setq aish-chat--reload-at (float-time)
            aish-chat--own-seqs nil)
      (if aish-chat--catchup
          (set-marker aish-chat--catchup aish-chat--end)
        (setq aish-chat--catchup (copy-marker aish-chat--end))))
    (jsonrpc-async-request
     (aish--ensure) 'aish/list (make-hash-table)
     :success-fn
     (lambda (result)
       (aish--guarded
         (aish--remember-sockets (plist-get result :sockets))
         (when (buffer-live-p buffer)
           (with-current-buffer buffer
             (if (not aish-chat-group)
                 (if (or again (seq-find (lambda (s) (equal (plist-get s :socket_id)
                                                            aish-chat-socket))
                                         aish--sockets))
                     (aish--chat-history buffer (list aish-chat-socket) again)
                   (aish--chat-refuse
                    buffer (format "unknown AI \"%s\" (M-x aish-list lists the AI sockets)"
                                   aish-chat-socket)))
               (setq aish-chat--members
                     (delq nil (mapcar (lambda (s)
                                         (and (seq-contains-p (plist-get s :groups)
                                                              aish-chat-group)
                                              (plist-get s :socket_id)))
                                       aish--sockets)))
               (if (or again aish-chat--members)
                   (aish--chat-history buffer aish-chat--members again)
                 (aish--chat-refuse
                  buffer (format "unknown group \"%s\" (or one without members)"
                                 aish-chat-group))))))))
     :error-fn (lambda (err)
                 (aish--guarded
                   (aish--chat-loaded buffer nil (aish--error-text err) again)))
     :timeout nil)))

(defun aish--chat-refuse (buffer why)
  "Close the chat BUFFER, which has nothing to show; say WHY on one line."
  (dolist (w (get-buffer-window-list buffer nil t))
    (quit-window nil w))
  (kill-buffer buffer)
  (aish--error "%s" why))

(defun aish--chat-history (buffer sockets again)
  "Open SOCKETS and fetch their histories for the chat BUFFER; show them.
AGAIN as in `aish--chat-load'."
  (let ((left (length sockets))
        (turns nil)
        (failure nil))
    (if (null sockets)
        (aish--chat-loaded buffer nil nil again)
      (dolist (socket sockets)
        (let ((read
               (lambda (&rest _)
                 (aish--guarded
                   (jsonrpc-async-request
                    (aish--ensure) 'aish/history
                    (list :socket_id socket :limit aish-chat-history-limit)
                    :success-fn
                    (lambda (result)
                      (aish--guarded
                        (seq-doseq (turn (plist-get result :turns))
                          (push (plist-put (copy-sequence turn) :socket_id socket) turns))
                        (when (zerop (setq left (1- left)))
                          (aish--chat-loaded buffer turns failure again))))
                    :error-fn
                    (lambda (err)
                      (aish--guarded
                        (setq failure (aish--error-text err))
                        (when (zerop (setq left (1- left)))
                          (aish--chat-loaded buffer turns failure again))))
                    :timeout nil)))))
          ;; The history comes after aish/open, whatever it answers.
          (jsonrpc-async-request
           (aish--ensure) 'aish/open (list :socket_id socket)
           :success-fn read :error-fn read :timeout nil))))))

(defun aish--chat-loaded (buffer turns failure again)
  "Show TURNS (any order) in the chat BUFFER; FAILURE says why not all.
AGAIN: only the turns not shown yet, before the question sent since
the conversation was read again (what follows it comes live)."
  (when (buffer-live-p buffer)
    (with-current-buffer buffer
      (let ((inhibit-read-only t))
        (save-excursion
          (goto-char (point-min))
          (let ((end (next-single-property-change (point) 'aish-chat-loading)))
            (when (and end (get-text-property (point) 'aish-chat-loading))
              (delete-region (point) end)))))
      (when failure
        (aish--chat-note (concat "[history not shown: " failure "]"))
        (aish--error "chat %s: %s" aish-chat-socket failure))
      (let ((sorted (sort turns (lambda (a b) (< (or (plist-get a :seq) 0)
                                                 (or (plist-get b :seq) 0))))))
        (if again
            (let ((aish--chat-place aish-chat--catchup))
              (catch 'own
                (dolist (turn sorted)
                  (when (aish--chat-new-question-p turn)
                    (throw 'own nil))
                  (aish--chat-message turn t))))
          (dolist (turn sorted)
            (aish--chat-turn (plist-get turn :role) (plist-get turn :socket_id)
                             (plist-get turn :content) (plist-get turn :seq)))))
      (setq aish-chat--loaded t)
      (dolist (params (reverse aish-chat--waiting))
        (aish--chat-message params))
      (setq aish-chat--waiting nil)
      (unless again
        (goto-char (point-max))
        (dolist (w (get-buffer-window-list buffer nil t))
          (set-window-point w (point-max)))))))

(defun aish--chat-new-question-p (turn)
  "Non-nil when TURN of a history read again is a question sent since."
  (and (equal (plist-get turn :role) "user")
       aish-chat--reload-at
       (or (memql (plist-get turn :seq) aish-chat--own-seqs)
           (seq-find (lambda (sent)
                       (and (>= (plist-get sent :at) aish-chat--reload-at)
                            (aish--chat-sent-p sent (or (plist-get turn :content) ""))))
                     aish-chat--sent))))

(defun aish--chat-bridge-started ()
  "A new bridge: every chat open reads its conversation again.
The new bridge follows the chats' sockets only once asked, and the
turns said while none did go in their place."
  (dolist (buffer (buffer-list))
    (with-current-buffer buffer
      (when (and (derived-mode-p 'aish-chat-mode) aish-chat--loaded)
        (aish--guarded (aish--chat-load t))))))

(add-hook 'aish-start-functions #'aish--chat-bridge-started)

;;;; Turns

(defun aish--chat-where ()
  "The marker where the next turn of the current chat buffer goes.
Turns told late go at `aish--chat-place', unless that is the end."
  (if (and aish--chat-place
           (marker-position aish--chat-place)
           (/= aish--chat-place aish-chat--end))
      aish--chat-place
    aish-chat--end))

(defun aish--chat-note (text)
  "Add the line TEXT to the conversation of the current chat buffer."
  (aish--insert-at aish-chat--end (concat text "\n")))

(defun aish--chat-label (role socket ai)
  "The label line of a turn of ROLE from SOCKET, of AI when known."
  (if (equal role "user")
      (propertize "[You]" 'face 'aish-chat-user)
    (aish--label (or ai (aish--ai-of socket)) socket)))

(defun aish--chat-turn (role socket content seq &optional ai)
  "Show a turn of ROLE from SOCKET (of AI) with CONTENT, numbered SEQ.
Nothing happens when SEQ was shown already.  A team chat shows a
user turn once, although each member keeps it."
  (unless (and seq (gethash seq aish-chat--seen))
    (when seq (puthash seq t aish-chat--seen))
    (unless (and (equal role "user") aish-chat-group
                 (equal content aish-chat--last-user))
      (when (equal role "user")
        (setq aish-chat--last-user content))
      (aish--insert-at (aish--chat-where)
                       (concat (aish--chat-label role socket ai) "\n"
                               (or content "") "\n")))))

(defun aish--chat-buffers (socket)
  "The chat buffers that show the turns of SOCKET."
  (seq-filter (lambda (b)
                (with-current-buffer b
                  (and (derived-mode-p 'aish-chat-mode)
                       (or (equal aish-chat-socket socket)
                           (member socket aish-chat--members)))))
              (buffer-list)))

(defun aish--chat-on-message (params)
  "An aish/message PARAMS: show it in every chat of its socket.
The reply to a one-shot request (\"fresh\": true) is no turn."
  (unless (eq (plist-get params :fresh) t)
    (dolist (buffer (aish--chat-buffers (plist-get params :socket_id)))
      (with-current-buffer buffer
        (if aish-chat--loaded
            (aish--chat-message params)
          (push params aish-chat--waiting))))))

(add-hook 'aish-message-functions #'aish--chat-on-message)

(defun aish--chat-sent-p (sent content)
  "Non-nil when the user turn CONTENT is SENT, a question sent from here.
With context the server keeps the question as the AI received it:
the context blocks, then the question."
  (let ((text (plist-get sent :text)))
    (or (equal text content)
        (and (plist-get sent :context)
             (string-suffix-p (concat "\n" text) content)))))

(defun aish--chat-own-question (content)
  "The question sent from here that the user turn CONTENT tells back.
A question is told back right after the server took it: one not
told back in a minute never will be, and is forgotten."
  (let ((now (float-time)))
    (setq aish-chat--sent
          (seq-filter (lambda (sent) (< (- now (plist-get sent :at)) 60))
                      aish-chat--sent))
    (seq-find (lambda (sent) (aish--chat-sent-p sent content))
              (reverse aish-chat--sent))))

(defun aish--chat-message (params &optional catching-up)
  "Show the message PARAMS (or a history turn) in the current chat buffer.
Nothing shows twice: a seq seen, this buffer's own question told
back, the reply of its own request (found by the write's id, else
by its text), the end of a reply that streamed in as another
editor's.  CATCHING-UP: PARAMS is a turn of a history read again."
  (let* ((socket (plist-get params :socket_id))
         (content (or (plist-get params :content) ""))
         (seq (plist-get params :seq))
         (write (plist-get params :in_reply_to))
         (ai (plist-get params :ai_name))
         (role (or (plist-get params :role) "assistant")))
    (unless (and seq (gethash seq aish-chat--seen))
      (when seq (puthash seq t aish-chat--seen))
      (if (equal role "user")
          (let ((mine (and (not catching-up) (aish--chat-own-question content))))
            (if (not mine)
                (aish--chat-turn role socket content nil)
              (setq aish-chat--sent (delq mine aish-chat--sent)
                    aish-chat--last-user content)
              (when seq (push seq aish-chat--own-seqs))
              (setf (aish--chat-call-write (plist-get mine :call)) write)))
        (let ((remote (and write (gethash write aish-chat--remote)))
              (req (and (not catching-up) (aish--chat-claim socket write content))))
          (cond
           (remote
            (remhash write aish-chat--remote)
            (aish--section-set remote content))
           (req
            (let ((call (aish--req-data req)))
              (push socket (aish--chat-call-claimed call))
              (aish--section-set (aish--chat-section req socket ai) content)))
           (t (aish--chat-turn role socket content nil ai))))))))

(defun aish--chat-asks-p (req socket)
  "Non-nil when REQ of this chat asks SOCKET, whose reply has not come."
  (and (not (member socket (aish--chat-call-claimed (aish--req-data req))))
       (if aish-chat-group
           (member socket aish-chat--members)
         (equal socket aish-chat-socket))))

(defun aish--chat-other-write-p (req write)
  "Non-nil when REQ is known to be another write than WRITE.
A team's members answer writes of their own ids: never for a team."
  (let ((mine (aish--chat-call-write (aish--req-data req))))
    (and (not aish-chat-group) write mine (not (equal mine write)))))

(defun aish--chat-claim (socket write content)
  "The request of this chat whose reply from SOCKET (to WRITE) is CONTENT.
The oldest one in flight that asks SOCKET, unless its write is known
and another, or what streamed of it does not begin CONTENT; nil when
none.  (A reply may come before the progress of its request.)"
  (seq-find (lambda (req)
              (and (aish--chat-asks-p req socket)
                   (not (aish--chat-other-write-p req write))
                   (let ((section (cdr (assoc (format "0:%s" socket)
                                              (aish--req-sections req)))))
                     (or (null section)
                         (string-prefix-p (aish--section-text section) content)))))
            aish-chat--requests))

(defun aish--chat-section (req socket &optional ai)
  "The section of the chat request REQ where the reply of SOCKET goes."
  (aish--section req (format "0:%s" socket) (or ai (aish--ai-of socket)) nil socket))

(defun aish--chat-on-delta (params)
  "An aish/delta PARAMS: a piece of a reply, streamed in every chat of
its socket but the one whose own request it answers (its progress
streams that one).  One-shot replies are no turns."
  (let ((write (plist-get params :in_reply_to))
        (content (plist-get params :content))
        (socket (plist-get params :socket_id)))
    (when (and write (stringp content) (not (eq (plist-get params :fresh) t)))
      (dolist (buffer (aish--chat-buffers socket))
        (with-current-buffer buffer
          (let ((section (gethash write aish-chat--remote)))
            (when (and (not section) aish-chat--loaded
                       (memq (plist-get params :index) '(nil 0))
                       (not (seq-find (lambda (req)
                                        (and (aish--chat-asks-p req socket)
                                             (not (aish--chat-other-write-p req write))))
                                      aish-chat--requests)))
              (setq section (aish--section-insert
                             aish-chat--end
                             (aish--chat-label "assistant" socket
                                               (plist-get params :ai_name))))
              (puthash write section aish-chat--remote))
            (when section
              (aish--section-append section content))))))))

(add-hook 'aish-delta-functions #'aish--chat-on-delta)

;;;; Sending

(defun aish--chat-prompt-text ()
  "The text of the prompt area, trimmed."
  (string-trim (buffer-substring-no-properties aish-chat--prompt (point-max))))

;;;###autoload
(defun aish-chat-send ()
  "Send the text below the line of this chat buffer, and clear it.
It joins the conversation (never one-shot), with the items attached
by `aish-add' as context.  The reply streams in above the line.
Example: type \"what is a pipe?\" below the line, \\[aish-chat-send]."
  (interactive)
  (unless (derived-mode-p 'aish-chat-mode)
    (user-error "aish: not a chat buffer (M-x aish-chat opens one)"))
  (let ((text (aish--chat-prompt-text))
        (buffer (current-buffer))
        (call (aish--chat-call-make :buffer (current-buffer))))
    (when (string-empty-p text)
      (user-error "aish: type a message below the line first"))
    (unless aish-chat--loaded
      (user-error "aish: the conversation is still loading; send again in a moment"))
    ;; A new bridge reads the conversation again first: the turns said
    ;; meanwhile go before this one.
    (aish--ensure)
    (let ((inhibit-read-only t))
      (delete-region aish-chat--prompt (point-max)))
    (aish--chat-turn "user" nil text nil)
    (let ((req (aish--req-make
                :method (if aish-chat-group "aish/teamChat" "aish/send")
                :status (concat "chat " (or aish-chat-group aish-chat-socket))
                :title (format "chat with %s" (or aish-chat-group aish-chat-socket))
                :block aish-chat--end
                :on-progress #'aish--chat-progress
                :on-result #'aish--chat-result
                :on-end #'aish--chat-ended
                :data call)))
      (aish--request req (append (if aish-chat-group
                                     (list :message text :group aish-chat-group)
                                   (list :socket_id aish-chat-socket :content text))
                                 (list :fresh :json-false)))
      (with-current-buffer buffer
        (setq aish-chat--requests (append aish-chat--requests (list req)))
        (push (list :text text :call call :at (float-time)
                    :context (and aish-context-items t))
              aish-chat--sent)))
    (goto-char (point-max))
    nil))

(defun aish--chat-progress (req params)
  "Stream the progress PARAMS of the chat request REQ into its buffer."
  (let ((buffer (aish--chat-call-buffer (aish--req-data req))))
    (when (buffer-live-p buffer)
      (with-current-buffer buffer
        (let ((section (aish--progress-section req params))
              (kind (plist-get params :kind))
              (content (plist-get params :content)))
          (cond ((and (equal kind "delta") (stringp content))
                 (aish--section-append section content))
                ((and (equal kind "end") (stringp content))
                 (aish--section-set section content))))))))

(defun aish--chat-result (req result)
  "Complete the turns of the chat request REQ from RESULT."
  (let ((buffer (aish--chat-call-buffer (aish--req-data req))))
    (when (buffer-live-p buffer)
      (with-current-buffer buffer
        (let ((answers (if aish-chat-group
                           (append (plist-get result :responses) nil)
                         (list result))))
          (dolist (r answers)
            (aish--section-set (aish--chat-section req (plist-get r :socket_id)
                                                   (plist-get r :ai))
                               (or (plist-get r :content) ""))))))))

(defun aish--chat-ended (req _error)
  "The chat request REQ ended, however: this buffer forgets it."
  (let ((buffer (aish--chat-call-buffer (aish--req-data req))))
    (when (buffer-live-p buffer)
      (with-current-buffer buffer
        (setq aish-chat--requests (delq req aish-chat--requests))))))

(provide 'aish-chat)

;;; aish-chat.el ends here
