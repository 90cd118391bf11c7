-- nvim-lsp.lua: aish-bridge as a language server of Neovim's own client
-- (vim.lsp, Neovim 0.7), headless: start it, request code actions on a
-- range through vim.lsp.buf.range_code_action, execute one, see the
-- buffer rewritten.  Writes "ok - NAME" / "not ok - NAME: DETAIL" lines
-- and a last "done" line to $AISH_TEST_RESULT.
-- Environment: AISH_TEST_BRIDGE, AISH_TEST_URL, AISH_TEST_SLOW (a socket
-- answering in 1.5 s, in pieces), AISH_TEST_STREAMY (300 ms, in pieces),
-- AISH_TEST_DIR (a scratch directory).

local out = assert(io.open(os.getenv('AISH_TEST_RESULT'), 'w'))
local url = os.getenv('AISH_TEST_URL')
local slow = os.getenv('AISH_TEST_SLOW')
local streamy = os.getenv('AISH_TEST_STREAMY')
local dir = os.getenv('AISH_TEST_DIR')

local function check(name, cond, detail)
  if cond then
    out:write('ok - ' .. name .. '\n')
  else
    out:write('not ok - ' .. name .. ': ' .. vim.inspect(detail):gsub('\n', ' '):sub(1, 600) .. '\n')
  end
  out:flush()
end

-- What the client saw: messages shown, progress values, notifications.
local shown, progress, notified = {}, {}, {}
vim.lsp.handlers['window/showMessage'] = function(_, result)
  table.insert(shown, result)
end
local default_progress = vim.lsp.handlers['$/progress']
vim.lsp.handlers['$/progress'] = function(err, result, ctx, config)
  table.insert(progress, result)
  return default_progress(err, result, ctx, config)
end
vim.notify = function(msg, level)
  table.insert(notified, { msg = msg, level = level })
end

local function metrics_echo()
  local text = vim.fn.system({ 'curl', '-s', url .. '/metrics' })
  return tonumber(text:match('aish_provider_latency_seconds_count{provider="echo"} (%d+)')) or 0
end

local actions = {
  { title = 'rewrite with apollo', pipeline = 'apollo', kind = 'rewrite' },
  { title = 'stream rewrite', pipeline = streamy, kind = 'rewrite' },
  { title = 'slow rewrite', pipeline = slow, kind = 'rewrite' },
  { title = 'ask athena', pipeline = 'athena', kind = 'ask' },
  { title = 'team', pipeline = 'team-chat -g duo', kind = 'ask' },
  { title = 'typo', pipeline = 'apolo', kind = 'rewrite' },
}

local init_result
local client_id = vim.lsp.start_client({
  name = 'aish',
  cmd = { os.getenv('AISH_TEST_BRIDGE'), '--rhetor', url, '--no-spawn' },
  root_dir = dir,
  init_options = { actions = actions },
  on_init = function(_, result) init_result = result end,
})
check('start_client', client_id ~= nil, client_id)

local buf = vim.api.nvim_create_buf(true, false)
vim.api.nvim_buf_set_name(buf, dir .. '/notes.txt')
vim.api.nvim_buf_set_lines(buf, 0, -1, false, { 'hello world', 'fix me', 'third line', 'fourth' })
vim.api.nvim_set_current_buf(buf)
vim.lsp.buf_attach_client(buf, client_id)
vim.wait(5000, function() return init_result ~= nil end, 10)
local client = vim.lsp.get_client_by_id(client_id)
check('initialize: serverInfo and LSP capabilities', init_result and
  init_result.serverInfo and init_result.serverInfo.name == 'aish-bridge' and
  init_result.capabilities.codeActionProvider ~= nil and
  init_result.capabilities.textDocumentSync.change == 2, init_result)

-- Picks the code action whose title is title, through Neovim's own menu.
local function run_action(title, first, last)
  local picked
  vim.ui.select = function(items, opts, on_choice)
    for _, item in ipairs(items) do
      if item[2].title == title then
        picked = item
        return on_choice(item)
      end
    end
    on_choice(nil)
  end
  vim.lsp.buf.range_code_action(nil, first, last)
  vim.wait(3000, function() return picked ~= nil end, 10)
  return picked
end

local function line(n)
  return vim.api.nvim_buf_get_lines(buf, n - 1, n, false)[1]
end

-- rewrite: line 2 becomes apollo's answer
local picked = run_action('rewrite with apollo', { 2, 0 }, { 2, 5 })
check('codeAction: the configured actions offered', picked ~= nil, picked)
vim.wait(5000, function() return line(2) == 'apollo: fix me' end, 10)
check('executeCommand: the buffer rewritten', line(2) == 'apollo: fix me', vim.api.nvim_buf_get_lines(buf, 0, -1, false))
local begins, ends = 0, 0
for _, p in ipairs(progress) do
  if p.value.kind == 'begin' then begins = begins + 1 end
  if p.value.kind == 'end' then ends = ends + 1 end
