-- Loaded automatically when this directory is on 'runtimepath'. Users who
-- want options call require('bpf_lsp').setup({...}) themselves and set
-- vim.g.bpf_lsp_no_autosetup = 1.
if vim.g.bpf_lsp_no_autosetup == 1 or vim.g.loaded_bpf_lsp == 1 then
  return
end
vim.g.loaded_bpf_lsp = 1
if vim.lsp.config and vim.lsp.enable then
  -- 0.11+: lsp/bpf_lsp.lua and vim.lsp.enable('bpf_lsp') do the work, but
  -- Neovim skips a server whose binary is missing without a word: say it
  -- once, for the first BPF program opened.
  vim.api.nvim_create_autocmd('FileType', {
    group = vim.api.nvim_create_augroup('bpf_lsp_missing', { clear = true }),
    pattern = 'c',
    callback = function(args)
      local cfg = vim.lsp.config.bpf_lsp
      local enabled = vim.lsp.is_enabled and vim.lsp.is_enabled('bpf_lsp')
      if enabled and cfg and type(cfg.cmd) == 'table' then
        local bpf = require('bpf_lsp')
        if bpf.is_bpf(args.buf, cfg.bpf_files) then bpf.executable(cfg.cmd) end
      end
    end,
  })
  return
end
require('bpf_lsp').setup()
