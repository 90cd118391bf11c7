;;; aish-propose.el --- Review an AI's change as a diff before applying it  -*- lexical-binding: t; -*-

;; Copyright (C) 2026 The aish authors

;; This file is not part of GNU Emacs.

;; This program is free software: you can redistribute it and/or modify
;; it under the terms of the GNU General Public License as published by
;; the Free Software Foundation, either version 3 of the License, or
;; (at your option) any later version.

;;; Commentary:

;; `aish-propose-region' sends the region through a pipeline (or, with
;; a group, to each member of a team) and streams the answer into a
;; proposal buffer, *aish-proposal*, where it may be edited.  When the
;; answer is complete, *aish-diff* shows it as a unified diff against
;; the region, in `diff-mode': move between hunks with n and p, drop a
;; hunk with M-k (`diff-hunk-kill'), edit hunks as in any diff.  Then
;; `aish-accept' (C-c C-c) applies the hunks that are left and
;; `aish-reject' (C-c C-k) drops the proposal; C-c C-a takes only the
;; hunk at point.  Both work from the source buffer, the proposal or
;; the diff.  A team's proposals are one diff each, side by side in
;; *aish-diff*: accept takes the one at point.
;;
;; The region is followed with markers: edits elsewhere in its buffer
;; are fine, but a proposal is refused when the region's own text
;; changed since it was sent.

;;; Code:

(require 'aish-rpc)
(require 'aish-output)
(require 'aish-complete)
(require 'aish-target)
(require 'diff-mode)

(defvar diff-command)

(cl-defstruct (aish--proposal (:constructor aish--proposal-make))
  "A proposed change of a region.
TARGET is the region, REQ the request, BUFFER the proposal buffer,
DIFF the diff buffer, GROUP the team's group (nil for a pipeline),
DONE non-nil once the answer is complete, TICK the proposal
buffer's modification tick when the diff was made."
  target req buffer diff group done tick)

(defvar aish--proposals nil
  "The proposals waiting for `aish-accept' or `aish-reject', newest first.")

(defvar-local aish--proposal nil
  "The proposal shown in this proposal or diff buffer.")

(defvar aish-proposal-mode-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "C-c C-c") #'aish-accept)
    (define-key map (kbd "C-c C-k") #'aish-reject)
    (define-key map (kbd "C-c C-d") #'aish-proposal-diff)
    map)
  "Keys of the proposal buffer.")

(define-derived-mode aish-proposal-mode text-mode "aish-proposal"
  "Major mode of *aish-proposal*, where a proposed text streams in.
Edit the text under the \"[From Ai]\" label freely; \\[aish-proposal-diff]
shows it as a diff against the region, \\[aish-accept] applies it and
\\[aish-reject] drops it.")

(defvar aish-diff-mode-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "C-c C-c") #'aish-accept)
    (define-key map (kbd "C-c C-k") #'aish-reject)
    (define-key map (kbd "C-c C-a") #'aish-accept-hunk)
    (define-key map (kbd "C-c C-e") #'aish-proposal-edit)
    map)
  "Keys added to the diff of a proposal.")

(define-minor-mode aish-diff-mode
  "Keys of a proposal's diff: \\<aish-diff-mode-map>\\[aish-accept] applies the hunks left, \
\\[aish-accept-hunk] the hunk at point,
\\[aish-reject] drops the proposal, \\[aish-proposal-edit] edits the proposed text.
The keys of `diff-mode' choose the hunks: n and p move, M-k drops one."
  :lighter " aish-review")

;;;; Making a proposal

(defun aish--propose-args ()
  "Interactive arguments of `aish-propose-region'."
  (let ((bounds (if (use-region-p)
                    (list (region-beginning) (region-end))
                  (list (line-beginning-position) (line-end-position)))))
    (if current-prefix-arg
        (let ((group (aish-read-group "Propose with group: ")))
          (append bounds (list (read-string "Instruction for the team: ") group)))
      (append bounds (list (aish-read-pipeline "Propose through pipeline: "))))))

;;;###autoload
(defun aish-propose-region (beg end pipeline &optional group)
  "Propose a new text for BEG to END through PIPELINE, as a diff to review.
The answer streams into *aish-proposal* (where it may be edited),
then *aish-diff* shows it against the region.\\<aish-diff-mode-map>
There \\[aish-accept] applies it (the hunks left: M-k drops one),
\\[aish-accept-hunk] applies the hunk at point, \\[aish-reject] drops it.
`aish-accept' and `aish-reject' work from the source buffer too.

With GROUP (interactively, a prefix argument asks for it), PIPELINE
is an instruction for the team: each member of GROUP answers, and
each answer is a proposal to choose from, one diff each.  Edits
elsewhere in the buffer are fine; a proposal is refused when the
region itself changed.
Example: mark a function, \\[aish-propose-region] apollo add comments RET,
read the diff, \\[aish-accept]."
  (interactive (aish--propose-args))
  (let* ((group (and group (not (string-empty-p (string-trim group))) group))
         (p (if group (string-trim (or pipeline "")) (aish--check-pipeline pipeline)))
         (input (aish--input beg end))
         (req (if group
                  (aish--req-make :method "aish/teamChat" :status "proposals"
                                  :title (format "proposals of %s: %s" group p))
                (aish--pipeline-req p)))
         (proposal (aish--proposal-make :target (aish--target-make beg end)
                                        :req req :group group)))
    (setf (aish--req-title req) (concat "proposal: " (aish--req-title req))
          (aish--req-data req) proposal
          (aish--req-on-result req) #'aish--proposal-result
          (aish--req-on-end req) #'aish--proposal-end)
    (aish--ensure)
    (setf (aish--proposal-buffer proposal) (aish--proposal-buffer-make proposal))
    (push proposal aish--proposals)
    (aish--block-start req nil (aish--proposal-buffer proposal))
    (aish--request req (if group
                           (list :message (if (string-empty-p p) input
                                            (concat p "\n\n" input))
                                 :group group)
                         (list :input input :pipeline p)))
    nil))

(defun aish--proposal-buffer-make (proposal)
  "A new proposal buffer for PROPOSAL."
  (with-current-buffer (generate-new-buffer "*aish-proposal*")
    (aish-proposal-mode)
    (setq aish--proposal proposal)
    (add-hook 'kill-buffer-hook #'aish--proposal-killed nil t)
    (current-buffer)))

(defun aish--proposal-killed ()
  "The proposal buffer is being killed: drop its proposal."
  (when aish--proposal
    (aish--proposal-drop aish--proposal)))

(defun aish--proposal-result (req result)
  "Put the final answers of RESULT in the proposal of REQ."
  (if (equal (aish--req-method req) "aish/teamChat")
      (seq-doseq (r (plist-get result :responses))
        (let ((socket (plist-get r :socket_id)))
          (aish--section-set
           (aish--section req (format "0:%s" socket) (or (plist-get r :ai) socket)
                          nil socket)
           (or (plist-get r :content) ""))))
    (let ((stages (plist-get result :stages)))
      (when (> (length stages) 0)
        (let* ((i (1- (length stages)))
               (stage (aref stages i)))
          (aish--section-set
           (aish--section req (aish--key req i nil) (plist-get stage :ai) nil
                          (plist-get stage :socket_id))
           (or (plist-get stage :output) "")))))))

(defun aish--proposal-end (req error)
  "The request REQ of a proposal ended, with ERROR or not: show the diff."
  (let ((proposal (aish--req-data req)))
    (setf (aish--proposal-done proposal) t)
    (cond
     ((not (memq proposal aish--proposals)))    ; rejected meanwhile
     (error
      ;; The error is said on one line already (or it was a cancel):
      ;; nothing is left to review.
      (aish--proposal-drop proposal))
     (t
      (aish--proposal-show-diff proposal)
      (aish--notice "proposal in %s: C-c C-c there accepts, C-c C-k rejects"
                    (buffer-name (aish--proposal-diff proposal)))))))

;;;; The proposed texts and their diff

(defun aish--proposal-members (proposal)
  "The proposed texts of PROPOSAL: a list of (LABEL . SECTION).
A pipeline's proposal is its last stage; a team's, every member."
  (let* ((req (aish--proposal-req proposal))
         (sections (reverse (aish--req-sections req))))
    (if (aish--proposal-group proposal)
        (mapcar (lambda (s) (cons (aish--section-label-text (cdr s)) (cdr s)))
                sections)
      (let ((last (car (last sections))))
        (and last (list (cons (aish--section-label-text (cdr last)) (cdr last))))))))

(defun aish--section-label-text (section)
  "The label of SECTION, from the line above it, without brackets."
  (let ((start (aish--section-start section)))
    (with-current-buffer (marker-buffer start)
      (save-excursion
        (goto-char start)
        (forward-line -1)
        (let ((line (buffer-substring-no-properties (point) (line-end-position))))
          (if (string-match "\\`\\[From \\(.*\\)\\]\\'" line)
              (match-string 1 line)
            line))))))

(defun aish--section-now (section)
  "The text of SECTION as it is in its buffer now."
  (with-current-buffer (marker-buffer (aish--section-start section))
    (buffer-substring-no-properties (aish--section-start section)
                                    (aish--section-end section))))

(defun aish--proposed-text (proposal section)
  "The whole new text of PROPOSAL's region from SECTION.
The region's final newline, not sent to the AI, is put back."
  (let ((text (aish--section-now section))
        (old (aish--target-old (aish--proposal-target proposal))))
    (if (and (string-suffix-p "\n" old) (not (string-suffix-p "\n" text)))
        (concat text "\n")
      text)))

(defun aish--diff-pad (old)
  "The newline added to texts diffed against OLD, or \"\".
A region that does not end in a newline gets one, and so does its
proposal, so that a diff never says \"No newline at end of file\";
`aish--apply-hunks' takes it off again."
  (if (string-suffix-p "\n" old) "" "\n"))

(defun aish--diff-texts (old new old-label new-label)
  "The unified diff from OLD to NEW, labelled OLD-LABEL and NEW-LABEL."
  (let ((a (make-temp-file "aish-old"))
        (b (make-temp-file "aish-new"))
        (pad (aish--diff-pad old)))
    (unwind-protect
        (progn
          (with-temp-file a (insert old pad))
          (with-temp-file b (insert new pad))
          (with-temp-buffer
            (call-process (or (bound-and-true-p diff-command) "diff") nil t nil
                          "-u" "--label" old-label "--label" new-label a b)
            (buffer-string)))
      (delete-file a)
      (delete-file b))))

(defun aish--target-label (target)
  "Where TARGET is, as words: \"foo.c lines 3-10\"."
  (let ((buffer (aish--target-buffer target)))
    (if (not buffer)
        "(killed buffer)"
      (with-current-buffer buffer
        (let ((beg (aish--target-beg target))
              (end (aish--target-end target)))
          (format "%s lines %d-%d" (buffer-name)
                  (line-number-at-pos beg)
                  (line-number-at-pos (if (and (> end beg)
                                               (eq (char-before end) ?\n))
                                          (1- end)
                                        end))))))))

(defun aish--proposal-show-diff (proposal)
  "Make and show the diff of PROPOSAL against its region."
  (let* ((target (aish--proposal-target proposal))
         (old (aish--target-old target))
         (where (aish--target-label target))
         (buffer (or (and (buffer-live-p (aish--proposal-diff proposal))
                          (aish--proposal-diff proposal))
                     (generate-new-buffer "*aish-diff*")))
         (members (aish--proposal-members proposal)))
    (setf (aish--proposal-diff proposal) buffer
          (aish--proposal-tick proposal)
          (buffer-chars-modified-tick (aish--proposal-buffer proposal)))
    (with-current-buffer buffer
      (let ((inhibit-read-only t))
        (erase-buffer)
        (insert (format "aish proposal for %s: %s\n" where
                        (aish--req-title (aish--proposal-req proposal))))
        (insert (substitute-command-keys
                 "\\<aish-diff-mode-map>\\[aish-accept] accept the hunks left, \
\\[aish-accept-hunk] the hunk at point, \\[aish-reject] reject, \
\\[aish-proposal-edit] edit; M-k drops a hunk\n"))
        (dolist (m members)
          (let ((diff (aish--diff-texts old (aish--proposed-text proposal (cdr m))
                                        where (car m))))
            (insert (if (string-empty-p diff)
                        (format "--- %s\n+++ %s\n(no change)\n" where (car m))
                      diff)))))
      (unless (derived-mode-p 'diff-mode)
        (diff-mode))
      (setq aish--proposal proposal)
      (aish-diff-mode 1)
      (add-hook 'kill-buffer-hook #'aish--proposal-killed nil t)
      (set-buffer-modified-p nil)
      (setq buffer-read-only t)
      (goto-char (point-min))
      (ignore-errors (diff-hunk-next)))
    (let ((window (get-buffer-window (aish--proposal-buffer proposal) t)))
      (if window
          (set-window-buffer window buffer)
        (display-buffer buffer)))))

;;;; Applying hunks

(defun aish--diff-hunks (member)
  "The hunks of the diff in the current buffer for MEMBER's proposal.
A list of (OLD . NEW) texts, in order."
  (let (hunks)
    (save-excursion
      (goto-char (point-min))
      (while (re-search-forward diff-hunk-header-re nil t)
        (goto-char (match-beginning 0))
        (let* ((bounds (diff-bounds-of-hunk))
               (text (apply #'buffer-substring-no-properties bounds)))
          (when (equal (aish--hunk-member) member)
            (push (cons (car (diff-hunk-text text nil 0))
                        (car (diff-hunk-text text t 0)))
                  hunks))
          (goto-char (cadr bounds)))))
    (nreverse hunks)))

(defun aish--hunk-member ()
  "The member whose diff the hunk at point belongs to."
  (save-excursion
    (end-of-line)
    (when (re-search-backward "^\\+\\+\\+ \\(.*\\)$" nil t)
      (match-string-no-properties 1))))

(defun aish--apply-hunks (old hunks)
  "OLD with HUNKS (a list of (FROM . TO) texts) applied, in order.
Signal a `user-error' when a hunk's text is not found."
  (with-temp-buffer
    (insert old (aish--diff-pad old))
    (goto-char (point-min))
    (dolist (h hunks)
      (let ((from (car h)))
        (unless (or (search-forward from nil t)
                    (progn (goto-char (point-min)) (search-forward from nil t)))
          (user-error "aish: a hunk does not apply any more (edit it or reject)"))
        (replace-match (cdr h) t t)))
    (buffer-substring-no-properties
     (point-min) (- (point-max) (length (aish--diff-pad old))))))

;;;; Accepting and rejecting

(defun aish--proposal-here ()
  "The proposal of the current buffer, else the newest pending one."
  (or aish--proposal
      (seq-find (lambda (p) (eq (aish--target-buffer (aish--proposal-target p))
                                (current-buffer)))
                aish--proposals)
      (car aish--proposals)
      (user-error "aish: no proposal to accept or reject")))

(defun aish--proposal-member-here (proposal members)
  "The member of PROPOSAL chosen at point, among MEMBERS."
  (or (and (eq (current-buffer) (aish--proposal-diff proposal))
           (assoc (aish--hunk-member) members))
      (and (eq (current-buffer) (aish--proposal-buffer proposal))
           (seq-find (lambda (m)
                       (let ((s (cdr m)))
                         (<= (aish--section-start s) (point)
                             (1+ (aish--section-end s)))))
                     members))
      (and (null (cdr members)) (car members))
      (assoc (completing-read "Accept the proposal of: " (mapcar #'car members)
                              nil t)
             members)))

(defun aish--proposal-check (proposal)
  "Signal a `user-error' unless PROPOSAL can be applied now."
  (unless (aish--proposal-done proposal)
    (user-error "aish: the proposal is still arriving (\\[aish-cancel] stops it)"))
  (unless (aish--target-intact-p (aish--proposal-target proposal))
    (user-error "aish: the region changed since the proposal was made; \
\\[aish-reject] drops it")))

(defun aish--proposal-new-text (proposal member)
  "The region's new text from MEMBER's proposal in PROPOSAL.
The hunks left in the diff buffer, applied to the region's text;
when the proposed text was edited after the diff was made, the
whole edited text."
  (if (or (not (buffer-live-p (aish--proposal-diff proposal)))
          (/= (aish--proposal-tick proposal)
              (buffer-chars-modified-tick (aish--proposal-buffer proposal))))
      (aish--proposed-text proposal (cdr member))
    (with-current-buffer (aish--proposal-diff proposal)
      (aish--apply-hunks (aish--target-old (aish--proposal-target proposal))
                         (aish--diff-hunks (car member))))))

;;;###autoload
(defun aish-accept ()
  "Apply the proposal of this buffer (or the newest one) to its region.
In *aish-diff*, the hunks left are applied (drop one with M-k
first), and for a team, the proposal at point; elsewhere, the
whole proposal (a team's: the one chosen at point or asked for).
The proposal is refused when the region changed since it was sent.
Example: \\[aish-propose-region] apollo fix it RET, then \\[aish-accept]."
  (interactive)
  (let* ((proposal (aish--proposal-here))
         (_ (aish--proposal-check proposal))
         (members (aish--proposal-members proposal))
         (member (aish--proposal-member-here proposal members))
         (text (aish--proposal-new-text proposal member))
         (target (aish--proposal-target proposal)))
    (aish--target-replace target text t)
    (aish--proposal-drop proposal)
    (aish--notice "accepted the proposal of %s" (car member))))

;;;###autoload
(defun aish-accept-hunk ()
  "In a proposal's diff, apply only the hunk at point to the region.
The hunk leaves the diff; the others stay to be taken or rejected.
Example: in *aish-diff*, n to the hunk, \\[aish-accept-hunk]."
  (interactive)
  (let ((proposal (aish--proposal-here)))
    (unless (eq (current-buffer) (aish--proposal-diff proposal))
      (user-error "aish: move to a hunk of *aish-diff* first"))
    (aish--proposal-check proposal)
    (let* ((target (aish--proposal-target proposal))
           (bounds (diff-bounds-of-hunk))
           (hunk (apply #'buffer-substring-no-properties bounds))
           (text (aish--apply-hunks (aish--target-old target)
                                    (list (cons (car (diff-hunk-text hunk nil 0))
                                                (car (diff-hunk-text hunk t 0)))))))
      (aish--target-replace target text t)
      (setf (aish--target-old target) (aish--target-text target))
      (let ((inhibit-read-only t))
        (diff-hunk-kill))
      (set-buffer-modified-p nil)
      (aish--notice "hunk applied"))))

;;;###autoload
(defun aish-reject ()
  "Drop the proposal of this buffer (or the newest one), changing nothing.
Example: \\[aish-propose-region] apollo shorten it RET, then \\[aish-reject]."
  (interactive)
  (let ((proposal (aish--proposal-here)))
    (unless (aish--proposal-done proposal)
      (aish--cancel-request (aish--proposal-req proposal)))
    (aish--proposal-drop proposal)
    (aish--notice "proposal rejected")))

;;;###autoload
(defun aish-proposal-diff ()
  "Show the proposal of this buffer as a diff, made again from its text.
Example: edit *aish-proposal*, then \\[aish-proposal-diff]."
  (interactive)
  (let ((proposal (aish--proposal-here)))
    (unless (aish--proposal-done proposal)
      (user-error "aish: the proposal is still arriving"))
    (aish--proposal-show-diff proposal)))

;;;###autoload
(defun aish-proposal-edit ()
  "Show the proposed text, to edit it; \\[aish-proposal-diff] there diffs again.
Example: in *aish-diff*, \\[aish-proposal-edit]."
  (interactive)
  (let ((proposal (aish--proposal-here)))
    (pop-to-buffer (aish--proposal-buffer proposal))))

(defun aish--proposal-drop (proposal &optional keep-buffer)
  "Forget PROPOSAL and kill its buffers (but the proposal with KEEP-BUFFER)."
  (setq aish--proposals (delq proposal aish--proposals))
  (aish--target-release (aish--proposal-target proposal))
  (dolist (buffer (list (aish--proposal-diff proposal)
                        (unless keep-buffer (aish--proposal-buffer proposal))))
    (when (buffer-live-p buffer)
      (with-current-buffer buffer
        (setq aish--proposal nil))
      (dolist (w (get-buffer-window-list buffer nil t))
        (quit-window nil w))
      (kill-buffer buffer))))

(provide 'aish-propose)

;;; aish-propose.el ends here
