;;; aish-context.el --- Files and buffers attached as context  -*- lexical-binding: t; -*-

;; Copyright (C) 2026 The aish authors

;; This file is not part of GNU Emacs.

;; This program is free software: you can redistribute it and/or modify
;; it under the terms of the GNU General Public License as published by
;; the Free Software Foundation, either version 3 of the License, or
;; (at your option) any later version.

;;; Commentary:

;; `aish-add' attaches the current buffer or a file; every later
;; request that sends text (pipe, replace, propose, team chat, send,
;; chat) carries the attached items as the bridge's `context': each
;; reaches the AI once, as a fenced block named after its file, before
;; the instruction.  A buffer's or file's text is read when a request
;; is sent, so the AI sees it as it is then.  The mode line shows what
;; is attached; `aish-context' lists it, and with a prefix argument
;; clears it.

;;; Code:

(require 'aish-rpc)

(defconst aish--context-mode-line '(:eval (aish--context-mode-line-string))
  "The entry that aish puts in `global-mode-string' while items are attached.")

(defun aish--context-mode-line-string ()
  "The mode-line text naming the attached items."
  (when aish-context-items
    (format " [aish: %s%s]"
            (plist-get (car aish-context-items) :name)
            (if (cdr aish-context-items)
                (format " +%d" (length (cdr aish-context-items)))
              ""))))

(defun aish--context-changed ()
  "Show or hide the mode-line entry after the items changed."
  (if aish-context-items
      (unless (member aish--context-mode-line global-mode-string)
        (setq global-mode-string
              (append (if (listp global-mode-string)
                          global-mode-string
                        (list global-mode-string))
                      (list aish--context-mode-line))))
    (when (listp global-mode-string)
      (setq global-mode-string
            (delete aish--context-mode-line global-mode-string))))
  (force-mode-line-update t))

(defun aish--language (mode)
  "The fence language of the major MODE, or nil for plain text."
  (when (and mode (symbolp mode))
    (let ((name (string-remove-suffix "-mode" (symbol-name mode))))
      (unless (member name '("fundamental" "text" "special"))
        (string-remove-suffix "-ts" name)))))

(defun aish--item-name (file buffer)
  "The name of the context item for FILE, else BUFFER."
  (if file
      (file-relative-name file)
    (buffer-name buffer)))

(defun aish--attach (item)
  "Attach ITEM, replacing an earlier item of the same name."
  (setq aish-context-items
        (append (seq-remove (lambda (i) (equal (plist-get i :name)
                                               (plist-get item :name)))
                            aish-context-items)
                (list item)))
  (aish--context-changed)
  (aish--notice "attached %s (%d item%s; M-x aish-context lists them)"
                (plist-get item :name) (length aish-context-items)
                (if (cdr aish-context-items) "s" "")))

;;;###autoload
(defun aish-add (&optional file)
  "Attach FILE, or the current buffer, as context for the next requests.
With no argument the current buffer is attached (its text as it is
when each request is sent); interactively, a prefix argument
\(\\[universal-argument]) asks for a file instead.  Every later
request that sends text carries the attached items, each reaching
the AI once before the instruction; `aish-context' lists them and
clears them.
Example: in src/cache.c, \\[aish-add], then mark a function and
\\[aish-pipe-region] apollo review this RET."
  (interactive
   (list (and current-prefix-arg
              (read-file-name "Attach file: " nil nil t))))
  (if file
      (let ((file (expand-file-name file)))
        (unless (file-readable-p file)
          (user-error "aish: cannot read %s" file))
        (aish--attach
         (list :name (aish--item-name file nil) :file file
               :language (aish--language
                          (assoc-default file auto-mode-alist #'string-match)))))
    (aish--attach
     (list :name (aish--item-name buffer-file-name (current-buffer))
           :buffer (current-buffer)
           :language (aish--language major-mode)))))

;;;###autoload
(defun aish-context (&optional clear)
  "Show the items attached as context; with CLEAR, detach them all.
Interactively, a prefix argument (\\[universal-argument]
\\[aish-context]) clears.  See `aish-add'.
Example: \\[aish-context] shows \"aish: context: src/cache.c, *scratch*\"."
  (interactive "P")
  (if clear
      (progn (setq aish-context-items nil)
             (aish--context-changed)
             (aish--notice "context cleared"))
    (aish--notice "%s"
                  (if aish-context-items
                      (concat "context: "
                              (mapconcat (lambda (i) (plist-get i :name))
                                         aish-context-items ", "))
                    "no context attached (M-x aish-add attaches the buffer)"))))

;;;###autoload
(defun aish-context-clear ()
  "Detach every item attached as context.
Example: \\[aish-context-clear]."
  (interactive)
  (aish-context t))

(provide 'aish-context)

;;; aish-context.el ends here
