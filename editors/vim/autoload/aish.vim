" autoload/aish.vim: the commands of the aish plugin, for Vim 9 and
" Neovim 0.7 alike.
"
" Each command makes a request to aish-bridge (aish/rpc.vim) and shows
" its answer: streamed into a block of aish://output (aish/output.vim),
" or into the user's buffer (replace) or a proposal (aish/propose.vim).
" The functions aish#status(), aish#busy() and aish#last_error() are for
" 'statusline' and scripts.

" ------------------------------------------------------------------------
" Scripts and the status line

" The progress of the requests in flight ("" when none), for 'statusline'.
func aish#status() abort
	return aish#msg#status()
endfunc

" The number of requests in flight that the user made.
func aish#busy() abort
	return len(aish#rpc#pending())
endfunc

" The last error shown ("" when none).
func aish#last_error() abort
	return aish#msg#last_error()
endfunc

" The last notice shown ("" when none).
func aish#last_notice() abort
	return aish#msg#last_notice()
endfunc

" Forgets the last error and notice (for scripts that check them).
func aish#clear_messages() abort
	call aish#msg#clear()
endfunc

" Stops the bridge (the next command starts it again).
func aish#stop() abort
	call aish#rpc#stop()
endfunc

" ------------------------------------------------------------------------
" Requests that write a block of aish://output

" The options every sending method takes: one-shot unless
" g:aish_keep_history, the silence limit g:aish_timeout_ms, the items
" attached with :AishAdd (aish/context.vim).
func aish#send_options(params) abort
	call aish#context#add_to(a:params)
	let a:params.fresh = get(g:, 'aish_keep_history', 0) ? v:false : v:true
	if type(get(g:, 'aish_timeout_ms', v:null)) == v:t_number
		let a:params.timeout_ms = g:aish_timeout_ms
	endif
	return a:params
endfunc

" Makes REQ with a block of aish://output that its progress streams into.
func s:with_block(req) abort
	call extend(a:req, #{on_progress: function('s:on_progress'),
		\ on_end: function('s:on_end')}, 'keep')
	call aish#output#block(a:req)
	if !aish#rpc#request(a:req)
		call aish#output#note(a:req.block, '[error] ' . aish#msg#last_error())
		call aish#output#close(a:req.block)
	endif
endfunc

" The section of REQ's block that the progress P (or a result's part)
" belongs to: a pipeline's stage by index, a team member by socket, the
" synthesis (a team chat's stage 1) last.
func s:section_of(req, p) abort
	let ai = get(a:p, 'ai', '')
	let sid = get(a:p, 'socket_id', '')
	let stage = get(a:p, 'stage', 0)
	if type(ai) != v:t_string
		let ai = ''
	endif
	if type(sid) != v:t_string
		let sid = ''
	endif
	if a:req.method ==# 'aish/pipeline'
		return aish#output#section(a:req.block, 'stage ' . stage, aish#output#label(ai, sid))
	elseif a:req.method ==# 'aish/teamChat' && stage == 1
		return aish#output#section(a:req.block, 'synthesis',
			\ aish#output#label(empty(ai) ? 'rhetor' : ai, sid) . ' (synthesis)', 1)
	endif
	return aish#output#section(a:req.block, empty(sid) ? ai : sid, aish#output#label(ai, sid))
endfunc

