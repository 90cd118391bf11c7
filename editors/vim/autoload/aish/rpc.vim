" autoload/aish/rpc.vim: the aish-bridge process and its requests, for Vim
" and Neovim alike.
"
" Starts aish-bridge on first use and speaks JSON-RPC 2.0 to it: in Vim
" through the "lsp" channel mode, in Neovim through lua/aish/rpc.lua (a
" shim over vim.lsp.rpc).  Both hand what arrives to the same functions
" below.  Only responses and notifications are expected from the bridge
" (Vim 9.0 mis-routes server requests).
"
" A request is a dict: method, params, title (for messages; "short" when
" they want a shorter one), and
" callbacks, each called with the request first:
"   on_result(req, result)          the answer
"   on_progress(req, params)        an aish/progress about it
"   on_end(req, error, cancelled)   after it ended, however it ended
" "quiet": 1 keeps its errors out of the message area (the log has them).
" Other files listen to notifications with aish#rpc#listen().

let s:job = v:null       " Vim: the aish-bridge job
let s:chan = v:null      " Vim: its channel
let s:gen = 0            " the generation of the running bridge, 0: none
let s:ready = 0          " 1 once initialize has been answered
let s:waiting = []       " requests made before initialize was answered
let s:requests = {}      " JSON-RPC id -> request in flight
let s:listeners = {}     " notification method -> list of funcrefs
let s:nvim = has('nvim')

" ------------------------------------------------------------------------
" Starting and stopping

" The command that starts the bridge, as a list: g:aish_bridge_cmd (a
" string or a list) followed by --rhetor g:aish_rhetor_url when set.
func s:bridge_command() abort
	let cmd = get(g:, 'aish_bridge_cmd', 'aish-bridge')
	let cmd = type(cmd) == v:t_list ? copy(cmd) : split(cmd)
	let url = get(g:, 'aish_rhetor_url', '')
	if !empty(url)
		call extend(cmd, ['--rhetor', url])
	endif
	return cmd
endfunc

" Starts the bridge and sends initialize; returns 0 (after saying why)
" when it cannot start.
func s:start() abort
	if s:gen > 0
		return 1
	endif
	let cmd = s:bridge_command()
	let prog = get(cmd, 0, '')
	if empty(prog) || !executable(prog)
		call aish#msg#error('cannot start the bridge: "' . prog
			\ . '" is not an executable program (see g:aish_bridge_cmd)')
		return 0
	endif
	let s:ready = 0
	if s:nvim
		let [gen, why] = v:lua.require'aish.rpc'.start(cmd)
	else
		let [gen, why] = s:vim_start(cmd)
	endif
	if gen <= 0
		call aish#msg#error('cannot start the bridge: ' . why)
		return 0
	endif
	let s:gen = gen
	call aish#msg#log('started ' . join(cmd))
	call s:request_now(#{method: 'initialize', title: 'initialize', quiet: 1,
		\ params: #{client_info: #{name: 'aish.vim', version: '0.2.0'}},
		\ on_result: function('s:on_initialized'),
		\ on_end: function('s:on_initialize_end')})
	return 1
endfunc

" Vim: starts the job; returns [generation, reason].
func s:vim_start(cmd) abort
	let gen = s:gen_counter()
	let job = job_start(a:cmd, #{
		\ in_mode: 'lsp', out_mode: 'lsp', err_mode: 'nl',
		\ callback: {ch, msg -> s:vim_message(gen, msg)},
		\ err_cb: {ch, line -> aish#msg#log('bridge: ' . line)},
		\ exit_cb: {j, status -> aish#rpc#on_exit(gen, status,
		\	 job_info(j).termsig)},
		\ noblock: 1})
	if job_status(job) !=# 'run'
		return [0, string(a:cmd)]
	endif
	let s:job = job
	let s:chan = job_getchannel(job)
	return [gen, '']
endfunc

" A new generation number (Vim; Neovim's shim counts its own).
func s:gen_counter() abort
	let s:vim_gens = get(s:, 'vim_gens', 0) + 1
	return s:vim_gens
endfunc

" Vim: a message that is not the answer to a request.
func s:vim_message(gen, msg) abort
	if type(a:msg) == v:t_dict && has_key(a:msg, 'method')
		call aish#rpc#on_notification(a:gen, a:msg.method, get(a:msg, 'params', {}))
	endif
endfunc

" The answer to initialize: sends the requests that waited for it.
func s:on_initialized(req, result) abort
	let s:ready = 1
	let rhetor = s:dict(get(s:dict(a:result), 'rhetor', {}))
	let s:rhetor_url = get(rhetor, 'url', '')
	call aish#msg#log('bridge ready; rhetor ' . get(rhetor, 'url', '?')
		\ . (get(rhetor, 'connected', v:false) is v:true ? ' connected' : ' not connected'))
	let waiting = s:waiting
	let s:waiting = []
	for req in waiting
		call s:send(req)
	endfor
endfunc

