;;; aish-output.el --- The *aish* buffer, where AI output streams in  -*- lexical-binding: t; -*-

;; Copyright (C) 2026 The aish authors

;; This file is not part of GNU Emacs.

;; This program is free software: you can redistribute it and/or modify
;; it under the terms of the GNU General Public License as published by
;; the Free Software Foundation, either version 3 of the License, or
;; (at your option) any later version.

;;; Commentary:

;; Output of requests: each request gets a block in *aish* (a title
;; line, then one "[From Ai]" section per pipeline stage or team
;; member).  Sections are pairs of markers, so the user may edit or
;; erase the buffer at any time, even while a reply streams: the text
;; that comes after the edit still arrives, at the markers.
;;
;; Output follows: a window (selected or not) whose point is at the
;; end of the newest text keeps showing the newest text as it
;; streams, and so does one at the end of the buffer; one whose point
;; the user moved elsewhere stays where it is.

;;; Code:

(require 'aish-rpc)

(defcustom aish-output-buffer-name "*aish*"
  "The name of the buffer that receives AI output."
  :type 'string
  :group 'aish)

(defface aish-label '((t :inherit font-lock-keyword-face))
  "Face of the \"[From Ai]\" labels in the *aish* buffer."
  :group 'aish)

(defface aish-title '((t :inherit font-lock-function-name-face :weight bold))
  "Face of the title line of each request in the *aish* buffer."
  :group 'aish)

(define-derived-mode aish-output-mode special-mode "aish"
  "Major mode of the *aish* buffer, where AI output streams in.
Each request gets a title line and one \"[From Ai]\" section per
pipeline stage or team member.  The buffer may be edited or erased
at any time (\\[read-only-mode] makes it writable): output still
streams in where it belongs.")

(defun aish--output-buffer ()
  "The *aish* buffer, made when missing."
  (or (get-buffer aish-output-buffer-name)
      (with-current-buffer (get-buffer-create aish-output-buffer-name)
        (aish-output-mode)
        (current-buffer))))

;;;; Inserting text that follows

(defvar-local aish--tail nil
  "A marker at the end of the text inserted last, for following.")

(defun aish--follows-p (pos at tail)
  "Non-nil when a point at POS follows the output.
AT is where the text goes, TAIL the end of the last text inserted
\(a marker or nil).  A point at the end of the buffer needs no
moving: it stays after the new text."
  (or (= pos at) (and tail (= pos tail))))

(defun aish--insert-at (marker text)
  "Insert TEXT at MARKER and move MARKER past it.
Windows showing the buffer whose point follows the output (see
`aish--follows-p') move to the end of TEXT, selected or not; the
others keep their point.  Does nothing when the buffer is gone."
  (let ((buffer (marker-buffer marker)))
    (when (buffer-live-p buffer)
      (with-current-buffer buffer
        (let* ((at (marker-position marker))
               (tail (and aish--tail (marker-position aish--tail)))
               (windows (seq-filter
                         (lambda (w)
                           (aish--follows-p (window-point w) at tail))
                         (get-buffer-window-list buffer nil t)))
               (point-follows (aish--follows-p (point) at tail))
               (inhibit-read-only t))
          (save-excursion
            (goto-char marker)
            (insert text)
            (set-marker marker (point)))
          (if aish--tail
              (set-marker aish--tail marker)
            (setq aish--tail (copy-marker marker)))
          (when point-follows
            (goto-char marker))
          (dolist (w windows)
            (set-window-point w marker)))))))

(defun aish--insert-after (marker text)
  "Insert TEXT at MARKER, after every point there, and move MARKER past it.
Points at MARKER, followers too, stay before TEXT: the newline
that ends a new section is not the newest text."
  (let ((buffer (marker-buffer marker)))
    (when (buffer-live-p buffer)
      (with-current-buffer buffer
        (let ((inhibit-read-only t))
          (save-excursion
            (goto-char marker)
            (insert text)
            (set-marker marker (point))))))))

;;;; Blocks and sections

(cl-defstruct (aish--section (:constructor aish--section-make))
  "A section of output: START and END markers around its text, and
the TEXT received for it so far (edits to the buffer aside)."
  start end (text ""))

(defun aish--block-start (req &optional no-display buffer)
  "Start the block of REQ at the end of *aish* (or BUFFER); show it.
With NO-DISPLAY, do not show it."
  (let ((buffer (or buffer (aish--output-buffer))))
    (with-current-buffer buffer
      (let ((inhibit-read-only t)
            (at (copy-marker (point-max))))
        (aish--insert-at at (concat (if (= at (point-min)) "" "\n")
                                    (propertize (concat "== " (aish--req-title req))
                                                'face 'aish-title)
                                    "\n"))
        (setf (aish--req-block req) at)))
    (unless no-display
      (let ((window (display-buffer buffer)))
        (when window
          ;; A new request is the newest text: show it.
          (set-window-point window (aish--req-block req)))))))

(defun aish--label (ai &optional socket-id)
  "The label of the section of AI, on SOCKET-ID.
The socket is named when it is not the AI's name, so that two
sockets of one AI are told apart: \"[From Apollo (apollo-2)]\"."
  (propertize (if (and socket-id (not (equal socket-id ai))
                       (not (string-empty-p socket-id)))
                  (format "[From %s (%s)]" (capitalize ai) socket-id)
                (format "[From %s]" (capitalize ai)))
              'face 'aish-label))

(defun aish--section (req key ai &optional suffix socket-id)
  "The section KEY of REQ, labelled for AI on SOCKET-ID (then SUFFIX).
Made when new, at the end of the block of REQ, but above the
synthesis section, which stays last (the tail of REQ marks its
label).  Returns nil when the block's buffer is gone."
  (or (cdr (assoc key (aish--req-sections req)))
      (let* ((block (aish--req-block req))
             (tail (aish--req-tail req)))
        (when (and (markerp block) (buffer-live-p (marker-buffer block)))
          (let* ((at (copy-marker (or tail block)))
                 (section (aish--section-insert
                           at (concat (aish--label ai socket-id)
                                      (if suffix (concat " " suffix) "")))))
            (unless tail
              (set-marker block at (marker-buffer at)))
            (set-marker at nil)
            (push (cons key section) (aish--req-sections req))
            section)))))

(defun aish--section-insert (at label)
  "Insert a new empty section labelled LABEL at the marker AT; return it.
AT moves past the section (its label line and the newline after it)."
  (aish--insert-at at (concat label "\n"))
  (let ((section (aish--section-make :start (copy-marker at)
                                     :end (copy-marker at))))
    (aish--insert-after at "\n")
    section))

(defun aish--synthesis-section (req ai)
  "The synthesis section of the team chat REQ, by the moderator AI.
Labelled \"[From Rhetor] (synthesis)\"; made at the end of the
block, where it stays: its label becomes the tail of REQ."
  (or (cdr (assoc "synthesis" (aish--req-sections req)))
      (let* ((block (aish--req-block req))
             (label (and (markerp block) (copy-marker block)))
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
  (when section
    (setf (aish--section-text section)
          (concat (aish--section-text section) text))
    (aish--insert-at (aish--section-end section) text)))

(defun aish--section-set (section text)
  "Make SECTION hold TEXT, the final word of a stage or member.
When the streamed text is the beginning of TEXT, only the rest is
added, so edits the user made meanwhile stay; otherwise the
section's text is replaced."
  (when section
    (let ((seen (aish--section-text section))
          (start (aish--section-start section))
          (end (aish--section-end section)))
      (cond ((equal seen text))
            ((string-prefix-p seen text)
             (aish--section-append section (substring text (length seen))))
            ((buffer-live-p (marker-buffer start))
             (with-current-buffer (marker-buffer start)
               (let ((inhibit-read-only t))
                 (delete-region start end)
                 (set-marker end start)))
             (setf (aish--section-text section) "")
             (aish--section-append section text))))))

;;;; Streaming progress into sections

(defun aish--synthesis-p (req stage)
  "Non-nil when STAGE of REQ is the synthesis of a team chat.
The moderator's progress comes as stage 1 of the team chat."
  (and (equal (aish--req-method req) "aish/teamChat") (eql stage 1)))

(defun aish--key (req stage socket-id)
  "The key of the section of STAGE on SOCKET-ID in REQ.
Pipeline stages are known by their index, team members by socket."
  (if (equal (aish--req-method req) "aish/pipeline")
      (format "stage %d" stage)
    (format "%d:%s" stage socket-id)))

(defun aish--progress-section (req params)
  "The section of REQ that the progress PARAMS is about."
  (let ((ai (or (plist-get params :ai) "?"))
        (stage (or (plist-get params :stage) 0))
        (socket (plist-get params :socket_id)))
    (if (aish--synthesis-p req stage)
        (aish--synthesis-section req ai)
      (aish--section req (aish--key req stage (or socket ai)) ai nil socket))))

(defun aish--stream-progress (req params)
  "Stream the progress PARAMS of REQ into its section of *aish*."
  (when (aish--req-block req)
    (let ((kind (plist-get params :kind))
          (content (plist-get params :content))
          (section (aish--progress-section req params)))
      (cond ((and (equal kind "delta") (stringp content))
             (aish--section-append section content))
            ((and (equal kind "end") (stringp content))
             (aish--section-set section content))))))

(provide 'aish-output)

;;; aish-output.el ends here
