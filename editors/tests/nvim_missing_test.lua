-- Headless Neovim test without the server binary: opening BPF programs
-- says once that bpf-lsp is missing, with no Lua error.
local function out(msg) io.stdout:write(msg .. '\n') end
local function fail(msg)
  io.stderr:write('FAIL: ' .. msg .. '\n')
  vim.cmd('cquit 1')
end
vim.defer_fn(function() fail('global timeout') end, 30000)
local notes = {}
vim.notify = function(msg) table.insert(notes, msg) end
local dir = vim.fn.tempname()
vim.fn.mkdir(dir, 'p')
for _, name in ipairs({ 'a.bpf.c', 'b.bpf.c', 'c.bpf.c' }) do
  vim.fn.writefile({ '#include <bpf/bpf_helpers.h>', 'int x;' }, dir .. '/' .. name)
  vim.cmd('edit ' .. dir .. '/' .. name)
end
vim.wait(300)
if vim.v.errmsg ~= '' then fail('error: ' .. vim.v.errmsg) end
local missing = 0
for _, n in ipairs(notes) do
  if n:find('not executable', 1, true) then missing = missing + 1 end
end
out('NOTIFY ' .. (notes[1] or ''))
if missing ~= 1 then fail(missing .. ' missing-binary messages for 3 files, want 1') end
out('OK')
vim.cmd('qall!')