" initialize failed: the requests that waited for it fail too.
func s:on_initialize_end(req, error, cancelled) abort
	if empty(a:error) || s:ready
		return
	endif
	let waiting = s:waiting
	let s:waiting = []
	for req in waiting
		call s:finish(req, 'the bridge refused to start: ' . a:error, 0)
	endfor
	call aish#rpc#stop()
endfunc

" The bridge of generation GEN ended (STATUS its exit status, SIGNAL the
" signal that killed it, if any): every request in flight fails, once,
" with one message; the next command starts a new bridge.
func aish#rpc#on_exit(gen, status, signal) abort
	if a:gen != s:gen
		return
	endif
	call s:forget()
	let how = !empty(a:signal) && a:signal isnot 0 && a:signal !=# '0'
		\ ? 'was killed (signal ' . a:signal . ')'
		\ : 'exited (status ' . a:status . ')'
	call aish#msg#log('bridge ' . how)
	let pending = s:pending()
	let s:requests = {}
	let s:waiting = []
	let text = 'aish-bridge ' . how
	for req in pending
		let req.quiet = 1
		call s:finish(req, text, 0)
	endfor
	call aish#msg#error(text . '; the next command starts it again')
endfunc

" Forgets the running bridge.
func s:forget() abort
	let s:gen = 0
	let s:ready = 0
	let s:job = v:null
	let s:chan = v:null
endfunc

