;;; aish-target.el --- A region followed through edits  -*- lexical-binding: t; -*-

;; Copyright (C) 2026 The aish authors

;; This file is not part of GNU Emacs.

;; This program is free software: you can redistribute it and/or modify
;; it under the terms of the GNU General Public License as published by
;; the Free Software Foundation, either version 3 of the License, or
;; (at your option) any later version.

;;; Commentary:

;; The text that a replacement or a proposal will replace: two markers
;; and the text they held.  Edits elsewhere in the buffer move the
;; markers, so they are fine, and so is typing just before or just
;; after the region; only a change of the region's own text makes the
;; replacement refuse.

;;; Code:

(require 'cl-lib)

(cl-defstruct (aish--target (:constructor aish--target-make-1))
  "A region followed through edits: BEG and END markers, the OLD text."
  beg end old)

(defun aish--target-make (beg end)
  "The region from BEG to END of the current buffer, as a target."
  (aish--target-make-1 :beg (copy-marker beg t) :end (copy-marker end)
                       :old (buffer-substring-no-properties beg end)))

(defun aish--target-buffer (target)
  "The buffer of TARGET, or nil when it was killed."
  (let ((buffer (marker-buffer (aish--target-beg target))))
    (and (buffer-live-p buffer) buffer)))

(defun aish--target-intact-p (target)
  "Non-nil when TARGET's buffer lives and its text is unchanged."
  (let ((buffer (aish--target-buffer target)))
    (and buffer
         (with-current-buffer buffer
           (let ((beg (aish--target-beg target))
                 (end (aish--target-end target)))
             (and (<= beg end)
                  (equal (buffer-substring-no-properties beg end)
                         (aish--target-old target))))))))

(defun aish--target-text (target)
  "The text of TARGET now."
  (with-current-buffer (aish--target-buffer target)
    (buffer-substring-no-properties (aish--target-beg target)
                                    (aish--target-end target))))

(defun aish--target-replace (target text &optional exact)
  "Put TEXT in place of TARGET's text, keeping a final newline.
The region's final newline, which was not sent to the AI, is put
back when TEXT lacks one, unless EXACT."
  (let ((old (aish--target-old target)))
    (when (and (not exact) (string-suffix-p "\n" old)
               (not (string-suffix-p "\n" text)))
      (setq text (concat text "\n")))
    (with-current-buffer (aish--target-buffer target)
      (save-excursion
        (let ((beg (aish--target-beg target)))
          (goto-char beg)
          (delete-region beg (aish--target-end target))
          (insert text)
          (set-marker (aish--target-end target) (point))
          (set-marker beg (- (point) (length text))))))))

(defun aish--target-release (target)
  "Let go of TARGET's markers."
  (set-marker (aish--target-beg target) nil)
  (set-marker (aish--target-end target) nil))

(provide 'aish-target)

;;; aish-target.el ends here
