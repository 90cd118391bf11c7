-- lua/aish/init.lua: the aish client for Neovim 0.7+.
--
-- Starts aish-bridge on first use through vim.lsp.rpc (which does the
-- Content-Length framing) and mirrors the Vim plugin: replies and
-- aish/progress notifications stream into the aish://output scratch buffer,
-- one labelled section per pipeline stage or team member; aish/message
-- notifications go to the aish://log buffer.  Neovim 0.7 never calls a
-- request's callback after a -32800 answer, so a cancelled request is
-- ended here when the cancel is sent.

local M = {
	last_error = '',  -- the last error shown
	last_notice = '', -- the last notice shown
}

local api = vim.api
local client = nil    -- the vim.lsp.rpc client, nil when not running
local ready = false   -- true once initialize has been answered
local waiting = {}    -- requests made before initialize was answered
local requests = {}   -- JSON-RPC id -> request in flight
local sections = {}   -- labelled sections of aish://output being written
local blocks = {}     -- one block of aish://output per request
local log_lines = {}  -- what :AishLog shows
local timer = nil     -- the spinner timer
local spin = 0
local spinner = { '-', '\\', '|', '/' }
local OUTPUT, LOG = 'aish://output', 'aish://log'
local LOG_MAX, MESSAGE_MAX = 5000, 2000

---------------------------------------------------------------------------
-- Messages

-- Adds lines to the log, and to the aish://log buffer when it exists.
local function log(text)
	local lines = vim.split(text, '\n', { plain = true })
	lines[1] = os.date('%H:%M:%S ') .. lines[1]
	vim.list_extend(log_lines, lines)
	while #log_lines > LOG_MAX do
		table.remove(log_lines, 1)
	end
	local nr = vim.fn.bufnr(LOG)
	if nr > 0 and api.nvim_buf_is_loaded(nr) then
		api.nvim_buf_set_lines(nr, -1, -1, false, lines)
	end
end

-- Shows an error like Vim's own (ErrorMsg, kept in :messages).
local function error_msg(text)
	M.last_error = 'aish: ' .. text
	log('error: ' .. text)
	api.nvim_echo({ { M.last_error, 'ErrorMsg' } }, true, {})
end

-- Shows a notice (kept in :messages).
local function notice(text, hl)
	M.last_notice = 'aish: ' .. text
	api.nvim_echo({ { M.last_notice, hl or 'None' } }, true, {})
end

-- Forgets the last error and notice.
function M.clear_messages()
	M.last_error, M.last_notice = '', ''
end

---------------------------------------------------------------------------
-- The aish://output buffer

-- The number of the scratch buffer NAME, made when missing.
local function scratch(name)
	local nr = vim.fn.bufnr(name)
	if nr < 0 then
		nr = api.nvim_create_buf(true, true)
		api.nvim_buf_set_name(nr, name)
		api.nvim_buf_set_option(nr, 'bufhidden', 'hide')
	end
	if not api.nvim_buf_is_loaded(nr) then
		vim.fn.bufload(nr)
	end
	api.nvim_buf_set_option(nr, 'modifiable', true)
	return nr
end

-- Shows buffer NR at the bottom unless it is visible; the cursor stays.
local function show(nr)
	if vim.fn.bufwinnr(nr) > 0 then
		return
	end
	local win = api.nvim_get_current_win()
	vim.cmd('botright sbuffer ' .. nr)
	api.nvim_set_current_win(win)
end

-- Moves every block and section line after AFTER by N lines.
local function shift(after, n)
	for _, b in ipairs(blocks) do
		if b.last > after then b.last = b.last + n end
	end
	for _, s in ipairs(sections) do
		if s.head > after then s.head = s.head + n end
		if s.last > after then s.last = s.last + n end
	end
end

