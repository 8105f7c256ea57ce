-- Test init for Neovim 0.11+: clangd and bpf_lsp through vim.lsp.config /
-- vim.lsp.enable, with lsp/bpf_lsp.lua from this repository.
local root = os.getenv('BPF_LSP_EDITORS')
vim.opt.runtimepath:prepend(root .. '/nvim')
local clangd = os.getenv('CLANGD')
local servers = { 'bpf_lsp' }
if clangd and clangd ~= '' then
  vim.lsp.config('clangd', { cmd = { clangd }, filetypes = { 'c' }, root_markers = { 'compile_flags.txt', '.git' } })
  table.insert(servers, 'clangd')
end
vim.lsp.config('bpf_lsp', { cmd = { os.getenv('BPF_LSP'), 'serve' } })
vim.lsp.enable(servers)
