;;; bpf-lsp.el --- bpf-lsp diagnostics for BPF C programs, beside clangd -*- lexical-binding: t; -*-

;; Lock mistakes in BPF C programs, as you type, through a Flymake backend
;; that runs `bpf-lsp check --format json' on the buffer's text.
;;
;; eglot runs one language server per major mode, so bpf-lsp as an eglot
;; server would replace clangd in C buffers.  A Flymake backend does not:
;; eglot (or any other backend) keeps serving the buffer, and bpf-lsp's
;; findings appear beside clangd's.  Only BPF programs get the backend:
;; files matching `bpf-lsp-file-regexps', files the nearest
;; compile_commands.json builds with -target bpf, or, when no database
;; names the file, files that include <bpf/bpf_helpers.h>.
;;
;; Setup:
;;   (load "/path/to/bpf-lsp/editors/emacs/bpf-lsp.el")
;;   (bpf-lsp-setup)                 ; hooks c-mode and c-ts-mode
;;   (add-hook 'c-mode-hook #'eglot-ensure)   ; clangd, as usual

;;; Code:

(require 'flymake)
(require 'json)
(require 'cl-lib)

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

(defun bpf-lsp-maybe-enable ()
  "Turn on `bpf-lsp-mode' in a BPF program; say once if bpf-lsp is missing."
  (when (bpf-lsp-file-p)
    (if (executable-find bpf-lsp-program)
        (bpf-lsp-mode 1)
      (unless bpf-lsp--warned
        (setq bpf-lsp--warned t)
        (message "bpf-lsp: `%s' not found; BPF files get no bpf-lsp diagnostics (install it, or set `bpf-lsp-program')"
                 bpf-lsp-program)))))

;;;###autoload
(defun bpf-lsp-setup ()
  "Check BPF programs opened in C modes with bpf-lsp."
  (add-hook 'c-mode-hook #'bpf-lsp-maybe-enable)
  (add-hook 'c-ts-mode-hook #'bpf-lsp-maybe-enable)
  (add-hook 'eglot-managed-mode-hook #'bpf-lsp--after-eglot))

(defun bpf-lsp-verify ()
  "Compile the current file and load it into the running kernel's verifier."
  (interactive)
  (compile (mapconcat #'shell-quote-argument
                      (append (list bpf-lsp-program "verify") bpf-lsp-check-args (list (buffer-file-name)))
                      " ")))

(provide 'bpf-lsp)
;;; bpf-lsp.el ends here
