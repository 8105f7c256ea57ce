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

local clients = (vim.lsp.get_clients or vim.lsp.get_active_clients)({ bufnr = buf })
local client = clients[1]
if not client then fail('no client attached') end
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
out('OK')
vim.cmd('qall!')