" aish/progress: a stage or team member begins, streams or ends.
func s:on_progress(req, p) abort
	let ai = get(a:p, 'ai', '?')
	let stage = get(a:p, 'stage', 0)
	if a:req.method ==# 'aish/pipeline'
		let a:req.status = printf('%s (stage %d)', ai, stage + 1)
	else
		let a:req.status = ai . (a:req.method ==# 'aish/teamChat' && stage == 1 ? ' (synthesis)' : '')
	endif
	if !has_key(a:req, 'block')
		return
	endif
	let content = get(a:p, 'content', v:null)
	let kind = get(a:p, 'kind', '')
	let sec = s:section_of(a:req, a:p)
	if type(content) == v:t_string
		if kind ==# 'delta'
			call aish#output#append(sec, content)
		elseif kind ==# 'end'
			call aish#output#finish(sec, content)
		endif
	endif
endfunc

" A request with a block ended: notes how, when not well.
func s:on_end(req, error, cancelled) abort
	if !has_key(a:req, 'block')
		return
	endif
	if a:cancelled
		call aish#output#note(a:req.block, '[cancelled]')
	elseif !empty(a:error)
		call aish#output#note(a:req.block, '[error] ' . a:error)
	endif
	call aish#output#close(a:req.block)
endfunc

" ------------------------------------------------------------------------
" :Aish, :AishReplace

" The text of lines L1 to L2 of the current buffer.
func s:lines_text(l1, l2) abort
	return join(getline(a:l1, a:l2), "\n")
endfunc

" Checks a pipeline argument; returns the trimmed text or "".
func aish#pipeline_arg(pipeline) abort
	let p = trim(a:pipeline)
	if empty(p) || p =~# '^|' || p =~# '|\s*$' || p =~# '|\s*|'
		call aish#msg#error('give a pipeline of AIs, like :Aish athena | apollo')
		return ''
	endif
	return p
endfunc

" A pipeline request of INPUT through the pipeline P.
func aish#pipeline_request(input, p) abort
	return #{method: 'aish/pipeline', title: a:p, status: a:p,
		\ params: aish#send_options(#{input: a:input, pipeline: a:p})}
endfunc

" :[range]Aish {pipeline}: streams the pipeline's output into aish://output.
func aish#pipe(l1, l2, pipeline) abort
	let p = aish#pipeline_arg(a:pipeline)
	if empty(p)
		return
	endif
	let req = aish#pipeline_request(s:lines_text(a:l1, a:l2), p)
	let req.on_result = function('s:pipe_result')
	call s:with_block(req)
endfunc

" The result of a pipeline: every stage's final text.
func s:pipe_result(req, result) abort
	let i = 0
	for st in get(a:result, 'stages', [])
		let st.stage = i
		call aish#output#finish(s:section_of(a:req, st), get(st, 'output', ''))
		let i += 1
	endfor
	call aish#msg#notice(a:req.title . ': done')
endfunc

" :[range]AishReplace {pipeline}: replaces the range with the output when
" it is done, unless the range itself changed meanwhile (edits elsewhere
" in the buffer are fine).
func aish#replace(l1, l2, pipeline) abort
	let p = aish#pipeline_arg(a:pipeline)
	if empty(p)
		return
	endif
	let range = aish#range#new(bufnr('%'), a:l1, a:l2)
	let req = aish#pipeline_request(aish#range#text(range), p)
	let req.range = range
	let req.on_result = function('s:replace_result')
	let req.on_end = {r, error, cancelled -> aish#range#drop(r.range)}
	call aish#rpc#request(req)
endfunc

" The lines of an answer, without the one newline that may end it.
func aish#answer_lines(text) abort
	let lines = split(a:text, "\n", 1)
	if len(lines) > 1 && lines[-1] ==# ''
		call remove(lines, -1)
	endif
	return lines
endfunc

" The result of :AishReplace: into the range, or into aish://output when
" the range changed or its buffer is gone.
func s:replace_result(req, result) abort
	let text = get(a:result, 'output', '')
	let where = aish#range#replace(a:req.range, aish#answer_lines(text))
	if !empty(where)
		call aish#msg#notice(printf('%s: replaced lines %d-%d', a:req.title, where[0], where[1]))
		return
	endif
	let block = aish#output#block(a:req)
	let stages = get(a:result, 'stages', [])
	let last = empty(stages) ? {} : stages[-1]
	let sec = aish#output#section(block, 'output',
		\ aish#output#label(get(last, 'ai', 'aish'), get(last, 'socket_id', '')))
	call aish#output#finish(sec, text)
	call aish#output#close(block)
	call aish#msg#notice(a:req.title . ': the text changed meanwhile; the result is in'
		\ . ' aish://output', 'WarningMsg')
endfunc

" ------------------------------------------------------------------------
" :AishTeamChat, :AishSend, :AishList

" Splits the argument of :AishTeamChat into its options and message:
" returns #{group, synthesize, message}, or {} after reporting an error.
func aish#team_chat_args(args, example) abort
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
				call aish#msg#error('-g needs a group, like ' . a:example)
				return {}
			endif
			let [opts.group, rest] = [m[1], m[2]]
		elseif word =~# '^-g'
			let opts.group = word[2:]
		else
			call aish#msg#error('unknown option "' . word . '" (options: -g GROUP,'
				\ . ' --synthesize; put -- before a message that starts with -)')
			return {}
		endif
	endwhile
	let opts.message = rest
	return opts
endfunc

" :AishTeamChat [-g {group}] [--synthesize] {message}: asks the whole team
" (or a group); with --synthesize the moderator AI sums the replies up.
func aish#team_chat(args) abort
	let opts = aish#team_chat_args(a:args, ':AishTeamChat -g duo hello')
	if empty(opts)
		return
	endif
	if empty(opts.message)
		call aish#msg#error('give a message, like :AishTeamChat what is a cache?')
		return
	endif
	let params = aish#send_options(#{message: opts.message})
	if !empty(opts.group)
		let params.group = opts.group
	endif
	if opts.synthesize
		let params.moderation = 'synthesis'
	endif
	let req = #{method: 'aish/teamChat', params: params, status: 'team chat',
		\ short: 'team chat' . (empty(opts.group) ? '' : ' ' . opts.group),
		\ title: 'team chat' . (empty(opts.group) ? '' : ' ' . opts.group)
		\ . (opts.synthesize ? ' with synthesis' : '') . ': ' . opts.message}
	let req.on_result = function('s:team_result')
	call s:with_block(req)
