" autoload/aish.vim: the aish client for Vim 9.
"
" Starts aish-bridge on first use and speaks JSON-RPC 2.0 to it through
" Vim's "lsp" channel mode (Vim does the Content-Length framing).  Replies
" and the bridge's aish/progress notifications stream into the aish://output
" scratch buffer, one labelled section per pipeline stage or team member;
" aish/message notifications and the bridge's stderr go to the aish://log
" buffer.  Only responses and notifications are expected from the bridge:
" Vim 9.0 mis-routes server requests.

" ------------------------------------------------------------------------
" State

let s:job = v:null        " the aish-bridge job, v:null when not running
let s:chan = v:null       " its channel
let s:ready = 0           " 1 once initialize has been answered
let s:waiting = []        " requests made before initialize was answered
let s:requests = {}       " JSON-RPC id -> request in flight
let s:sections = []       " labelled sections of aish://output being written
let s:blocks = []         " one block of aish://output per request
let s:log_lines = []      " what :AishLog shows
let s:timer = -1          " the status/spinner timer
let s:spin = 0            " spinner position
let s:last_error = ''     " the last error shown, for scripts and tests
let s:last_notice = ''    " the last notice shown
let s:spinner = ['-', '\', '|', '/']
let s:output_name = 'aish://output'
let s:log_name = 'aish://log'
let s:log_max = 5000      " lines kept in the log
let s:message_max = 2000  " characters of one aish/message kept in the log

" ------------------------------------------------------------------------
" Messages

" Shows an error the way Vim does (ErrorMsg, kept in :messages) without
" raising an exception: errors often arise inside channel callbacks.
func s:error(text) abort
	let s:last_error = 'aish: ' . a:text
	call s:log('error: ' . a:text)
	echohl ErrorMsg
	echomsg s:last_error
	echohl None
endfunc

" Shows a notice (kept in :messages).
func s:notice(text, ...) abort
	let s:last_notice = 'aish: ' . a:text
	execute 'echohl' (a:0 ? a:1 : 'None')
	echomsg s:last_notice
	echohl None
endfunc

" Adds lines to the log, and to the aish://log buffer when it is loaded.
func s:log(text) abort
	let lines = split(a:text, "\n", 1)
	let lines[0] = strftime('%H:%M:%S ') . lines[0]
	call extend(s:log_lines, lines)
	if len(s:log_lines) > s:log_max
		call remove(s:log_lines, 0, len(s:log_lines) - s:log_max - 1)
	endif
	let nr = bufnr(s:log_name)
	if nr > 0 && bufloaded(nr)
		call appendbufline(nr, '$', lines)
	endif
endfunc

" ------------------------------------------------------------------------
" The bridge process

" The command that starts the bridge: g:aish_bridge_cmd (a string or a
" list) followed by --rhetor g:aish_rhetor_url when that is set.
func s:bridge_command() abort
	let cmd = get(g:, 'aish_bridge_cmd', 'aish-bridge')
	let url = get(g:, 'aish_rhetor_url', '')
	if type(cmd) == v:t_list
		let cmd = copy(cmd)
		if !empty(url)
			call extend(cmd, ['--rhetor', url])
		endif
	elseif !empty(url)
		let cmd .= ' --rhetor ' . url
	endif
	return cmd
endfunc

" The program part of a bridge command, for error messages.
func s:program(cmd) abort
	return type(a:cmd) == v:t_list ? get(a:cmd, 0, '') : get(split(a:cmd), 0, '')
endfunc

" Starts the bridge and sends initialize; returns 0 when it cannot start.
func s:start() abort
	if s:job isnot v:null && job_status(s:job) ==# 'run'
		return 1
	endif
	let cmd = s:bridge_command()
	let prog = s:program(cmd)
	if empty(prog) || !executable(prog)
		call s:error('cannot start the bridge: "' . prog
			\ . '" is not an executable program (see g:aish_bridge_cmd)')
		return 0
	endif
	let s:ready = 0
	let s:job = job_start(cmd, #{
		\ in_mode: 'lsp', out_mode: 'lsp', err_mode: 'nl',
		\ callback: function('s:on_notification'),
		\ err_cb: function('s:on_stderr'),
		\ exit_cb: function('s:on_exit'),
		\ noblock: 1})
	if job_status(s:job) !=# 'run'
		call s:error('cannot start the bridge: ' . string(cmd))
		let s:job = v:null
		return 0
	endif
	let s:chan = job_getchannel(s:job)
	call s:log('started ' . string(cmd))
	call ch_sendexpr(s:chan, #{method: 'initialize',
		\ params: #{client_info: #{name: 'aish.vim', version: '0.1.0'}}},
		\ #{callback: function('s:on_initialized')})
	return 1
endfunc

" The answer to initialize: sends the requests that waited for it.
func s:on_initialized(chan, msg) abort
	if has_key(a:msg, 'error')
		let text = 'the bridge refused to start: ' . s:error_text(a:msg.error)
		for req in s:waiting
			call s:finish(req, text, 0)
		endfor
		let s:waiting = []
		call aish#stop()
		return
	endif
	let s:ready = 1
	let rhetor = get(get(a:msg, 'result', {}), 'rhetor', {})
	call s:log('bridge ready; rhetor ' . get(rhetor, 'url', '?')
		\ . (get(rhetor, 'connected', v:false) ? ' connected' : ' not connected'))
	let waiting = s:waiting
	let s:waiting = []
	for req in waiting
		call s:send(req)
	endfor
endfunc

" Lines the bridge writes to stderr go to the log.
func s:on_stderr(chan, line) abort
	call s:log('bridge: ' . a:line)
endfunc

" The bridge ended: every request in flight fails.
func s:on_exit(job, status) abort
	if a:job isnot s:job
		return
	endif
	let s:job = v:null
	let s:chan = v:null
	let s:ready = 0
	call s:log('bridge exited with status ' . a:status)
	let pending = values(s:requests) + s:waiting
	let s:requests = {}
	let s:waiting = []
	for req in pending
		call s:finish(req, 'aish-bridge exited (status ' . a:status . ')', 0)
	endfor
endfunc

" Stops the bridge (it is started again by the next command).
func aish#stop() abort
	if s:job is v:null
		return
	endif
	let job = s:job
	if s:ready && ch_status(s:chan) ==# 'open'
		call ch_sendexpr(s:chan, #{method: 'exit'})
	endif
	call job_stop(job)
	call s:on_exit(job, -1)
endfunc

" ------------------------------------------------------------------------
" Requests

" Makes a request: a dict with method, params and on_result (a funcref
" called with the request and the result).  Starts the bridge if needed.
func s:request(req) abort
	let a:req.id = -1
	let a:req.started = reltime()
	let a:req.status = get(a:req, 'status', a:req.method)
	if !s:start()
		return 0
	endif
	if s:ready
		call s:send(a:req)
	else
		call add(s:waiting, a:req)
	endif
	call s:spinner_start()
	return 1
endfunc

" Sends a request on the channel and records it under its id.
func s:send(req) abort
	let sent = ch_sendexpr(s:chan, #{method: a:req.method, params: a:req.params},
		\ #{callback: function('s:on_response', [a:req])})
	let a:req.id = get(sent, 'id', -1)
	if a:req.id < 0
		call s:finish(a:req, 'could not send ' . a:req.method . ' to the bridge', 0)
		return
	endif
	let s:requests[a:req.id] = a:req
endfunc

" The answer to a request.
func s:on_response(req, chan, msg) abort
	if has_key(s:requests, a:req.id)
		call remove(s:requests, a:req.id)
	endif
	if has_key(a:msg, 'error')
		if get(a:msg.error, 'code', 0) == -32800
			call s:finish(a:req, '', 1)
		else
			call s:finish(a:req, s:error_text(a:msg.error), 0)
		endif
		return
	endif
	try
		call a:req.on_result(a:req, get(a:msg, 'result', {}))
	finally
		call s:finish(a:req, '', 0)
	endtry
endfunc

" Ends a request: reports an error or a cancellation, stops the spinner
" when nothing is left.
func s:finish(req, error, cancelled) abort
	if get(a:req, 'done', 0)
		return
	endif
	let a:req.done = 1
	if has_key(s:requests, a:req.id)
		call remove(s:requests, a:req.id)
	endif
	if a:cancelled
		call s:block_note(a:req, '[cancelled]')
		call s:notice(a:req.title . ': cancelled', 'WarningMsg')
	elseif !empty(a:error)
		call s:block_note(a:req, '[error] ' . a:error)
		call s:error(a:req.title . ': ' . a:error)
	endif
	call filter(s:sections, 'v:val.req isnot a:req')
	call filter(s:blocks, 'v:val.req isnot a:req')
	if empty(s:requests) && empty(s:waiting)
		call s:spinner_stop()
	endif
endfunc

" Turns a JSON-RPC error object into one line of text.
func s:error_text(err) abort
	let names = {'-32001': 'Rhetor unreachable', '-32003': 'timed out',
		\ '-32004': 'AI error', '-32005': 'too many requests',
		\ '-32602': 'invalid parameters'}
	let code = get(a:err, 'code', 0)
	let text = get(a:err, 'message', '')
	if type(text) != v:t_string || empty(text)
		let text = get(names, string(code), 'error ' . code)
	endif
	return substitute(text, '\n', ' ', 'g')
endfunc

" Notifications from the bridge.
func s:on_notification(chan, msg) abort
	if type(a:msg) != v:t_dict || !has_key(a:msg, 'method')
		return
	endif
	let params = get(a:msg, 'params', {})
	if type(params) != v:t_dict
		return
	endif
	if a:msg.method ==# 'aish/progress'
		call s:on_progress(params)
	elseif a:msg.method ==# 'aish/message'
		call s:on_message(params)
	else
		call s:log('notification ' . a:msg.method)
	endif
endfunc

" aish/message: every AI message that reaches the bridge goes to the log.
func s:on_message(p) abort
	let content = get(a:p, 'content', '')
	let size = strlen(content)
	if strchars(content) > s:message_max
		let content = strcharpart(content, 0, s:message_max)
			\ . printf('... (%d bytes)', size)
	endif
	call s:log(printf('message from %s (socket %s, seq %s%s): %s',
		\ get(a:p, 'ai_name', '?'), get(a:p, 'socket_id', '?'),
		\ get(a:p, 'seq', '?'),
		\ has_key(a:p, 'in_reply_to') ? ', reply to ' . a:p.in_reply_to : '',
		\ content))
endfunc

" aish/progress: a stage or team member begins, streams or ends.
func s:on_progress(p) abort
	let req = get(s:requests, get(a:p, 'request_id', -1), {})
	if empty(req)
		return
	endif
	let ai = get(a:p, 'ai', '?')
	let stage = get(a:p, 'stage', 0)
	let kind = get(a:p, 'kind', '')
	let synthesis = req.method ==# 'aish/teamChat' && stage == 1
	if req.method ==# 'aish/pipeline'
		let req.status = printf('%s (stage %d/%d)', ai, stage + 1, req.stages)
	else
		let req.status = ai . (synthesis ? ' (synthesis)' : '')
	endif
	if !req.stream
		return
	endif
	" Stages are known by index; team members by socket when it is given;
	" a team chat's synthesis is its stage 1.
	if synthesis
		let sec = s:synthesis_section(req, ai)
	else
		let key = req.method ==# 'aish/pipeline' ? 'stage ' . stage
			\ : stage . ':' . get(a:p, 'socket_id', ai)
		let sec = s:section(req, key, ai)
	endif
	if kind ==# 'delta'
		call s:section_append(sec, get(a:p, 'content', ''))
	elseif kind ==# 'end' && type(get(a:p, 'content', v:null)) == v:t_string
		call s:section_set(sec, a:p.content)
	endif
endfunc

" ------------------------------------------------------------------------
" The aish://output buffer

" The number of a loaded scratch buffer called NAME, made when missing.
func s:scratch(name) abort
	let nr = bufnr(a:name)
	if nr < 0
		let nr = bufadd(a:name)
	endif
	if !bufloaded(nr)
		call setbufvar(nr, '&buftype', 'nofile')
		call setbufvar(nr, '&bufhidden', 'hide')
		call setbufvar(nr, '&swapfile', 0)
		call bufload(nr)
		call setbufvar(nr, '&buflisted', 1)
	endif
	call setbufvar(nr, '&modifiable', 1)
	return nr
endfunc

" Shows buffer NR in a window at the bottom unless it is visible already;
" the cursor stays where it was.
func s:show(nr) abort
	if bufwinnr(a:nr) > 0
		return
	endif
	let win = win_getid()
	execute 'botright sbuffer' a:nr
	call win_gotoid(win)
endfunc

" Moves every block and section line after AFTER by N lines.
func s:shift(after, n) abort
	for b in s:blocks
		if b.last > a:after
			let b.last += a:n
		endif
	endfor
	for s in s:sections
		if s.head > a:after
			let s.head += a:n
		endif
		if s.last > a:after
			let s.last += a:n
		endif
	endfor
endfunc

" Inserts LINES below line AFTER of aish://output.
func s:insert(after, lines) abort
	call appendbufline(s:scratch(s:output_name), a:after, a:lines)
	call s:shift(a:after, len(a:lines))
endfunc

" Starts a block for REQ at the end of aish://output with a title line.
func s:block_start(req) abort
	let nr = s:scratch(s:output_name)
	let last = len(getbufline(nr, 1, '$'))
	if last == 1 && getbufline(nr, 1)[0] ==# ''
		call setbufline(nr, 1, '== ' . a:req.title)
		let last = 0
	else
		call appendbufline(nr, last, ['', '== ' . a:req.title])
		let last += 1
	endif
	call add(s:blocks, #{req: a:req, last: last + 1})
	call s:show(nr)
endfunc

" The block of REQ, or {} when it has none.
func s:block(req) abort
	for b in s:blocks
		if b.req is a:req
			return b
		endif
	endfor
	return {}
endfunc

" Adds a line at the end of REQ's block.
func s:block_note(req, text) abort
	let b = s:block(a:req)
	if !empty(b)
		let last = b.last
		call s:insert(last, [a:text])
		let b.last = last + 1
	endif
endfunc

" The section KEY of REQ's block, or {} when there is none.
func s:find_section(req, key) abort
	for sec in s:sections
		if sec.req is a:req && sec.key ==# a:key
			return sec
		endif
	endfor
	return {}
endfunc

" The section KEY of REQ's block, made (with a "[From Ai]" label, followed
" by SUFFIX when given) when new.  A new section goes at the end of the
" block, but before the synthesis section, which stays last.
func s:section(req, key, ai, ...) abort
	let sec = s:find_section(a:req, a:key)
	if !empty(sec)
		return sec
	endif
	let b = s:block(a:req)
	let tail = a:key ==# 'synthesis' ? {} : s:find_section(a:req, 'synthesis')
	let after = empty(tail) ? b.last : tail.head - 1
	call s:insert(after, ['[From ' . toupper(a:ai[0]) . a:ai[1:] . ']'
		\ . (a:0 ? ' ' . a:1 : '')])
	if empty(tail)
		let b.last = after + 1
	endif
	let sec = #{req: a:req, key: a:key, head: after + 1, last: after + 1, text: ''}
	call add(s:sections, sec)
	return sec
endfunc

" The synthesis section of the team chat REQ, labelled
" "[From Rhetor] (synthesis)" after the moderator AI.
func s:synthesis_section(req, ai) abort
	return s:section(a:req, 'synthesis', empty(a:ai) ? 'rhetor' : a:ai, '(synthesis)')
endfunc

" Adds streamed TEXT to a section: the first piece joins its last line.
func s:section_append(sec, text) abort
	if empty(a:text)
		return
	endif
	let nr = s:scratch(s:output_name)
	let parts = split(a:text, "\n", 1)
	let sec = a:sec
	let b = s:block(sec.req)
	if sec.last == sec.head
		let [after, new] = [sec.last, parts]
	else
		call setbufline(nr, sec.last, getbufline(nr, sec.last)[0] . parts[0])
		let [after, new] = [sec.last, parts[1:]]
	endif
	if !empty(new)
		let grew = b.last == sec.last
		call s:insert(after, new)
		let sec.last = after + len(new)
		if grew
			let b.last = sec.last
		endif
	endif
	let sec.text .= a:text
endfunc

" Makes a section hold TEXT (the final word of a stage or member).
func s:section_set(sec, text) abort
	if a:sec.text ==# a:text && a:sec.last > a:sec.head
		return
	endif
	let nr = s:scratch(s:output_name)
	let sec = a:sec
	let b = s:block(sec.req)
	let at_end = b.last == sec.last
	if sec.last > sec.head
		let n = sec.last - sec.head
		call deletebufline(nr, sec.head + 1, sec.last)
		call s:shift(sec.head, -n)
		let sec.last = sec.head
	endif
	let lines = split(a:text, "\n", 1)
	call s:insert(sec.head, lines)
	let sec.last = sec.head + len(lines)
	if at_end
		let b.last = sec.last
	endif
	let sec.text = a:text
endfunc

" ------------------------------------------------------------------------
" The status line and spinner

" The status of the requests in flight ("" when none), for 'statusline'.
func aish#status() abort
	let reqs = values(s:requests) + s:waiting
	if empty(reqs)
		return ''
	endif
	let req = reqs[-1]
	let text = 'aish ' . s:spinner[s:spin % len(s:spinner)] . ' ' . req.status
	if get(req, 'cancelling', 0)
		let text .= ' (cancelling)'
	endif
	return len(reqs) > 1 ? text . printf(' (+%d)', len(reqs) - 1) : text
endfunc

" The number of requests in flight.
func aish#busy() abort
	return len(s:requests) + len(s:waiting)
endfunc

" The last error shown ("" when none).
func aish#last_error() abort
	return s:last_error
endfunc

" The last notice shown ("" when none).
func aish#last_notice() abort
	return s:last_notice
endfunc

" Forgets the last error and notice (for scripts that check them).
func aish#clear_messages() abort
	let s:last_error = ''
	let s:last_notice = ''
endfunc

" Starts the spinner timer.
func s:spinner_start() abort
	if s:timer < 0
		let s:timer = timer_start(150, function('s:spinner_tick'), #{repeat: -1})
	endif
endfunc

" Stops the spinner and clears the message it showed.
func s:spinner_stop() abort
	if s:timer >= 0
		call timer_stop(s:timer)
		let s:timer = -1
		redrawstatus!
	endif
endfunc

" One turn of the spinner: shown in the message line in Normal mode.
func s:spinner_tick(timer) abort
	let s:spin += 1
	let text = aish#status()
	if mode() ==# 'n' && !empty(text)
		echo strcharpart(text, 0, &columns - 12)
	endif
	redrawstatus!
endfunc

" ------------------------------------------------------------------------
" Commands

" The text of lines L1 to L2 of the current buffer.
func s:lines_text(l1, l2) abort
	return join(getline(a:l1, a:l2), "\n")
endfunc

" Checks a pipeline argument; returns the trimmed text or "".
func s:pipeline_arg(pipeline) abort
	let p = trim(a:pipeline)
	if empty(p) || p =~# '^|' || p =~# '|\s*$' || p =~# '|\s*|'
		call s:error('give a pipeline of AIs, like :Aish athena | apollo')
		return ''
	endif
	return p
endfunc

" A pipeline request for lines L1..L2.
func s:pipeline_request(l1, l2, pipeline, stream) abort
	return #{method: 'aish/pipeline',
		\ params: #{input: s:lines_text(a:l1, a:l2), pipeline: a:pipeline},
		\ title: a:pipeline, stages: len(split(a:pipeline, '|')),
		\ stream: a:stream, status: a:pipeline}
endfunc

" :[range]Aish {pipeline}: streams the pipeline's output into aish://output.
func aish#pipe(l1, l2, pipeline) abort
	let p = s:pipeline_arg(a:pipeline)
	if empty(p)
		return
	endif
	let req = s:pipeline_request(a:l1, a:l2, p, 1)
	let req.on_result = function('s:pipe_result')
	call s:block_start(req)
	call s:request(req)
endfunc

" The result of a pipeline: every stage's final text.
func s:pipe_result(req, result) abort
	let i = 0
	for st in get(a:result, 'stages', [])
		let ai = get(st, 'ai', '?')
		call s:section_set(s:section(a:req, 'stage ' . i, ai), get(st, 'output', ''))
		let i += 1
	endfor
	call s:notice(a:req.title . ': done')
endfunc

" :[range]AishReplace {pipeline}: replaces the range with the output when
" the buffer has not changed in the meantime.
func aish#replace(l1, l2, pipeline) abort
	let p = s:pipeline_arg(a:pipeline)
	if empty(p)
		return
	endif
	let req = s:pipeline_request(a:l1, a:l2, p, 0)
	let req.target = #{buf: bufnr('%'), tick: b:changedtick, l1: a:l1, l2: a:l2}
	let req.on_result = function('s:replace_result')
	call s:request(req)
endfunc

" The result of :AishReplace: into the buffer, or into aish://output when
" the buffer has changed or is gone.
func s:replace_result(req, result) abort
	let t = a:req.target
	let text = get(a:result, 'output', '')
	if !bufloaded(t.buf) || getbufvar(t.buf, 'changedtick') != t.tick
		let a:req.stream = 1
		call s:block_start(a:req)
		call s:section_set(s:section(a:req, 'output', get(get(a:result,
			\ 'stages', [{}])[-1], 'ai', 'aish')), text)
		call s:notice(a:req.title . ': the buffer changed meanwhile;'
			\ . ' the result is in ' . s:output_name, 'WarningMsg')
		return
	endif
	let lines = split(text, "\n", 1)
	if len(lines) > 1 && lines[-1] ==# ''
		call remove(lines, -1)
	endif
	let n = t.l2 - t.l1 + 1
	if len(lines) <= n
		call setbufline(t.buf, t.l1, lines)
		if len(lines) < n
			call deletebufline(t.buf, t.l1 + len(lines), t.l2)
		endif
	else
		call setbufline(t.buf, t.l1, lines[: n - 1])
		call appendbufline(t.buf, t.l2, lines[n :])
	endif
	call s:notice(printf('%s: replaced lines %d-%d', a:req.title, t.l1, t.l2))
endfunc

" Splits the argument of :AishTeamChat into its options and message:
" returns #{group, synthesize, message}, or {} after reporting an error.
func s:team_chat_args(args) abort
	let opts = #{group: '', synthesize: 0, message: ''}
	let rest = trim(a:args)
	while rest =~# '^-'
		let m = matchlist(rest, '^\(\S\+\)\s*\(.*\)$')
		let [word, rest] = [m[1], m[2]]
		if word ==# '--'
			break
		elseif word ==# '--synthesize'
			let opts.synthesize = 1
		elseif word ==# '-g'
			let m = matchlist(rest, '^\(\S\+\)\s*\(.*\)$')
			if empty(m)
				call s:error('-g needs a group, like :AishTeamChat -g duo hello')
				return {}
			endif
			let [opts.group, rest] = [m[1], m[2]]
		elseif word =~# '^-g'
			let opts.group = word[2:]
		else
			call s:error('unknown option "' . word . '" (options: -g GROUP,'
				\ . ' --synthesize; put -- before a message that starts with -)')
			return {}
		endif
	endwhile
	if empty(rest)
		call s:error('give a message, like :AishTeamChat what is a cache?')
		return {}
	endif
	let opts.message = rest
	return opts
endfunc

" :AishTeamChat [-g {group}] [--synthesize] {message}: asks the whole team
" (or a group); with --synthesize the moderator AI sums the replies up.
func aish#team_chat(args) abort
	let opts = s:team_chat_args(a:args)
	if empty(opts)
		return
	endif
	let params = #{message: opts.message}
	if !empty(opts.group)
		let params.group = opts.group
	endif
	if opts.synthesize
		let params.moderation = 'synthesis'
	endif
	let req = #{method: 'aish/teamChat', params: params, stream: 1,
		\ title: 'team chat' . (empty(opts.group) ? '' : ' ' . opts.group)
		\ . (opts.synthesize ? ' with synthesis' : '') . ': ' . opts.message,
		\ status: 'team chat'}
	let req.on_result = function('s:team_result')
	call s:block_start(req)
	call s:request(req)
endfunc

" The result of a team chat: every member's reply, then who timed out.
func s:team_result(req, result) abort
	for r in get(a:result, 'responses', [])
		" Streamed sections are known by AI name; find one by socket id too.
		let ai = get(r, 'ai', get(r, 'socket_id', '?'))
		let sec = s:find_section(a:req, '0:' . get(r, 'socket_id', ''))
		if empty(sec)
			let sec = s:section(a:req, '0:' . ai, ai)
		endif
		call s:section_set(sec, get(r, 'content', ''))
	endfor
	let synthesis = get(a:result, 'synthesis', {})
	if type(synthesis) == v:t_dict && !empty(synthesis)
		let sec = s:synthesis_section(a:req, get(synthesis, 'ai', 'rhetor'))
		if has_key(synthesis, 'error')
			let error = synthesis.error
			call s:section_set(sec, '[error] '
				\ . (type(error) == v:t_string ? error : string(error)))
		else
			call s:section_set(sec, get(synthesis, 'content', ''))
		endif
	endif
	let late = get(a:result, 'timed_out', [])
	if !empty(late)
		call s:block_note(a:req, '[timed out] ' . join(late, ', '))
	endif
	call s:notice(printf('team chat: %d replies', len(get(a:result, 'responses', []))))
endfunc

" :AishSend {ai} {message}: one message to one AI, the reply in aish://output.
func aish#send(args) abort
	let m = matchlist(a:args, '^\s*\(\S\+\)\s\+\(.*\)$')
	if empty(m) || empty(trim(m[2]))
		call s:error('give an AI and a message, like :AishSend apollo hello')
		return
	endif
	let req = #{method: 'aish/send', params: #{ai: m[1], content: m[2]},
		\ stream: 1, title: 'send to ' . m[1], status: m[1], ai: m[1]}
	let req.on_result = function('s:send_result')
	call s:block_start(req)
	call s:request(req)
endfunc

" The reply to :AishSend.
func s:send_result(req, result) abort
	call s:section_set(s:section(a:req, '0:' . a:req.ai, a:req.ai),
		\ get(a:result, 'content', ''))
endfunc

" :AishList: the AI sockets of the server, into aish://output.
func aish#list() abort
	let req = #{method: 'aish/list', params: {}, stream: 1,
		\ title: 'AI sockets', status: 'list'}
	let req.on_result = function('s:list_result')
	call s:block_start(req)
	call s:request(req)
endfunc

" The answer to :AishList, one socket a line.
func s:list_result(req, result) abort
	let b = s:block(a:req)
	let lines = [printf('%-24s %-16s %-10s %-12s %s',
		\ 'SOCKET', 'AI', 'PROVIDER', 'STATE', 'QUEUE')]
	for s in get(a:result, 'sockets', [])
		call add(lines, printf('%-24s %-16s %-10s %-12s %s',
			\ get(s, 'socket_id', '?'), get(s, 'ai_name', '?'),
			\ get(s, 'provider', '?'), get(s, 'state', '?'),
			\ get(s, 'queue_size', '?')))
	endfor
	let last = b.last
	call s:insert(last, lines)
	let b.last = last + len(lines)
endfunc

" :AishCancel: cancels every request in flight ($/cancelRequest).
func aish#cancel() abort
	if empty(s:requests) && empty(s:waiting)
		call s:notice('nothing to cancel')
		return
	endif
	for req in s:waiting
		call s:finish(req, '', 1)
	endfor
	let s:waiting = []
	for req in values(s:requests)
		let req.cancelling = 1
		call ch_sendexpr(s:chan, #{method: '$/cancelRequest',
			\ params: #{id: req.id}})
	endfor
endfunc

" :AishLog: shows the log (bridge messages, errors, aish/message).
func aish#log() abort
	let existed = bufnr(s:log_name) > 0 && bufloaded(bufnr(s:log_name))
	let nr = s:scratch(s:log_name)
	if !existed
		call setbufline(nr, 1, empty(s:log_lines) ? ['(empty)'] : s:log_lines)
	endif
	call s:show(nr)
endfunc
