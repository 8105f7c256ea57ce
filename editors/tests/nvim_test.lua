-- Headless Neovim test (works on 0.7): diagnostic at the right line, hover
-- on a guarded counter names its lock, the quick fix applies and the
-- diagnostic clears.
local function out(msg) io.stdout:write(msg .. '\n') end
local function fail(msg)
  io.stderr:write('FAIL: ' .. msg .. '\n')
  vim.cmd('cquit 1')
end
vim.defer_fn(function() fail('global timeout') end, 60000)

local buf = vim.api.nvim_get_current_buf()
local function bpf_diags()
  local ds = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.source == 'bpf-lsp' then table.insert(ds, d) end
  end
  return ds
end

if not vim.wait(30000, function() return #bpf_diags() > 0 end, 50) then
  fail('no diagnostics within 30s')
end
local d = bpf_diags()[1]
out(string.format('DIAG %d:%d %s %s', d.lnum + 1, d.col + 1, tostring(d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)), d.message))
if d.lnum ~= 25 then fail('diagnostic on line ' .. (d.lnum + 1) .. ', want 26') end

-- The clients attached to a buffer (0.7 has only buf_get_clients).
local function client_named(bufnr, name)
  local clients = vim.lsp.get_clients and vim.lsp.get_clients({ bufnr = bufnr }) or vim.lsp.buf_get_clients(bufnr)
  for _, c in pairs(clients) do
    if c.name == name then return c end
  end
end
local client = client_named(buf, 'bpf_lsp')
if not client then fail('bpf-lsp is not attached to the BPF program') end
if os.getenv('CLANGD') and not vim.wait(10000, function() return client_named(buf, 'clangd') ~= nil end, 50) then
  fail('clangd is not attached beside bpf-lsp')
end
local enc = client.offset_encoding or 'utf-16'

-- Hover on nr_nodes (line 28).
local line = vim.api.nvim_buf_get_lines(buf, 27, 28, false)[1]
local col = line:find('nr_nodes', 1, true) - 1
vim.api.nvim_win_set_cursor(0, { 28, col })
local res = vim.lsp.buf_request_sync(buf, 'textDocument/hover', vim.lsp.util.make_position_params(0, enc), 10000)
local hover = res and res[client.id] and res[client.id].result
local text = hover and hover.contents and (hover.contents.value or hover.contents) or ''
out('HOVER ' .. tostring(text):gsub('\n', ' '))
if not tostring(text):find('glock', 1, true) then fail('hover does not name the lock') end

-- Quick fix at the diagnostic.
vim.api.nvim_win_set_cursor(0, { 26, 2 })
local params = vim.lsp.util.make_range_params(0, enc)
params.context = { diagnostics = {} }
res = vim.lsp.buf_request_sync(buf, 'textDocument/codeAction', params, 10000)
local actions = res and res[client.id] and res[client.id].result or {}
if #actions == 0 then fail('no code action') end
out('CODEACTION ' .. actions[1].title)
vim.lsp.util.apply_workspace_edit(actions[1].edit, enc)
out('EDITED ' .. vim.api.nvim_buf_get_lines(buf, 25, 26, false)[1])

if not vim.wait(30000, function() return #bpf_diags() == 0 end, 50) then
  fail('diagnostic did not clear after the fix')
end
out('CLEARED')

-- A user-space file in the same project: clangd serves it, bpf-lsp does not attach.
vim.cmd('edit loader.c')
local user = vim.api.nvim_get_current_buf()
if not vim.wait(2000, function() return vim.bo[user].filetype == 'c' end, 20) then fail('loader.c is not a C buffer') end
if client_named(user, 'bpf_lsp') then fail('bpf-lsp attached to the user-space loader.c') end
out('LOADER bpf-lsp not attached')
if os.getenv('CLANGD') then
  if not vim.wait(10000, function() return client_named(user, 'clangd') ~= nil end, 50) then
    fail('clangd is not attached to loader.c')
  end
  local function clang_diag()
    for _, dg in ipairs(vim.diagnostic.get(user)) do
      if dg.message:find('undeclared_counter', 1, true) then return dg end
    end
  end
  if not vim.wait(30000, function() return clang_diag() ~= nil end, 50) then fail('clangd gave loader.c no diagnostic') end
  out('LOADER clangd ' .. clang_diag().message)
  for _, dg in ipairs(vim.diagnostic.get(user)) do
    if dg.source == 'bpf-lsp' then fail('a bpf-lsp diagnostic on loader.c') end
  end
end
out('OK')
vim.cmd('qall!')