" Stops the bridge; the requests in flight end as cancelled.  The next
" command starts it again.
func aish#rpc#stop() abort
	if s:gen == 0
		return
	endif
	if s:nvim
		call v:lua.require'aish.rpc'.stop()
	else
		let job = s:job
		if s:ready && ch_status(s:chan) ==# 'open'
			call ch_sendexpr(s:chan, #{method: 'exit'})
		endif
		call job_stop(job)
	endif
	call s:forget()
	let pending = s:pending()
	let s:requests = {}
	let s:waiting = []
	for req in pending
		let req.quiet = 1
		call s:finish(req, '', 1)
	endfor
endfunc

" ------------------------------------------------------------------------
" Requests

" Makes the request REQ, starting the bridge when needed; returns 0 when
" the bridge cannot start (after saying why).
func aish#rpc#request(req) abort
	call extend(a:req, #{id: -1, done: 0, started: reltime()}, 'keep')
	let a:req.status = get(a:req, 'status', get(a:req, 'title', a:req.method))
	if !s:start()
		let a:req.done = 1
		return 0
	endif
	if s:ready
		call s:send(a:req)
	else
		call add(s:waiting, a:req)
	endif
	call aish#msg#busy_changed()
	return 1
endfunc

" Sends REQ at once (initialize itself, before the bridge is ready).
func s:request_now(req) abort
	call extend(a:req, #{id: -1, done: 0, started: reltime(), status: a:req.method}, 'keep')
	call s:send(a:req)
endfunc

" Sends REQ on the connection and records it under its id.
func s:send(req) abort
	if s:nvim
		let id = v:lua.require'aish.rpc'.request(a:req.method, a:req.params)
	else
		let gen = s:gen
		let sent = ch_sendexpr(s:chan, #{method: a:req.method, params: a:req.params},
			\ #{callback: {ch, msg -> aish#rpc#on_response(gen, get(a:req, 'id', -1), msg)}})
		let id = type(sent) == v:t_dict ? get(sent, 'id', -1) : -1
	endif
	let a:req.id = id
	if id < 0
		call s:finish(a:req, 'could not send ' . a:req.method . ' to the bridge', 0)
		return
	endif
	let a:req.gen = s:gen
	let s:requests[id] = a:req
endfunc

" Sends a notification to the bridge.
func aish#rpc#notify(method, params) abort
	if s:gen == 0
		return
	endif
	if s:nvim
		call v:lua.require'aish.rpc'.notify(a:method, a:params)
	else
		call ch_sendexpr(s:chan, #{method: a:method, params: a:params})
	endif
endfunc

" The answer MSG to the request ID of the bridge of generation GEN.
func aish#rpc#on_response(gen, id, msg) abort
	let req = get(s:requests, a:id, {})
	if a:gen != s:gen || empty(req)
		return
	endif
	call remove(s:requests, a:id)
	let msg = s:dict(a:msg)
	if has_key(msg, 'error') && msg.error isnot v:null
		let err = s:dict(msg.error)
		call s:finish(req, s:error_text(err), get(err, 'code', 0) == -32800)
		return
	endif
	let error = ''
	try
		if has_key(req, 'on_result')
			call req.on_result(req, get(msg, 'result', v:null))
		endif
	catch
		let error = 'internal error: ' . v:exception
		call aish#msg#log(error . ' at ' . v:throwpoint)
	finally
		call s:finish(req, error, 0)
	endtry
endfunc

" Ends REQ: reports an error (one line; the log has it all) or a
" cancellation and calls its on_end.
func s:finish(req, error, cancelled) abort
	if a:req.done
		return
	endif
	let a:req.done = 1
	if has_key(s:requests, a:req.id) && s:requests[a:req.id] is a:req
		call remove(s:requests, a:req.id)
	endif
	call filter(s:waiting, 'v:val isnot a:req')
	let title = get(a:req, 'short', get(a:req, 'title', a:req.method))
	if a:cancelled
		if !get(a:req, 'quiet', 0)
			call aish#msg#notice(title . ': cancelled', 'WarningMsg')
		endif
	elseif !empty(a:error)
		if get(a:req, 'quiet', 0)
			call aish#msg#log('error: ' . title . ': ' . a:error)
		else
			call aish#msg#error(title . ': ' . a:error)
		endif
	endif
	if has_key(a:req, 'on_end')
		try
			call a:req.on_end(a:req, a:error, a:cancelled)
		catch
			call aish#msg#log('internal error: ' . v:exception . ' at ' . v:throwpoint)
		endtry
	endif
	call aish#msg#busy_changed()
endfunc

" One line of text for a JSON-RPC error object.
func s:error_text(err) abort
	let names = {'-32001': 'aish-rhetor unreachable', '-32003': 'timed out',
		\ '-32004': 'AI error', '-32005': 'too many requests',
		\ '-32602': 'invalid parameters'}
	let code = get(a:err, 'code', 0)
	let text = get(a:err, 'message', '')
	if type(text) != v:t_string || empty(text)
		let text = get(names, string(code), 'error ' . code)
	endif
	" The server that cannot be reached is named.
	if code == -32001 && text !~# '://' && !empty(get(s:, 'rhetor_url', ''))
		let text .= ' at ' . s:rhetor_url
	endif
	return substitute(text, '\n', ' ', 'g')
endfunc

" Cancels REQ (aish/cancel; its answer ends the request, as Neovim 0.7
" never calls a request's callback after a -32800 answer).
func aish#rpc#cancel(req) abort
	if a:req.done
		return
	endif
	if index(s:waiting, a:req) >= 0 || a:req.id < 0
		call s:finish(a:req, '', 1)
		return
	endif
	let a:req.cancelling = 1
	call s:request_now(#{method: 'aish/cancel', params: #{id: a:req.id},
		\ title: 'cancel', quiet: 1, on_result: function('s:on_cancelled')})
	call aish#msg#busy_changed()
endfunc

" Cancels every request in flight.
func aish#rpc#cancel_all() abort
	for req in copy(s:waiting)
		call s:finish(req, '', 1)
	endfor
	if !empty(s:requests)
		for req in values(s:requests)
			let req.cancelling = 1
		endfor
		call s:request_now(#{method: 'aish/cancel', params: {},
			\ title: 'cancel', quiet: 1, on_result: function('s:on_cancelled')})
	endif
	call aish#msg#busy_changed()
endfunc

" The answer to aish/cancel: the requests it names are over.
func s:on_cancelled(req, result) abort
	for id in get(s:dict(a:result), 'cancelled', [])
		let req = get(s:requests, id, {})
		if !empty(req)
			call s:finish(req, '', 1)
		endif
	endfor
endfunc

" ------------------------------------------------------------------------
" Notifications

" Calls FN(params) for every notification METHOD from the bridge.
func aish#rpc#listen(method, fn) abort
	if !has_key(s:listeners, a:method)
		let s:listeners[a:method] = []
	endif
	call add(s:listeners[a:method], a:fn)
endfunc

" A notification from the bridge of generation GEN.
func aish#rpc#on_notification(gen, method, params) abort
	if a:gen != s:gen || type(a:params) != v:t_dict
		return
	endif
	if a:method ==# 'aish/progress'
		let req = get(s:requests, get(a:params, 'request_id', -1), {})
		if !empty(req) && !req.done && has_key(req, 'on_progress')
			call req.on_progress(req, a:params)
		endif
	endif
	for Fn in get(s:listeners, a:method, [])
		call Fn(a:params)
	endfor
endfunc

" ------------------------------------------------------------------------
" What is in flight

" The requests in flight, oldest first (initialize and cancels left out).
func s:pending() abort
	let reqs = filter(values(s:requests), 'v:val.method !=# "initialize" && v:val.method !=# "aish/cancel"')
	return sort(reqs, {a, b -> a.id - b.id}) + copy(s:waiting)
endfunc

" The requests in flight that the user made (not quiet ones), oldest first.
func aish#rpc#pending() abort
	return filter(s:pending(), '!get(v:val, "quiet", 0)')
endfunc

" The number of requests in flight.
func aish#rpc#busy() abort
	return len(s:pending())
endfunc

" Whether a bridge is running.
func aish#rpc#running() abort
	return s:gen > 0
endfunc

" The process id of the running bridge, 0 when none.
func aish#rpc#pid() abort
	if s:gen == 0
		return 0
	endif
	if s:nvim
		return v:lua.require'aish.rpc'.pid()
	endif
	return job_info(s:job).process
endfunc

" X when it is a dict, else {} (an empty JSON object may come as []).
func s:dict(x) abort
	return type(a:x) == v:t_dict ? a:x : {}
endfunc
