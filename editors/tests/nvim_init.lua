-- Test init: clangd for every C buffer (as a user has it) and the plugin
-- from this repository for BPF programs, with the server under test.
local root = os.getenv('BPF_LSP_EDITORS')
vim.opt.runtimepath:prepend(root .. '/nvim')
vim.g.bpf_lsp_no_autosetup = 1
local clangd = os.getenv('CLANGD')
if clangd and clangd ~= '' then
  vim.api.nvim_create_autocmd('FileType', { pattern = 'c', callback = function(args)
    _G.clangd_id = _G.clangd_id or vim.lsp.start_client({ name = 'clangd', cmd = { clangd }, root_dir = vim.fn.getcwd() })
    vim.lsp.buf_attach_client(args.buf, _G.clangd_id)
  end })
end
require('bpf_lsp').setup({ cmd = { os.getenv('BPF_LSP'), 'serve' } })
