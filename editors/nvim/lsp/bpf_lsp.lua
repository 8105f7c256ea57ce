---@brief
--- bpf-lsp: lock mistakes in BPF C programs (bpf_spin_lock, bpf_rb_root,
--- bpf_list_head, __guarded_by), checked as you type and, on request,
--- against the running kernel's verifier.
---
--- Neovim 0.11+: put editors/nvim on 'runtimepath' and call
--- vim.lsp.enable('bpf_lsp'). It attaches only to BPF programs (*.bpf.c,
--- files compile_commands.json builds with -target bpf, files including
--- <bpf/bpf_helpers.h>) and runs beside clangd, never instead of it.
--- Other globs: vim.lsp.config('bpf_lsp', { bpf_files = { 'progs/*.c' } }).
local bpf = require('bpf_lsp')

---@type vim.lsp.Config
return {
  cmd = { 'bpf-lsp', 'serve' },
  filetypes = { 'c' },
  bpf_files = bpf.defaults.files,
  root_dir = function(bufnr, on_dir)
    local cfg = vim.lsp.config.bpf_lsp or {}
    if bpf.is_bpf(bufnr, cfg.bpf_files) and bpf.executable(cfg.cmd or { 'bpf-lsp' }) then
      on_dir(bpf.root_dir(bufnr))
    end
  end,
  init_options = {
    -- includeDirs = { 'include' },
    -- compileFlags = { '-idirafter', '/usr/include/x86_64-linux-gnu' },
    -- defines = { 'DEBUG=1' },
    -- compileCommands = 'build/compile_commands.json',
    verifyOnSave = false, -- load programs into the kernel verifier on save
    -- clangPath = 'clang-19',
    -- targetKernels = { '6.12', '7.3' },
    workspaceDiagnostics = true, -- also analyse the project's closed BPF files (false for huge trees)
  },
}
