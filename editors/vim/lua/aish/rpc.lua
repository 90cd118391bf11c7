-- lua/aish/rpc.lua: the Neovim transport of the aish plugin.
--
-- Vim talks to aish-bridge through its "lsp" channel mode; Neovim has no
-- such mode, so this file does the same over vim.lsp.rpc (which frames
-- the messages).  It only starts the bridge, sends, and hands what comes
-- back to the Vimscript core in autoload/aish/rpc.vim, which Vim and
-- Neovim share: every request, buffer and command lives there.
--
-- Each bridge started has a generation number; what an older bridge says
-- after a new one started is dropped by the core.

local M = {}

local client = nil -- the vim.lsp.rpc client of the running bridge
local gen = 0      -- the generation of the running bridge

-- Hands a call to the core, outside any fast event.
local function core(name, ...)
	local args = { n = select('#', ...), ... }
	vim.schedule(function()
		vim.fn[name](unpack(args, 1, args.n))
	end)
end

-- Starts the bridge CMD (a list); returns its generation, or 0 and the
-- reason when it cannot start.
function M.start(cmd)
	M.stop()
	gen = gen + 1
	local me = gen
	local ok, c = pcall(vim.lsp.rpc.start, cmd[1], vim.list_slice(cmd, 2), {
		notification = function(method, params)
			vim.fn['aish#rpc#on_notification'](me, method, params == nil and vim.NIL or params)
		end,
		server_request = function()
			return nil, vim.lsp.rpc.rpc_response_error(-32601)
		end,
		on_exit = function(code, signal)
			core('aish#rpc#on_exit', me, code, signal)
		end,
		on_error = function(code, err)
			core('aish#msg#log', 'rpc error ' .. tostring(code) .. ': ' .. vim.inspect(err))
		end,
	})
	if not ok or not c then
		return { 0, tostring(c) }
	end
	client = c
	return { me, '' }
end

-- Sends a request; its answer goes to aish#rpc#on_response(gen, id, msg).
-- Returns the request's id, or -1.
function M.request(method, params)
	if not client then return -1 end
	local me = gen
	local id
	local ok, sent = pcall(function()
		local done, rid = client.request(method, params, function(err, result)
			local msg = err and { error = err } or { result = result == nil and vim.NIL or result }
			vim.fn['aish#rpc#on_response'](me, id, msg)
		end)
		return done and rid
	end)
	id = ok and sent or nil
	return id or -1
end

-- The process id of the running bridge, 0 when none.
function M.pid()
	return client and client.pid or 0
end

-- Sends a notification.
function M.notify(method, params)
	if client then pcall(client.notify, method, params) end
end

-- Stops the bridge (Neovim 0.7's client has no terminate()).
function M.stop()
	if not client then return end
	local c = client
	client = nil
	pcall(c.notify, 'exit', vim.NIL)
	pcall(function() c.handle:kill(15) end)
end

return M
