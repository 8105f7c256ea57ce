-- bpf-lsp for Neovim 0.7 and later, without nvim-lspconfig.
--
--   require('bpf_lsp').setup({ cmd = { 'bpf-lsp', 'serve' }, verifyOnSave = false })
--
-- On 0.11+ prefer lsp/bpf_lsp.lua with vim.lsp.enable('bpf_lsp').
local M = {}

local defaults = {
  cmd = { 'bpf-lsp', 'serve' },
  filetypes = { 'c' },
  root_markers = { 'compile_commands.json', 'compile_flags.txt', '.git' },
  includeDirs = nil,
  defines = nil,
  compileCommands = nil,
  verifyOnSave = false,
  clangPath = nil,
}

local function root_dir(bufname, markers)
  local dir = vim.fn.fnamemodify(bufname, ':p:h')
  while dir and dir ~= '' do
    for _, m in ipairs(markers) do
      if vim.loop.fs_stat(dir .. '/' .. m) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ':h')
    if parent == dir then
      break
    end
    dir = parent
  end
  return vim.fn.getcwd()
end

function M.setup(opts)
  local cfg = vim.tbl_extend('force', defaults, opts or {})
  local group = vim.api.nvim_create_augroup('bpf_lsp', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = cfg.filetypes,
    callback = function(args)
      local client_cfg = {
        name = 'bpf_lsp',
        cmd = cfg.cmd,
        root_dir = root_dir(vim.api.nvim_buf_get_name(args.buf), cfg.root_markers),
        init_options = {
          includeDirs = cfg.includeDirs,
          defines = cfg.defines,
          compileCommands = cfg.compileCommands,
          verifyOnSave = cfg.verifyOnSave,
          clangPath = cfg.clangPath,
        },
      }
      if vim.lsp.start then -- 0.8+: reuses a running client with the same name and root
        vim.lsp.start(client_cfg, { bufnr = args.buf })
      else -- 0.7
        M._clients = M._clients or {}
        local id = M._clients[client_cfg.root_dir]
        if not id or not vim.lsp.get_client_by_id(id) then
          id = vim.lsp.start_client(client_cfg)
          M._clients[client_cfg.root_dir] = id
        end
        vim.lsp.buf_attach_client(args.buf, id)
      end
    end,
  })
  vim.api.nvim_create_user_command('BpfLspVerify', function()
    local params = { command = 'bpf-lsp.verify', arguments = { vim.uri_from_bufnr(0) } }
    vim.lsp.buf_request(0, 'workspace/executeCommand', params, function(err, result)
      if err then
        vim.notify('bpf-lsp verify: ' .. err.message, vim.log.levels.ERROR)
      else
        vim.notify(tostring(result), vim.log.levels.INFO)
      end
    end)
  end, { desc = 'Load this file into the kernel verifier (bpf-lsp)' })
end

return M
