---@brief
--- bpf-lsp: lock mistakes in BPF C programs (bpf_spin_lock, bpf_rb_root,
--- bpf_list_head, __guarded_by), checked as you type and, on request,
--- against the running kernel's verifier.
---
--- Neovim 0.11+: put this directory on 'runtimepath' (or copy the file to
--- ~/.config/nvim/lsp/bpf_lsp.lua) and call vim.lsp.enable('bpf_lsp').
--- It runs beside clangd on the same buffers.
---@type vim.lsp.Config
return {
  cmd = { 'bpf-lsp', 'serve' },
  filetypes = { 'c' },
  root_markers = { 'compile_commands.json', 'compile_flags.txt', '.git' },
  init_options = {
    -- includeDirs = { 'include' },
    -- defines = { 'DEBUG=1' },
    -- compileCommands = 'build/compile_commands.json',
    verifyOnSave = false, -- load programs into the kernel verifier on save
    -- clangPath = 'clang-19',
  },
}
