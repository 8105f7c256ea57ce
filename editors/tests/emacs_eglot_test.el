;;; emacs_eglot_test.el --- bpf-lsp as eglot's server for BPF programs, batch mode -*- lexical-binding: t; -*-
;; With `bpf-lsp-eglot-server' set to `bpf-lsp', demo.bpf.c opens in
;; `bpf-c-mode' and eglot runs bpf-lsp there, even though the user's
;; clangd entry (added after `bpf-lsp-setup') also matches C modes: its
;; diagnostic arrives through eglot's Flymake backend (and only there),
;; eldoc shows bpf-lsp's hover, `eglot-code-actions' offers and applies the
;; quick fix and the diagnostic clears.  The user-space loader.c stays in
;; c-mode, with clangd.
(package-initialize)
(require 'eglot)
(load (expand-file-name "../emacs/bpf-lsp.el" (file-name-directory load-file-name)))
(setq bpf-lsp-program (getenv "BPF_LSP"))
(setq bpf-lsp-eglot-server 'bpf-lsp)
;; The repository is the project: keep the server on the open file.
(setq bpf-lsp-settings '(:workspaceDiagnostics :json-false))
(bpf-lsp-setup)
(defvar clangd (getenv "CLANGD"))
(when clangd
  (add-to-list 'eglot-server-programs `((c-mode) . (,clangd))))
(setq eglot-sync-connect t)
(defun fail (msg) (message "FAIL: %s" msg) (kill-emacs 1))
(defun wait-for (what pred)
  "Wait up to 30 s for PRED to return non-nil; fail naming WHAT."
  (let ((deadline (+ (float-time) 30)) v)
    (while (and (not (setq v (funcall pred))) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (or v (fail (format "no %s within 30s" what)))))
(defun diag (regexp)
  (cl-find-if (lambda (d) (string-match-p regexp (flymake-diagnostic-text d))) (flymake-diagnostics)))
(defun server-name () (plist-get (eglot--server-info (eglot-current-server)) :name))
(defvar testdata (expand-file-name "../testdata/" (file-name-directory load-file-name)))
(defconst msg "requires holding 'glock'")

(find-file (expand-file-name "demo.bpf.c" testdata))
(unless (eq major-mode 'bpf-c-mode) (fail (format "demo.bpf.c is in %s, want bpf-c-mode" major-mode)))
(call-interactively #'eglot)
(unless (eglot-current-server) (fail "eglot did not connect to demo.bpf.c"))
(unless (equal (server-name) "bpf-lsp") (fail (format "eglot runs %s in demo.bpf.c, want bpf-lsp" (server-name))))
(message "SERVER %s for %s" (server-name) major-mode)
(when (memq 'bpf-lsp-flymake flymake-diagnostic-functions)
  (fail "the Flymake backend runs beside eglot's bpf-lsp (every diagnostic twice)"))
(flymake-start)
(let ((d (wait-for "bpf-lsp diagnostic" (lambda () (diag msg)))))
  (message "DIAG line %d: %s" (line-number-at-pos (flymake-diagnostic-beg d)) (flymake-diagnostic-text d))
  (unless (= (line-number-at-pos (flymake-diagnostic-beg d)) 26) (fail "diagnostic not on line 26")))

;; Hover through eldoc, as point resting on nr_nodes shows it.
(goto-char (point-min))
(forward-line 27)
(search-forward "nr_nodes")
(backward-char 2)
(let (shown)
  (setq-local eldoc-display-functions
              (list (lambda (docs _interactive) (setq shown (mapconcat #'car docs "\n")))))
  (eldoc-print-current-symbol-info t)
  (wait-for "eldoc hover" (lambda () (and shown (string-match-p "glock" shown))))
  (message "HOVER %s" (replace-regexp-in-string "\n+" " " shown)))

;; The quick fix on the unlocked bpf_rbtree_add, picked as a user would.
(goto-char (point-min))
(forward-line 25)
(search-forward "bpf_rbtree_add")
(let* ((titles (mapcar (lambda (a) (plist-get a :title)) (eglot-code-actions (point))))
       (title (cl-find-if (lambda (tt) (string-prefix-p "Wrap in bpf_spin_lock/unlock" tt)) titles)))
  (message "ACTIONS %S" titles)
  (unless title (fail (format "no wrap-in-lock quick fix among %S" titles)))
  (let ((last-nonmenu-event ?\r))
    (cl-letf (((symbol-function 'completing-read) (lambda (&rest _) title)))
      (eglot-code-actions (point) nil nil t))))
(unless (save-excursion (goto-char (point-min)) (re-search-forward "bpf_spin_lock(&glock);\n[ \t]*bpf_rbtree_add" nil t))
  (fail (format "the quick fix did not wrap the call:\n%s" (buffer-string))))
;; eglot sends the edit after an idle time, which batch mode never has.
(eglot--signal-textDocument/didChange)
(wait-for "diagnostic clearing after the fix" (lambda () (not (diag msg))))
(message "FIXED diagnostic cleared")
(set-buffer-modified-p nil)

(find-file (expand-file-name "loader.c" testdata))
(unless (eq major-mode 'c-mode) (fail (format "loader.c is in %s, want c-mode" major-mode)))
(when clangd
  (call-interactively #'eglot)
  (unless (eglot-current-server) (fail "eglot (clangd) does not manage loader.c"))
  (when (equal (server-name) "bpf-lsp") (fail "eglot runs bpf-lsp in loader.c"))
  (message "LOADER %s" (server-name)))
(message "OK")
(kill-emacs 0)
