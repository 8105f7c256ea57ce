;;; emacs_test.el --- bpf-lsp beside clangd (eglot) in batch mode -*- lexical-binding: t; -*-
;; The BPF program gets bpf-lsp's diagnostic on the right line while eglot
;; runs clangd on it; the user-space loader.c in the same directory gets
;; clangd's diagnostic and no bpf-lsp.
(package-initialize)
(require 'eglot)
(load (expand-file-name "../emacs/bpf-lsp.el" (file-name-directory load-file-name)))
(setq bpf-lsp-program (getenv "BPF_LSP"))
(bpf-lsp-setup)
(defvar clangd (getenv "CLANGD"))
(when clangd
  (add-to-list 'eglot-server-programs `((c-mode) . (,clangd))))
(setq eglot-sync-connect t)
(defun fail (msg) (message "FAIL: %s" msg) (kill-emacs 1))
(defun wait-diag (regexp)
  "The first Flymake diagnostic matching REGEXP, waiting up to 30 s."
  (flymake-start)
  (let ((deadline (+ (float-time) 30)) found)
    (while (and (not found) (< (float-time) deadline))
      (accept-process-output nil 0.05)
      (dolist (d (flymake-diagnostics))
        (when (string-match-p regexp (flymake-diagnostic-text d))
          (setq found d))))
    found))
(defvar testdata (expand-file-name "../testdata/" (file-name-directory load-file-name)))

(find-file (expand-file-name "demo.bpf.c" testdata))
(unless bpf-lsp-mode (fail "bpf-lsp-mode is off in demo.bpf.c"))
(when clangd
  (call-interactively #'eglot)
  (unless (eglot-current-server) (fail "eglot (clangd) did not connect to demo.bpf.c")))
(let ((found (wait-diag "requires holding 'glock'")))
  (unless found (fail "no bpf-lsp diagnostic within 30s"))
  (let ((line (line-number-at-pos (flymake-diagnostic-beg found))))
    (message "DIAG line %d: %s" line (flymake-diagnostic-text found))
    (unless (= line 26) (fail (format "diagnostic on line %d, want 26" line)))))
(when clangd
  (unless (memq 'eglot-flymake-backend flymake-diagnostic-functions)
    (fail "clangd's Flymake backend is gone from demo.bpf.c"))
  (message "BESIDE %S" flymake-diagnostic-functions))

(find-file (expand-file-name "loader.c" testdata))
(when bpf-lsp-mode (fail "bpf-lsp-mode is on in the user-space loader.c"))
(when (memq 'bpf-lsp-flymake flymake-diagnostic-functions) (fail "bpf-lsp checks loader.c"))
(message "LOADER bpf-lsp off")
(when clangd
  ;; eglot manages every C buffer of the project once it runs for one.
  (unless (eglot-current-server) (fail "eglot (clangd) does not manage loader.c"))
  (let ((found (wait-diag "undeclared_counter")))
    (unless found (fail "clangd gave loader.c no diagnostic"))
    (message "LOADER clangd: %s" (flymake-diagnostic-text found))))
(message "OK")
(kill-emacs 0)
