-- Loaded automatically when this directory is on 'runtimepath'. Users who
-- want options call require('bpf_lsp').setup({...}) themselves and set
-- vim.g.bpf_lsp_no_autosetup = 1.
if vim.g.bpf_lsp_no_autosetup == 1 or vim.g.loaded_bpf_lsp == 1 then
  return
end
vim.g.loaded_bpf_lsp = 1
if vim.lsp.config and vim.lsp.enable then
  return -- 0.11+: lsp/bpf_lsp.lua and vim.lsp.enable('bpf_lsp') do it
end
require('bpf_lsp').setup()