endfunc

" The result of a team chat: every member's reply, then who timed out.
func s:team_result(req, result) abort
	for r in get(a:result, 'responses', [])
		let r.stage = 0
		let sec = s:section_of(a:req, r)
		if has_key(r, 'error')
			call aish#output#finish(sec, '[error] ' . s:text(r.error))
		else
			call aish#output#finish(sec, get(r, 'content', ''))
		endif
	endfor
	let synthesis = get(a:result, 'synthesis', {})
	if type(synthesis) == v:t_dict && !empty(synthesis)
		let synthesis.stage = 1
		let sec = s:section_of(a:req, synthesis)
		if has_key(synthesis, 'error')
			call aish#output#finish(sec, '[error] ' . s:text(synthesis.error))
		else
			call aish#output#finish(sec, get(synthesis, 'content', ''))
		endif
	endif
	let late = get(a:result, 'timed_out', [])
	if !empty(late)
		call aish#output#note(a:req.block, '[timed out] ' . join(late, ', '))
	endif
	call aish#msg#notice(printf('team chat: %d replies', len(get(a:result, 'responses', []))))
endfunc

" X as text.
func s:text(x) abort
	return type(a:x) == v:t_string ? a:x : string(a:x)
endfunc

" :AishSend {ai} {message}: one message to one AI, the reply in aish://output.
func aish#send(args) abort
	let m = matchlist(a:args, '^\s*\(\S\+\)\s\+\(.*\)$')
	if empty(m) || empty(trim(m[2]))
		call aish#msg#error('give an AI and a message, like :AishSend apollo hello')
		return
	endif
	let req = #{method: 'aish/send', title: 'send to ' . m[1], status: m[1],
		\ params: aish#send_options(#{ai: m[1], content: m[2]})}
	let req.on_result = function('s:send_result')
	call s:with_block(req)
endfunc

" The reply to :AishSend.
func s:send_result(req, result) abort
	let part = extend(#{ai: a:req.params.ai, stage: 0}, a:result)
	call aish#output#finish(s:section_of(a:req, part), get(a:result, 'content', ''))
endfunc

" :AishList: the AI sockets of the server, into aish://output.
func aish#list() abort
	let req = #{method: 'aish/list', params: {}, title: 'AI sockets', status: 'list'}
	let req.on_result = function('s:list_result')
	call s:with_block(req)
endfunc

" The answer to :AishList, one socket a line.
func s:list_result(req, result) abort
	call aish#complete#learn(a:result)
	let fmt = '%-24s %-16s %-10s %-12s %s'
	let lines = [printf(fmt, 'SOCKET', 'AI', 'PROVIDER', 'STATE', 'QUEUE')]
	for s in get(a:result, 'sockets', [])
		call add(lines, printf(fmt, get(s, 'socket_id', '?'), get(s, 'ai_name', '?'),
			\ get(s, 'provider', '?'), get(s, 'state', '?'), get(s, 'queue_size', '?')))
	endfor
	call aish#output#note(a:req.block, lines)
endfunc

" ------------------------------------------------------------------------
" :AishCancel, :AishLog

" :AishCancel: cancels the request whose block holds the cursor in
" aish://output, else the newest one; with BANG every request.
func aish#cancel(bang) abort
	let reqs = aish#rpc#pending()
	if empty(reqs)
		call aish#msg#notice('nothing to cancel')
		return
	endif
	if a:bang
		call aish#rpc#cancel_all()
		return
	endif
	let req = {}
	if bufname('%') ==# 'aish://output'
		let req = aish#output#request_at(reqs, line('.'))
	endif
	call aish#rpc#cancel(empty(req) ? reqs[-1] : req)
endfunc

" :AishLog: shows the log (bridge messages, errors, every AI message).
func aish#log() abort
	call aish#msg#show_log()
endfunc

" aish/message: every AI message that reaches the bridge goes to the log.
func s:on_message(p) abort
	let content = get(a:p, 'content', '')
	let content = type(content) == v:t_string ? content : ''
	let size = strlen(content)
	if strchars(content) > 2000
		let content = strcharpart(content, 0, 2000) . printf('... (%d bytes)', size)
	endif
	call aish#msg#log(printf('message from %s (socket %s, seq %s%s): %s',
		\ get(a:p, 'ai_name', '?'), get(a:p, 'socket_id', '?'), get(a:p, 'seq', '?'),
		\ has_key(a:p, 'in_reply_to') ? ', reply to ' . s:text(a:p.in_reply_to) : '',
		\ content))
endfunc

call aish#rpc#listen('aish/message', function('s:on_message'))
