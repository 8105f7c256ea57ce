;;; bpf-lsp.el --- bpf-lsp for BPF C programs, beside clangd -*- lexical-binding: t; -*-

;; Lock mistakes in BPF C programs, as you type.  BPF programs are the
;; files matching `bpf-lsp-file-regexps', files the nearest
;; compile_commands.json builds with -target bpf, or, when no database
;; names the file, files that include <bpf/bpf_helpers.h>.  Two ways,
;; chosen by `bpf-lsp-eglot-server':
;;
;; `bpf-lsp': eglot runs `bpf-lsp serve' for BPF programs: diagnostics,
;; hover (eldoc), quick fixes (`eglot-code-actions'), go-to-lock (xref).
;; eglot runs one server per major mode, so BPF programs get their own
;; major mode, `bpf-c-mode' (or `bpf-c-ts-mode'), derived from the C
;; mode: eglot runs bpf-lsp there and clangd in every other C buffer.
;; clangd does not serve the BPF buffers then (no clangd completion
;; there).
;;
;; `clangd' (the default, and the only way without eglot): eglot keeps
;; clangd in BPF programs too, and a Flymake backend that runs
;; `bpf-lsp check --format json' on the buffer's text puts bpf-lsp's
;; diagnostics beside clangd's.  No bpf-lsp hover or quick fixes.
;;
;; Setup:
;;   (load "/path/to/bpf-lsp/editors/emacs/bpf-lsp.el")
;;   (setq bpf-lsp-eglot-server 'bpf-lsp)    ; optional, see above
;;   (bpf-lsp-setup)                 ; hooks c-mode and c-ts-mode
;;   (add-hook 'c-mode-hook #'eglot-ensure)   ; clangd (and bpf-lsp), as usual

;;; Code:

(require 'flymake)
(require 'json)
(require 'cl-lib)

(defvar eglot-server-programs)

(defgroup bpf-lsp nil "bpf-lsp diagnostics for BPF C programs." :group 'tools)

(defcustom bpf-lsp-program "bpf-lsp"
  "The bpf-lsp binary."
  :type 'string)

(defcustom bpf-lsp-check-args nil
  "Extra arguments for `bpf-lsp check', e.g. (\"-I\" \"include\")."
  :type '(repeat string))

(defcustom bpf-lsp-file-regexps '("\\.bpf\\.c\\'")
  "File names that are BPF programs whatever their content."
  :type '(repeat regexp))

(defcustom bpf-lsp-eglot-server 'clangd
  "The server eglot runs in BPF programs.
`clangd': clangd, with bpf-lsp's diagnostics from a Flymake backend
beside it.  `bpf-lsp': bpf-lsp, in `bpf-c-mode' / `bpf-c-ts-mode'
buffers, with hover and quick fixes; clangd keeps the other C files.
Without eglot, `bpf-lsp' falls back to `clangd'."
  :type '(choice (const :tag "clangd, bpf-lsp diagnostics through Flymake" clangd)
                 (const :tag "bpf-lsp (hover, quick fixes)" bpf-lsp)))

(defcustom bpf-lsp-settings nil
  "Server settings for eglot's bpf-lsp, a plist sent as initializationOptions.
The keys are the server's settings (see editors/README.md), e.g.
  (:includeDirs [\"include\"] :workspaceDiagnostics :json-false)
`workspaceDiagnostics' (analyse the project's closed BPF files in the
background) is on unless set to :json-false."
  :type 'plist)

(defvar bpf-lsp--warned nil "Non-nil once the missing binary was reported.")
(defvar-local bpf-lsp--proc nil "The running check of this buffer.")

(defun bpf-lsp--targets-bpf (args)
  "Non-nil when compiler ARGS build for the BPF target."
  (cl-loop for (a next) on args
           thereis (let ((target (cond ((string-match "\\`--?target=\\(.*\\)" a) (match-string 1 a))
                                       ((member a '("-target" "--target")) next))))
                     (and target (string-prefix-p "bpf" target)))))

(defun bpf-lsp--database-verdict (file)
  "t or `user' when the nearest compile_commands.json names FILE, else nil."
  (let ((dir (file-name-directory file)) verdict)
    (while (and dir (not verdict))
      (dolist (db (list (expand-file-name "compile_commands.json" dir)
                        (expand-file-name "build/compile_commands.json" dir)))
        (when (and (not verdict) (file-readable-p db))
          (dolist (e (ignore-errors (let ((json-array-type 'list)) (json-read-file db))))
            (let* ((edir (or (alist-get 'directory e) (file-name-directory db)))
                   (efile (expand-file-name (or (alist-get 'file e) "") edir)))
              (when (string= efile file)
                (let ((args (or (alist-get 'arguments e) (split-string (or (alist-get 'command e) "")))))
                  (setq verdict (if (bpf-lsp--targets-bpf args) t 'user))))))))
      (let ((parent (file-name-directory (directory-file-name dir))))
        (setq dir (unless (equal parent dir) parent))))
    verdict))

(defun bpf-lsp-file-p ()
  "Non-nil when the current buffer holds a BPF program."
  (let ((file (and buffer-file-name (expand-file-name buffer-file-name))))
    (when file
      (or (cl-some (lambda (re) (string-match-p re file)) bpf-lsp-file-regexps)
          (pcase (bpf-lsp--database-verdict file)
            ('t t)
            ('user nil)
            (_ (save-excursion
                 (save-restriction
                   (widen)
                   (goto-char (point-min))
                   (re-search-forward "^[ \t]*#[ \t]*include[ \t]*[<\"]bpf/bpf_helpers\\.h[>\"]" nil t)))))))))

(defun bpf-lsp--position (line col)
  "The buffer position of 1-based LINE and byte COL."
  (save-excursion
    (goto-char (point-min))
    (forward-line (1- line))
    (min (line-end-position) (+ (point) (max 0 (1- col))))))

(defun bpf-lsp--diagnostics (source findings)
  "Flymake diagnostics in SOURCE for the JSON FINDINGS of its file."
  (let ((file (expand-file-name (buffer-file-name source))) out)
    (with-current-buffer source
      (dolist (f findings)
        (when (string= (expand-file-name (alist-get 'file f)) file)
          (let* ((beg (bpf-lsp--position (alist-get 'line f) (alist-get 'column f)))
                 (end (bpf-lsp--position (alist-get 'endLine f) (alist-get 'endColumn f))))
            (push (flymake-make-diagnostic
                   source beg (max end (1+ beg))
                   (pcase (alist-get 'severity f) ("error" :error) ("warning" :warning) (_ :note))
                   (format "bpf-lsp [%s]: %s" (alist-get 'code f) (alist-get 'message f)))
                  out)))))
    (nreverse out)))

(defun bpf-lsp-flymake (report-fn &rest _)
  "Flymake backend: check the buffer's text with bpf-lsp, report to REPORT-FN."
  (when (process-live-p bpf-lsp--proc)
    (kill-process bpf-lsp--proc))
  (let ((source (current-buffer))
        (default-directory (file-name-directory buffer-file-name)))
    (save-restriction
      (widen)
      (setq bpf-lsp--proc
            (make-process
             :name "bpf-lsp-check" :noquery t :connection-type 'pipe
             :buffer (generate-new-buffer " *bpf-lsp-check*")
             :stderr (get-buffer-create " *bpf-lsp-stderr*")
             :command (append (list bpf-lsp-program "check" "--format" "json" "--color" "never"
                                    "--stdin-filename" (expand-file-name buffer-file-name))
                              bpf-lsp-check-args)
             :sentinel
             (lambda (proc _event)
               (when (memq (process-status proc) '(exit signal))
                 (unwind-protect
                     (if (not (and (buffer-live-p source)
                                   (eq proc (buffer-local-value 'bpf-lsp--proc source))))
                         (flymake-log :debug "bpf-lsp: dropping an obsolete check")
                       (let ((findings (with-current-buffer (process-buffer proc)
                                         (goto-char (point-min))
                                         (let ((json-array-type 'list))
                                           (ignore-errors (json-read))))))
                         (if (and (null findings) (> (process-exit-status proc) 1))
                             (funcall report-fn :panic
                                      :explanation (format "bpf-lsp check exited %d (see buffer  *bpf-lsp-stderr*)"
                                                           (process-exit-status proc)))
                           (funcall report-fn (bpf-lsp--diagnostics source findings)))))
                   (kill-buffer (process-buffer proc)))))))
      (process-send-region bpf-lsp--proc (point-min) (point-max))
      (process-send-eof bpf-lsp--proc))))

;;;###autoload
(define-minor-mode bpf-lsp-mode
  "bpf-lsp diagnostics in this buffer, beside the other Flymake backends."
  :lighter " BPF"
  (if bpf-lsp-mode
      (progn
        (add-hook 'flymake-diagnostic-functions #'bpf-lsp-flymake nil t)
        (flymake-mode 1))
    (remove-hook 'flymake-diagnostic-functions #'bpf-lsp-flymake t)))

(defun bpf-lsp--after-eglot ()
  "Put the bpf-lsp backend back: eglot replaces the buffer's Flymake backends."
  (when bpf-lsp-mode
    (add-hook 'flymake-diagnostic-functions #'bpf-lsp-flymake nil t)))

(define-derived-mode bpf-c-mode c-mode "BPF-C"
  "C mode for BPF programs: eglot runs bpf-lsp in it (see `bpf-lsp-eglot-server').")

(declare-function bpf-c-ts-mode "bpf-lsp")
(when (fboundp 'c-ts-mode)
  (define-derived-mode bpf-c-ts-mode c-ts-mode "BPF-C"
    "C mode (tree-sitter) for BPF programs: eglot runs bpf-lsp in it."))

(defun bpf-lsp--eglot-contact (&optional _interactive)
  "The eglot contact of bpf-lsp: its command and `bpf-lsp-settings'."
  (append (list bpf-lsp-program "serve")
          (when bpf-lsp-settings (list :initializationOptions bpf-lsp-settings))))

(defun bpf-lsp--eglot-register ()
  "Put bpf-lsp first in `eglot-server-programs' for the BPF modes.
First, because eglot takes the first entry whose mode the buffer's
derives from, and a C entry (clangd's) matches `bpf-c-mode' too."
  (let ((entry (cons '((bpf-c-mode :language-id "c") (bpf-c-ts-mode :language-id "c"))
                     #'bpf-lsp--eglot-contact)))
    (setq eglot-server-programs (cons entry (delete entry eglot-server-programs)))))

(defun bpf-lsp--use-eglot ()
  "Non-nil when eglot is to run bpf-lsp in BPF programs."
  (and (eq bpf-lsp-eglot-server 'bpf-lsp) (require 'eglot nil t)))

(defun bpf-lsp-maybe-enable ()
  "Serve a BPF program with bpf-lsp; say once if bpf-lsp is missing.
With `bpf-lsp-eglot-server' `bpf-lsp', switch to the BPF major mode
eglot runs bpf-lsp in; else turn on `bpf-lsp-mode' (Flymake).  Without
the binary the buffer stays as it is, with clangd."
  (when (and (not (derived-mode-p 'bpf-c-mode 'bpf-c-ts-mode)) (bpf-lsp-file-p))
    (cond ((not (executable-find bpf-lsp-program))
           (unless bpf-lsp--warned
             (setq bpf-lsp--warned t)
             (message "bpf-lsp: `%s' not found; BPF files get no bpf-lsp diagnostics (install it, or set `bpf-lsp-program')"
                      bpf-lsp-program)))
          ((bpf-lsp--use-eglot)
           (bpf-lsp--eglot-register)
           (if (derived-mode-p 'c-ts-mode) (bpf-c-ts-mode) (bpf-c-mode)))
          (t (bpf-lsp-mode 1)))))

;;;###autoload
(defun bpf-lsp-setup ()
  "Serve BPF programs opened in C modes with bpf-lsp (see `bpf-lsp-eglot-server')."
  (add-hook 'c-mode-hook #'bpf-lsp-maybe-enable)
  (add-hook 'c-ts-mode-hook #'bpf-lsp-maybe-enable)
  (add-hook 'eglot-managed-mode-hook #'bpf-lsp--after-eglot)
  (with-eval-after-load 'eglot (bpf-lsp--eglot-register)))

(defun bpf-lsp-verify ()
  "Compile the current file and load it into the running kernel's verifier."
  (interactive)
  (compile (mapconcat #'shell-quote-argument
                      (append (list bpf-lsp-program "verify") bpf-lsp-check-args (list (buffer-file-name)))
                      " ")))

(provide 'bpf-lsp)
;;; bpf-lsp.el ends here