end
check('$/progress begin and end', begins == 1 and ends == 1, progress)

-- streaming: a report per piece, then the buffer rewritten
progress = {}
run_action('stream rewrite', { 3, 0 }, { 3, 9 })
vim.wait(5000, function() return line(3) == 'streamy: third line' end, 10)
local reports, joined = 0, ''
for _, p in ipairs(progress) do
  if p.value.kind == 'report' then
    reports = reports + 1
    joined = joined .. p.value.message
  end
end
check('streaming: the pieces in $/progress reports', reports >= 2 and joined == 'streamy: third line', progress)
check('streaming: the buffer rewritten', line(3) == 'streamy: third line', line(3))

-- ask: no showDocument in 0.7, so the answer comes as a message
shown = {}
run_action('ask athena', { 4, 0 }, { 4, 5 })
vim.wait(5000, function() return #shown > 0 end, 10)
check('ask: the answer shown, with its file', shown[1] and shown[1].type == 3 and
  shown[1].message:find('^athena: fourth') and shown[1].message:find(dir .. '/xdg/aish/answers/', 1, true),
  shown)
check('ask: the buffer unchanged', line(4) == 'fourth', line(4))

-- team chat
shown = {}
run_action('team', { 1, 0 }, { 1, 10 })
vim.wait(5000, function() return #shown > 0 end, 10)
check('team chat: each member\'s answer', shown[1] and shown[1].message:find('## athena\n\nathena: hello world', 1, true) and
  shown[1].message:find('## apollo\n\napollo: hello world', 1, true), shown)

-- an unknown AI: shown, and the command's error
shown, notified = {}, {}
run_action('typo', { 1, 0 }, { 1, 5 })
vim.wait(5000, function() return #shown > 0 end, 10)
check('unknown AI: shown with the nearest name', shown[1] and shown[1].type == 1 and
  shown[1].message:find('did you mean apollo', 1, true), shown)
vim.wait(1000, function() return #notified > 0 end, 10)
check('unknown AI: the command\'s error reported', notified[1] and notified[1].msg:find('-32602', 1, true), notified)
check('unknown AI: the buffer unchanged', line(1) == 'hello world', line(1))

-- a second request after the error works
run_action('rewrite with apollo', { 1, 0 }, { 1, 4 })
vim.wait(5000, function() return line(1) == 'apollo: hello world' end, 10)
check('a request after an error works', line(1) == 'apollo: hello world', line(1))

-- cancel: $/cancelRequest from the client stops the AI on the server
local before = metrics_echo()
local text_before = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
local params = vim.lsp.util.make_given_range_params({ 2, 0 }, { 2, 5 }, buf)
local answered
local ok, req_id = client.request('workspace/executeCommand', {
  command = 'aish.rewrite',
  arguments = { { uri = params.textDocument.uri, range = params.range, pipeline = slow } },
}, function(err, result) answered = { err = err, result = result } end, buf)
vim.wait(300)
client.cancel_request(req_id)
vim.wait(2000)
check('cancel: sent', ok and req_id ~= nil, req_id)
check('cancel: the AI never finished on the server (metrics)', metrics_echo() == before, { before, metrics_echo() })
check('cancel: no edit', vim.deep_equal(vim.api.nvim_buf_get_lines(buf, 0, -1, false), text_before),
  vim.api.nvim_buf_get_lines(buf, 0, -1, false))

-- bad input
local res = vim.lsp.buf_request_sync(buf, 'workspace/executeCommand', { command = 'aish.nosuch', arguments = {} }, 3000)
local r = res and res[client_id]
check('an unknown command: -32602', r and r.error and r.error.code == -32602, res)
-- (Neovim itself sends no request the server did not announce.)
res = vim.lsp.buf_request_sync(buf, 'workspace/nosuch', { x = 1 }, 3000)
r = res and res[client_id]
check('an unknown request: -32601', r and r.error and r.error.code == -32601, res)
-- An empty Lua table goes out as "params":[].
res = vim.lsp.buf_request_sync(buf, 'aish/list', {}, 3000)
r = res and res[client_id]
check('"params":[] taken as no params (aish/list)', r and r.result and r.result.sockets ~= nil, res)

client.stop()
vim.wait(3000, function() return client.is_stopped() end, 10)
check('shutdown and exit', client.is_stopped(), nil)
out:write('done\n')
out:close()
vim.cmd('qall!')
