-- Test init: the plugin from this repository, the server under test.
local root = os.getenv('BPF_LSP_EDITORS')
vim.opt.runtimepath:prepend(root .. '/nvim')
vim.g.bpf_lsp_no_autosetup = 1
require('bpf_lsp').setup({ cmd = { os.getenv('BPF_LSP'), 'serve' } })