-- Inserts LINES below line AFTER of aish://output.
local function insert(after, lines)
	api.nvim_buf_set_lines(scratch(OUTPUT), after, after, false, lines)
	shift(after, #lines)
end

-- Starts a block for REQ at the end of aish://output.
local function block_start(req)
	local nr = scratch(OUTPUT)
	local count = api.nvim_buf_line_count(nr)
	local last
	if count == 1 and api.nvim_buf_get_lines(nr, 0, 1, false)[1] == '' then
		api.nvim_buf_set_lines(nr, 0, 1, false, { '== ' .. req.title })
		last = 1
	else
		api.nvim_buf_set_lines(nr, count, count, false, { '', '== ' .. req.title })
		last = count + 2
	end
	table.insert(blocks, { req = req, last = last })
	show(nr)
end

-- The block of REQ, or nil.
local function block(req)
	for _, b in ipairs(blocks) do
		if b.req == req then return b end
	end
end

-- Adds a line at the end of REQ's block.
local function block_note(req, text)
	local b = block(req)
	if b then
		local last = b.last
		insert(last, { text })
		b.last = last + 1
	end
end

-- The section KEY of REQ, or nil.
local function find_section(req, key)
	for _, s in ipairs(sections) do
		if s.req == req and s.key == key then return s end
	end
end

-- The section KEY of REQ, made with a "[From Ai]" label (followed by
-- SUFFIX when given) when new.  A new section goes at the end of the
-- block, but before the synthesis section, which stays last.
local function section(req, key, ai, suffix)
	local sec = find_section(req, key)
	if sec then return sec end
	local b = block(req)
	local tail = key ~= 'synthesis' and find_section(req, 'synthesis') or nil
	local after = tail and (tail.head - 1) or b.last
	insert(after, { '[From ' .. ai:sub(1, 1):upper() .. ai:sub(2) .. ']'
		.. (suffix and (' ' .. suffix) or '') })
	if not tail then b.last = after + 1 end
	sec = { req = req, key = key, head = after + 1, last = after + 1, text = '' }
	table.insert(sections, sec)
	return sec
end

-- The synthesis section of the team chat REQ, labelled
-- "[From Rhetor] (synthesis)" after the moderator AI.
local function synthesis_section(req, ai)
	return section(req, 'synthesis', (type(ai) == 'string' and ai ~= '') and ai or 'rhetor',
		'(synthesis)')
end

-- Adds streamed TEXT to SEC: the first piece joins its last line.
local function section_append(sec, text)
	if text == '' then return end
	local nr = scratch(OUTPUT)
	local parts = vim.split(text, '\n', { plain = true })
	local b = block(sec.req)
	local new = parts
	if sec.last ~= sec.head then
		local line = api.nvim_buf_get_lines(nr, sec.last - 1, sec.last, false)[1]
		api.nvim_buf_set_lines(nr, sec.last - 1, sec.last, false, { line .. parts[1] })
		new = vim.list_slice(parts, 2)
	end
	if #new > 0 then
		local grew = b.last == sec.last
		local after = sec.last
		insert(after, new)
		sec.last = after + #new
		if grew then b.last = sec.last end
	end
	sec.text = sec.text .. text
end

-- Makes SEC hold TEXT (the final word of a stage or member).
local function section_set(sec, text)
	if sec.text == text and sec.last > sec.head then return end
	local nr = scratch(OUTPUT)
	local b = block(sec.req)
	local at_end = b.last == sec.last
	if sec.last > sec.head then
		local n = sec.last - sec.head
		api.nvim_buf_set_lines(nr, sec.head, sec.last, false, {})
		shift(sec.head, -n)
		sec.last = sec.head
	end
	local lines = vim.split(text, '\n', { plain = true })
	insert(sec.head, lines)
	sec.last = sec.head + #lines
	if at_end then b.last = sec.last end
	sec.text = text
end

---------------------------------------------------------------------------
-- Status and spinner

-- The requests in flight, newest last.
local function pending()
	local all = {}
	for _, req in pairs(requests) do table.insert(all, req) end
	table.sort(all, function(a, b) return a.id < b.id end)
	return vim.list_extend(all, waiting)
end

-- The progress of the requests in flight, "" when none.
function M.status()
	local reqs = pending()
	if #reqs == 0 then return '' end
	local req = reqs[#reqs]
	local text = 'aish ' .. spinner[spin % #spinner + 1] .. ' ' .. req.status
	if #reqs > 1 then text = text .. string.format(' (+%d)', #reqs - 1) end
	return text
end

-- The number of requests in flight.
function M.busy()
	return #pending()
end

-- One turn of the spinner, shown in Normal mode.
local function tick()
	spin = spin + 1
	local text = M.status()
	if api.nvim_get_mode().mode == 'n' and text ~= '' then
		api.nvim_echo({ { text:sub(1, vim.o.columns - 12) } }, false, {})
	end
	vim.cmd('redrawstatus!')
end

local function spinner_start()
	if not timer then
		timer = vim.fn.timer_start(150, function() tick() end, { ['repeat'] = -1 })
	end
end

local function spinner_stop()
	if timer then
		vim.fn.timer_stop(timer)
		timer = nil
		vim.cmd('redrawstatus!')
	end
end

---------------------------------------------------------------------------
-- Requests

-- Ends REQ: reports an error or a cancellation.
local function finish(req, err, cancelled)
	if req.done then return end
	req.done = true
	if req.id then requests[req.id] = nil end
	if cancelled then
		block_note(req, '[cancelled]')
		notice(req.title .. ': cancelled', 'WarningMsg')
	elseif err and err ~= '' then
		block_note(req, '[error] ' .. err)
		error_msg(req.title .. ': ' .. err)
	end
	for i = #sections, 1, -1 do
		if sections[i].req == req then table.remove(sections, i) end
	end
	for i = #blocks, 1, -1 do
		if blocks[i].req == req then table.remove(blocks, i) end
	end
	if M.busy() == 0 then spinner_stop() end
end

-- One line of text for a JSON-RPC error object.
local function error_text(e)
	local names = { [-32001] = 'Rhetor unreachable', [-32003] = 'timed out',
		[-32004] = 'AI error', [-32005] = 'too many requests' }
	local text = type(e) == 'table' and e.message or nil
	if type(text) ~= 'string' or text == '' then
		text = names[type(e) == 'table' and e.code or 0] or ('error ' .. tostring(e and e.code))
	end
	return (text:gsub('\n', ' '))
end

-- The answer to REQ.
local function on_response(req, err, result)
	if req.id then requests[req.id] = nil end
	if err then
		finish(req, error_text(err), err.code == -32800)
		return
	end
	local ok, e = pcall(req.on_result, req, result or {})
	finish(req, ok and '' or ('internal error: ' .. tostring(e)), false)
end

-- Sends REQ on the connection and records it under its id.
local function send(req)
	local ok, id = client.request(req.method, req.params, vim.schedule_wrap(function(err, result)
		on_response(req, err, result)
	end))
	if not ok or not id then
		finish(req, 'could not send ' .. req.method .. ' to the bridge', false)
		return
	end
	req.id = id
	requests[id] = req
end

-- aish/message: every AI message that reaches the bridge goes to the log.
local function on_message(p)
	local content = p.content or ''
	if vim.fn.strchars(content) > MESSAGE_MAX then
		content = vim.fn.strcharpart(content, 0, MESSAGE_MAX)
			.. string.format('... (%d bytes)', #(p.content))
	end
	log(string.format('message from %s (socket %s, seq %s%s): %s',
		tostring(p.ai_name), tostring(p.socket_id), tostring(p.seq),
		p.in_reply_to and (', reply to ' .. tostring(p.in_reply_to)) or '', content))
end

-- aish/progress: a stage or member begins, streams or ends.
local function on_progress(p)
	local req = requests[p.request_id]
	if not req or req.done then return end
	local ai, stage = p.ai or '?', p.stage or 0
	local synthesis = req.method == 'aish/teamChat' and stage == 1
	if req.method == 'aish/pipeline' then
		req.status = string.format('%s (stage %d/%d)', ai, stage + 1, req.stages)
	else
		req.status = ai .. (synthesis and ' (synthesis)' or '')
	end
	if not req.stream then return end
	-- Stages are known by index; team members by socket when it is given;
	-- a team chat's synthesis is its stage 1.
	local sec
	if synthesis then
		sec = synthesis_section(req, ai)
	else
		local key = req.method == 'aish/pipeline' and ('stage ' .. stage)
			or (stage .. ':' .. (p.socket_id or ai))
		sec = section(req, key, ai)
	end
	if p.kind == 'delta' and type(p.content) == 'string' then
		section_append(sec, p.content)
	elseif p.kind == 'end' and type(p.content) == 'string' then
		section_set(sec, p.content)
	end
end

-- Notifications from the bridge.
local function on_notification(method, params)
	if type(params) ~= 'table' then return end
	if method == 'aish/progress' then
		on_progress(params)
	elseif method == 'aish/message' then
		on_message(params)
	end
end

-- The bridge ended: every request in flight fails.
local function on_exit(me, code)
	if client ~= me then return end
	client, ready = nil, false
	log('bridge exited with status ' .. tostring(code))
	local all = pending()
	requests, waiting = {}, {}
	for _, req in ipairs(all) do
		finish(req, 'aish-bridge exited (status ' .. tostring(code) .. ')', false)
	end
end

-- The command that starts the bridge, as a list.
local function bridge_command()
	local cmd = vim.g.aish_bridge_cmd or 'aish-bridge'
	if type(cmd) == 'string' then
		cmd = vim.split(vim.trim(cmd), '%s+')
	else
		cmd = vim.deepcopy(cmd)
	end
	local url = vim.g.aish_rhetor_url
	if url and url ~= '' then
		vim.list_extend(cmd, { '--rhetor', url })
	end
	return cmd
end

-- Starts the bridge and sends initialize; false when it cannot start.
local function start()
	if client then return true end
	local cmd = bridge_command()
	if not cmd[1] or vim.fn.executable(cmd[1]) ~= 1 then
		error_msg('cannot start the bridge: "' .. tostring(cmd[1])
			.. '" is not an executable program (see g:aish_bridge_cmd)')
		return false
	end
	local me
	local ok, c = pcall(vim.lsp.rpc.start, cmd[1], vim.list_slice(cmd, 2), {
		notification = vim.schedule_wrap(on_notification),
		server_request = function() return nil, { code = -32601, message = 'no requests' } end,
		on_exit = vim.schedule_wrap(function(code) on_exit(me, code) end),
		on_error = vim.schedule_wrap(function(code, err) log('rpc error ' .. tostring(code) .. ': ' .. vim.inspect(err)) end),
	})
	if not ok or not c then
		error_msg('cannot start the bridge: ' .. tostring(c))
		return false
	end
	client, me, ready = c, c, false
	log('started ' .. table.concat(cmd, ' '))
	client.request('initialize', { client_info = { name = 'aish.nvim', version = '0.1.0' } },
		vim.schedule_wrap(function(err, result)
			if client ~= me then return end
			local queued = waiting
			waiting = {}
			if err then
				for _, req in ipairs(queued) do
					finish(req, 'the bridge refused to start: ' .. error_text(err), false)
				end
				M.stop()
				return
			end
			ready = true
			local r = (result or {}).rhetor or {}
			log('bridge ready; rhetor ' .. tostring(r.url) .. (r.connected and ' connected' or ' not connected'))
			for _, req in ipairs(queued) do send(req) end
		end))
	return true
end

-- Stops the bridge (the next command starts it again).
function M.stop()
	if not client then return end
	local c = client
	if ready then pcall(c.notify, 'exit', vim.NIL) end
	pcall(function() c.handle:kill(15) end)
	on_exit(c, -1)
end

-- Makes the request REQ, starting the bridge when needed.
local function request(req)
	req.status = req.status or req.method
	if not start() then return false end
	if ready then send(req) else table.insert(waiting, req) end
	spinner_start()
	return true
end

---------------------------------------------------------------------------
-- Commands

-- Checks a pipeline argument; returns it trimmed, or nil.
local function pipeline_arg(p)
	p = vim.trim(p or '')
	if p == '' or p:match('^|') or p:match('|%s*$') or p:match('|%s*|') then
		error_msg('give a pipeline of AIs, like :Aish athena | apollo')
		return nil
	end
	return p
end

-- A pipeline request for lines L1..L2 of the current buffer.
local function pipeline_request(l1, l2, p, stream)
	local text = table.concat(api.nvim_buf_get_lines(0, l1 - 1, l2, false), '\n')
	return { method = 'aish/pipeline', params = { input = text, pipeline = p },
		title = p, status = p, stream = stream, stages = #vim.split(p, '|', { plain = true }) }
end

-- :[range]Aish {pipeline}
function M.pipe(l1, l2, pipeline)
	local p = pipeline_arg(pipeline)
	if not p then return end
	local req = pipeline_request(l1, l2, p, true)
	req.on_result = function(r, result)
		for i, st in ipairs(result.stages or {}) do
			section_set(section(r, 'stage ' .. (i - 1), st.ai or '?'), st.output or '')
		end
		notice(r.title .. ': done')
	end
	block_start(req)
	request(req)
end

-- Puts the output of a replace request into its buffer, unless it changed.
local function replace_result(req, result)
	local t = req.target
	local text = result.output or ''
	if not api.nvim_buf_is_loaded(t.buf) or api.nvim_buf_get_changedtick(t.buf) ~= t.tick then
		req.stream = true
		block_start(req)
		local stages = result.stages or {}
		local last = stages[#stages] or {}
		section_set(section(req, 'output', last.ai or 'aish'), text)
		notice(req.title .. ': the buffer changed meanwhile; the result is in ' .. OUTPUT, 'WarningMsg')
		return
	end
	local lines = vim.split(text, '\n', { plain = true })
	if #lines > 1 and lines[#lines] == '' then table.remove(lines) end
	api.nvim_buf_set_lines(t.buf, t.l1 - 1, t.l2, false, lines)
	notice(string.format('%s: replaced lines %d-%d', req.title, t.l1, t.l2))
end

-- :[range]AishReplace {pipeline}
function M.replace(l1, l2, pipeline)
	local p = pipeline_arg(pipeline)
	if not p then return end
	local req = pipeline_request(l1, l2, p, false)
	local buf = api.nvim_get_current_buf()
	req.target = { buf = buf, tick = api.nvim_buf_get_changedtick(buf), l1 = l1, l2 = l2 }
	req.on_result = replace_result
	request(req)
end

-- Splits the argument of :AishTeamChat into its options and message:
-- returns { group, synthesize, message }, or nil after reporting an error.
local function team_chat_args(args)
	local opts = { synthesize = false }
	local rest = vim.trim(args or '')
	while rest:sub(1, 1) == '-' do
		local word, tail = rest:match('^(%S+)%s*(.*)$')
		rest = tail
		if word == '--' then
			break
		elseif word == '--synthesize' then
			opts.synthesize = true
		elseif word == '-g' then
			local group, after = rest:match('^(%S+)%s*(.*)$')
			if not group then
				error_msg('-g needs a group, like :AishTeamChat -g duo hello')
				return nil
			end
			opts.group, rest = group, after
		elseif word:sub(1, 2) == '-g' then
			opts.group = word:sub(3)
		else
			error_msg('unknown option "' .. word .. '" (options: -g GROUP,'
				.. ' --synthesize; put -- before a message that starts with -)')
			return nil
		end
	end
	if rest == '' then
		error_msg('give a message, like :AishTeamChat what is a cache?')
		return nil
	end
	opts.message = rest
	return opts
end

-- Shows every member's reply, the synthesis and who timed out, from the
-- RESULT of the team chat R.
local function team_result(r, result)
	for _, resp in ipairs(result.responses or {}) do
		local ai = resp.ai or resp.socket_id or '?'
		local sec = find_section(r, '0:' .. tostring(resp.socket_id)) or section(r, '0:' .. ai, ai)
		section_set(sec, resp.content or '')
	end
	local synthesis = result.synthesis
	if type(synthesis) == 'table' and next(synthesis) then
		local sec = synthesis_section(r, synthesis.ai)
		if type(synthesis.error) == 'string' then
			section_set(sec, '[error] ' .. synthesis.error)
		else
			section_set(sec, type(synthesis.content) == 'string' and synthesis.content or '')
		end
	end
	local late = result.timed_out or {}
	if #late > 0 then block_note(r, '[timed out] ' .. table.concat(late, ', ')) end
	notice(string.format('team chat: %d replies', #(result.responses or {})))
end

-- :AishTeamChat [-g {group}] [--synthesize] {message}: asks the whole team
-- (or a group); with --synthesize the moderator AI sums the replies up.
function M.team_chat(args)
	local opts = team_chat_args(args)
	if not opts then return end
	local params = { message = opts.message }
	if opts.group then params.group = opts.group end
	if opts.synthesize then params.moderation = 'synthesis' end
	local req = { method = 'aish/teamChat', params = params, stream = true, status = 'team chat',
		title = 'team chat' .. (opts.group and (' ' .. opts.group) or '')
			.. (opts.synthesize and ' with synthesis' or '') .. ': ' .. opts.message,
		on_result = team_result }
	block_start(req)
	request(req)
end

-- :AishSend {ai} {message}
function M.send(args)
	local ai, msg = (args or ''):match('^%s*(%S+)%s+(.*)$')
	if not ai or vim.trim(msg) == '' then
		error_msg('give an AI and a message, like :AishSend apollo hello')
		return
	end
	local req = { method = 'aish/send', params = { ai = ai, content = msg }, stream = true,
		title = 'send to ' .. ai, status = ai }
	req.on_result = function(r, result)
		section_set(section(r, '0:' .. ai, ai), result.content or '')
	end
	block_start(req)
	request(req)
end

-- :AishList
function M.list()
	local req = { method = 'aish/list', params = vim.empty_dict(), stream = true,
		title = 'AI sockets', status = 'list' }
	req.on_result = function(r, result)
		local fmt = '%-24s %-16s %-10s %-12s %s'
		local lines = { string.format(fmt, 'SOCKET', 'AI', 'PROVIDER', 'STATE', 'QUEUE') }
		for _, s in ipairs(result.sockets or {}) do
			table.insert(lines, string.format(fmt, tostring(s.socket_id), tostring(s.ai_name),
				tostring(s.provider), tostring(s.state), tostring(s.queue_size)))
		end
		local b = block(r)
		local last = b.last
		insert(last, lines)
		b.last = last + #lines
	end
	block_start(req)
	request(req)
end

-- :AishCancel: $/cancelRequest for every request in flight, each ended here.
function M.cancel()
	local all = pending()
	if #all == 0 then
		notice('nothing to cancel')
		return
	end
	for _, req in ipairs(all) do
		if req.id and client then
			client.notify('$/cancelRequest', { id = req.id })
		end
		finish(req, nil, true)
	end
	waiting = {}
end

-- :AishLog
function M.log()
	local existed = vim.fn.bufnr(LOG) > 0
	local nr = scratch(LOG)
	if not existed then
		api.nvim_buf_set_lines(nr, 0, -1, false, #log_lines > 0 and log_lines or { '(empty)' })
	end
	show(nr)
end

return M
