;;; bpf-lsp.el --- bpf-lsp with eglot -*- lexical-binding: t; -*-

;; Lock mistakes in BPF C programs, as you type, through eglot (Emacs 29+
;; has it built in; Emacs 28: M-x package-install eglot, or Debian's
;; elpa-eglot). Load this file, then M-x eglot in a C buffer.
;;
;; eglot runs one server per major mode; to keep clangd as well, start
;; bpf-lsp for *.bpf.c files only (as below) and clangd for the rest.

;;; Code:

(require 'eglot)

(defgroup bpf-lsp nil "bpf-lsp language server." :group 'tools)

(defcustom bpf-lsp-command '("bpf-lsp" "serve")
  "Command that starts bpf-lsp."
  :type '(repeat string))

(defcustom bpf-lsp-verify-on-save nil
  "Load programs into the kernel verifier when a file is saved."
  :type 'boolean)

(defun bpf-lsp--contact (&optional _interactive)
  "The eglot contact for bpf-lsp, with initialization options."
  (append bpf-lsp-command
          (list :initializationOptions
                (list :verifyOnSave (if bpf-lsp-verify-on-save t :json-false)))))

(add-to-list 'eglot-server-programs '((c-mode c-ts-mode) . bpf-lsp--contact))

(defun bpf-lsp-verify ()
  "Verify the current file against the running kernel."
  (interactive)
  (eglot-execute-command (eglot--current-server-or-lose) "bpf-lsp.verify"
                         (vector (eglot--path-to-uri (buffer-file-name)))))

(provide 'bpf-lsp)
;;; bpf-lsp.el ends here
