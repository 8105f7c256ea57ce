-- bpf-lsp for Neovim 0.7 and later, without nvim-lspconfig. It attaches
-- only to BPF programs and runs beside clangd, never instead of it.
--
--   require('bpf_lsp').setup({ cmd = { 'bpf-lsp', 'serve' }, files = { '*.bpf.c' } })
--
-- A C buffer is a BPF program when its name matches `files`, when the
-- nearest compile_commands.json builds it with -target bpf, or, when no
-- database names it, when it includes <bpf/bpf_helpers.h>.
--
-- On 0.11+ prefer lsp/bpf_lsp.lua with vim.lsp.enable('bpf_lsp'); it uses
-- the same detection.
local M = {}

M.defaults = {
  cmd = { 'bpf-lsp', 'serve' },
  filetypes = { 'c' },
  files = { '*.bpf.c' }, -- globs; without a '/' they match the file name
  root_markers = { '.bpf-lsp.yaml', 'compile_commands.json', 'compile_flags.txt', '.git' },
  includeDirs = nil,
  compileFlags = nil, -- more clang flags, e.g. { '-idirafter', '/usr/include/x86_64-linux-gnu' }
  defines = nil,
  compileCommands = nil,
  verifyOnSave = false,
  clangPath = nil,
  targetKernels = nil, -- e.g. { '6.12', '7.3' }; nil: the running kernel
  workspaceDiagnostics = nil, -- false: do not analyse the project's closed BPF files (nil: the server's default, on)
}

local uv = vim.uv or vim.loop

local function glob_match(glob, path)
  local subject = glob:find('/', 1, true) and path or vim.fn.fnamemodify(path, ':t')
  local ok, re = pcall(vim.fn.glob2regpat, glob)
  return ok and vim.fn.match(subject, re) >= 0
end

local function read_file(path)
  local f = io.open(path, 'r')
  if not f then return nil end
  local data = f:read('*a')
  f:close()
  return data
end

local function targets_bpf(args)
  for i, a in ipairs(args) do
    local t = a:match('^%-%-?target=(.*)$') or ((a == '-target' or a == '--target') and args[i + 1]) or nil
    if t and t:sub(1, 3) == 'bpf' then return true end
  end
  return false
end

local db_cache = {} -- compile_commands.json path -> { mtime, files = { [abs] = bool } }

local function database(path)
  local st = uv.fs_stat(path)
  if not st then return nil end
  local c = db_cache[path]
  if c and c.mtime == st.mtime.sec and c.size == st.size then return c.files end
  local files = {}
  local ok, entries = pcall(vim.fn.json_decode, read_file(path) or '')
  if ok and type(entries) == 'table' then
    for _, e in ipairs(entries) do
      local dir = e.directory or vim.fn.fnamemodify(path, ':h')
      local file = e.file or ''
      if file:sub(1, 1) ~= '/' then file = dir .. '/' .. file end
      file = vim.fn.simplify(file)
      local args = e.arguments or vim.split(e.command or '', '%s+')
      files[file] = files[file] or targets_bpf(args)
    end
  end
  db_cache[path] = { mtime = st.mtime.sec, size = st.size, files = files }
  return files
end

-- is_bpf reports whether the file in bufnr is a BPF program.
function M.is_bpf(bufnr, files)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == '' then return false end
  name = vim.fn.fnamemodify(name, ':p')
  for _, g in ipairs(files or M.defaults.files) do
    if glob_match(g, name) then return true end
  end
  local dir = vim.fn.fnamemodify(name, ':h')
  while dir ~= '' do
    for _, p in ipairs({ dir .. '/compile_commands.json', dir .. '/build/compile_commands.json' }) do
      local db = database(p)
      if db and db[name] ~= nil then return db[name] end
    end
    local parent = vim.fn.fnamemodify(dir, ':h')
    if parent == dir then break end
    dir = parent
  end
  for _, line in ipairs(vim.api.nvim_buf_get_lines(bufnr, 0, 200, false)) do
    if line:match('^%s*#%s*include%s*[<"]bpf/bpf_helpers%.h[>"]') then return true end
  end
  return false
end

-- root_dir is the nearest directory above the buffer with a root marker.
function M.root_dir(bufnr, markers)
  local dir = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(bufnr), ':p:h')
  while dir and dir ~= '' do
    for _, m in ipairs(markers or M.defaults.root_markers) do
      if uv.fs_stat(dir .. '/' .. m) then return dir end
    end
    local parent = vim.fn.fnamemodify(dir, ':h')
    if parent == dir then break end
    dir = parent
  end
  return vim.fn.getcwd()
end

local warned = false

-- executable reports whether cmd can run; the first time it cannot, it
-- says so once (not on every buffer).
function M.executable(cmd)
  if vim.fn.executable(cmd[1]) == 1 then return true end
  if not warned then
    warned = true
    vim.notify(string.format("bpf-lsp: '%s' is not executable; BPF files get no bpf-lsp diagnostics. " ..
      "Install it (go install ./cmd/bpf-lsp or make install in a clone) or point cmd at it.",
      cmd[1]), vim.log.levels.WARN)
  end
  return false
end

function M.setup(opts)
  local cfg = vim.tbl_extend('force', M.defaults, opts or {})
  local group = vim.api.nvim_create_augroup('bpf_lsp', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = cfg.filetypes,
    callback = function(args)
      if not M.is_bpf(args.buf, cfg.files) or not M.executable(cfg.cmd) then return end
      local client_cfg = {
        name = 'bpf_lsp',
        cmd = cfg.cmd,
        root_dir = M.root_dir(args.buf, cfg.root_markers),
        init_options = {
          includeDirs = cfg.includeDirs,
          compileFlags = cfg.compileFlags,
          defines = cfg.defines,
          compileCommands = cfg.compileCommands,
          verifyOnSave = cfg.verifyOnSave,
          clangPath = cfg.clangPath,
          targetKernels = cfg.targetKernels,
          workspaceDiagnostics = cfg.workspaceDiagnostics,
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
        if id then vim.lsp.buf_attach_client(args.buf, id) end
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
