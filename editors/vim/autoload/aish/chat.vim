" autoload/aish/chat.vim: conversations with an AI or a team, for Vim and
" Neovim (:AishChat, :AishChatSend).
"
" :AishChat apollo opens "aish://chat/apollo": the conversation the
" server keeps for the socket (aish/history), then a separator line, then
" the prompt area, everything below it.  <CR> in Normal mode (or
" :AishChatSend) sends the prompt area as part of the conversation
" ("fresh": false), clears it and shows it at once as a "[You]" turn; the
" reply streams in above the separator.  Reading the history also opens
" the socket's WebSocket in the bridge (aish/open first, where the bridge
" has it), so every turn on the socket reaches this editor as
" aish/message, whoever wrote it: every Vim, Neovim and Emacs with the
" same chat open shows every turn as it arrives.  The user's own turn,
" told back by the bridge, is recognised and not shown twice; so is the
" reply it streams (matched by the write's id, else by its text).
" With -g GROUP the chat is with a team: the members' histories merged by
" seq, each member's reply labelled, each user turn once.
"
" The buffer may be edited anywhere at any time: turns are placed through
" anchors (aish/anchor.vim), and a separator or a streaming line that the
" user changed is made again rather than written over.

let s:chats = {}          " buffer number -> chat
let s:prefix = 'aish://chat/'
let s:separator = '---- type below this line; <CR> in Normal mode sends ----'

" ------------------------------------------------------------------------
" :AishChat

" Splits the argument of :AishChat: returns #{ai, group}, or {} after an
" error.
func s:chat_args(args) abort
	let words = split(a:args)
	if len(words) == 1 && words[0] !~# '^-'
		return #{ai: words[0], group: ''}
	elseif len(words) == 2 && words[0] ==# '-g'
		return #{ai: '', group: words[1]}
	elseif len(words) == 1 && words[0] =~# '^-g.'
		return #{ai: '', group: words[0][2:]}
	endif
	call aish#msg#error('give one AI or -g GROUP, like :AishChat apollo or :AishChat -g duo')
	return {}
endfunc

" :AishChat {ai} / :AishChat -g {group}: opens the chat (the socket list
" first: it names the socket of an AI, its AI, a group's members).
func aish#chat#open(args) abort
	let opts = s:chat_args(a:args)
	if empty(opts)
		return
	endif
	call aish#rpc#request(#{method: 'aish/list', params: {}, title: 'chat',
		\ status: 'chat', opts: opts, on_result: function('s:listed')})
endfunc

" The socket list came: finds the chat's socket (or members), then opens
" its buffer.
func s:listed(req, result) abort
	call aish#complete#learn(a:result)
	let sockets = filter(copy(get(a:result, 'sockets', [])), 'type(v:val) == v:t_dict')
	let names = {}
	for s in sockets
		let names[get(s, 'socket_id', '')] = get(s, 'ai_name', '')
	endfor
	let opts = a:req.opts
	if empty(opts.group)
		let socket = s:socket_of(sockets, opts.ai)
		if empty(socket)
			call aish#msg#error('unknown AI "' . opts.ai . '" (:AishList lists the AI sockets)')
			return
		endif
		call s:open(socket, '', [socket], names)
		return
	endif
	let members = []
	for s in sockets
		let id = get(s, 'socket_id', '')
		if id =~# '^team-chat-' || id ==# 'rhetor'
			continue
		endif
		if opts.group ==# 'all' || index(get(s, 'groups', []), opts.group) >= 0
			call add(members, id)
		endif
	endfor
	if empty(members)
		call aish#msg#error('unknown group "' . opts.group . '" (or one without members)')
		return
	endif
	call s:open('team-chat-' . opts.group, opts.group, members, names)
endfunc

" The socket id that NAME (a socket id or an AI's name) stands for
" among SOCKETS, "" when none: a socket of that id, else the AI's own
" socket, else its first one.
func s:socket_of(sockets, name) abort
	let found = ''
	for s in a:sockets
		let id = get(s, 'socket_id', '')
		if id ==# a:name
			return id
		endif
		if empty(found) && get(s, 'ai_name', '') ==# a:name && id !~# '^team-chat-'
			let found = id
		endif
	endfor
	return found
endfunc

" Opens the chat buffer of SOCKET (a team's, of GROUP with MEMBERS) and
" loads its conversation, or goes to it when it is open already.
func s:open(socket, group, members, names) abort
	let name = s:prefix . a:socket
	let nr = bufadd(name)
	let chat = get(s:chats, nr, {})
	if bufloaded(nr) && !empty(chat) && s:alive(chat)
		call s:show(nr)
		if chat.bridge != aish#rpc#pid()
			call s:load(chat, 1)
		endif
		return
	endif
	let nr = s:buffer(name)
	silent call deletebufline(nr, 1, '$')
	call setbufline(nr, 1, ['(loading the conversation)', s:separator, ''])
	let chat = #{nr: nr, socket: a:socket, group: a:group, members: a:members,
		\ names: a:names, loaded: 0, waiting: [], seen: {}, sent: [],
		\ requests: [], own_seqs: {}, remote: {}, last_user: v:null, bridge: 0, turns: []}
	let chat.loading = aish#anchor#new(nr, 1)
	let chat.sep = aish#anchor#new(nr, 2)
	let s:chats[nr] = chat
	call s:show(nr)
	call s:load(chat, 0)
endfunc

" The loaded scratch buffer called NAME (exactly: bufnr() would take
" "aish://chat/apollo-2" for "aish://chat/apollo").
func s:buffer(name) abort
	let nr = bufadd(a:name)
	if !bufloaded(nr)
		call setbufvar(nr, '&buftype', 'nofile')
		call setbufvar(nr, '&bufhidden', 'hide')
		call setbufvar(nr, '&swapfile', 0)
		call bufload(nr)
		call setbufvar(nr, '&buflisted', 1)
	endif
	call setbufvar(nr, '&modifiable', 1)
	call setbufvar(nr, '&filetype', 'aishchat')
	return nr
endfunc

" Shows chat buffer NR in a window and goes there, the cursor in the
" prompt area: the current window when it holds an empty buffer, else a
" new one at the bottom.
func s:show(nr) abort
	let win = bufwinid(a:nr)
	if win > 0
		call win_gotoid(win)
	elseif line('$') == 1 && getline(1) ==# '' && !&modified && bufname('%') ==# ''
		execute 'buffer' a:nr
	else
		execute 'botright sbuffer' a:nr
	endif
	nnoremap <buffer> <silent> <CR> <Cmd>AishChatSend<CR>
	keepjumps normal! G
endfunc

" Reads the conversation of CHAT: aish/open (so that nothing is missed
" between the history and the first live turn; older bridges lack it)
" then aish/history of each socket.  AGAIN: the chat was shown already
" (its bridge was restarted), so only the turns it lacks are added.
func s:load(chat, again) abort
	let a:chat.left = len(a:chat.members)
	let a:chat.loaded_turns = []
	let a:chat.failure = ''
	let a:chat.again = a:again
	let a:chat.turns_before = len(a:chat.turns)
	let a:chat.reloaded_at = reltime()
	let a:chat.own_seqs = {}
	for socket in a:chat.members
		call aish#rpc#request(#{method: 'aish/open', params: #{socket_id: socket},
			\ title: 'chat ' . socket, quiet: 1, chat: a:chat, socket: socket,
			\ on_end: function('s:opened')})
	endfor
	" The bridge that follows the chat's sockets from now on.
	let a:chat.bridge = aish#rpc#pid()
endfunc

" aish/open ended, well or not: the history now.
func s:opened(req, error, cancelled) abort
	let limit = get(g:, 'aish_chat_history_limit', 200)
	call aish#rpc#request(#{method: 'aish/history', quiet: 1,
		\ params: #{socket_id: a:req.socket, limit: limit},
		\ title: 'chat ' . a:req.socket, chat: a:req.chat, socket: a:req.socket,
		\ on_result: function('s:history'), on_end: function('s:history_end')})
endfunc

" A socket's history came.
func s:history(req, result) abort
	for turn in get(a:result, 'turns', [])
		if type(turn) == v:t_dict
			let turn.socket_id = a:req.socket
			call add(a:req.chat.loaded_turns, turn)
		endif
	endfor
endfunc

" A socket's history request ended: when it was the last, shows them all.
func s:history_end(req, error, cancelled) abort
	let chat = a:req.chat
	if !empty(a:error)
		let chat.failure = a:error
	endif
	let chat.left -= 1
	if chat.left == 0 && s:alive(chat)
		call s:loaded(chat)
	endif
endfunc

" Every history of CHAT came: shows its turns in seq order, then the
" messages that came meanwhile.
func s:loaded(chat) abort
	let c = a:chat
	let l = aish#anchor#line(c.loading)
	if l > 0 && getbufline(c.nr, l) ==# ['(loading the conversation)']
		let ids = s:followers(c)
		silent call deletebufline(c.nr, l)
		call s:follow(c, ids)
	endif
	call aish#anchor#drop(c.loading)
	if !empty(c.failure)
		call s:note(c, '[history not shown: ' . c.failure . ']')
		call aish#msg#error('chat ' . c.socket . ': ' . c.failure)
	endif
	let turns = sort(c.loaded_turns, {a, b -> s:seq(a) - s:seq(b)})
	let c.loaded_turns = []
	" Turns said while no bridge followed the chat go before the turns
	" shown since it came back, up to this chat's own new question (what
	" follows it comes live).
	let c.before = c.again ? get(c.turns, c.turns_before, {}) : {}
	for turn in turns
		if c.again
			if s:own_question(c, turn)
				break
			endif
			call s:message(c, turn, 1)
		else
			call s:history_turn(c, turn)
		endif
	endfor
	let c.before = {}
	let c.loaded = 1
	let waiting = c.waiting
	let c.waiting = []
	for p in waiting
		call s:message(c, p)
	endfor
	if !c.again
		for id in win_findbuf(c.nr)
			call win_execute(id, 'keepjumps normal! G', 'silent')
		endfor
	endif
endfunc

" The seq of a turn or message, 0 when it has none.
func s:seq(t) abort
	let seq = get(a:t, 'seq', 0)
	return type(seq) == v:t_number ? seq : 0
endfunc

" Whether the history turn TURN is a question chat C sent since it read
" the history again (its seq told back, or its text).
func s:own_question(c, turn) abort
	if get(a:turn, 'role', '') !=# 'user'
		return 0
	endif
	if has_key(a:c.own_seqs, s:seq(a:turn))
		return 1
	endif
	let content = s:string(get(a:turn, 'content', ''))
	return !empty(filter(copy(a:c.sent), 'reltimefloat(reltime(a:c.reloaded_at, v:val.at)) >= 0'
		\ . ' && s:is_sent(v:val, content)'))
endfunc

" Shows a turn of the history.
func s:history_turn(c, turn) abort
	let seq = s:seq(a:turn)
	if seq > 0 && has_key(a:c.seen, seq)
		return
	endif
	if seq > 0
		let a:c.seen[seq] = 1
	endif
	let content = s:string(get(a:turn, 'content', ''))
	if get(a:turn, 'role', '') ==# 'user'
		if s:team_echo(a:c, content)
			return
		endif
		let a:c.last_user = content
		call s:turn(a:c, '[You]', content)
	else
		call s:turn(a:c, s:label(a:c, a:turn.socket_id, ''), content)
	endif
endfunc

" Whether the user turn CONTENT is SENT, a question this chat sent: its
" text, or with context the text after the context blocks (the server
" keeps the question as the AI received it).
func s:is_sent(sent, content) abort
	if a:sent.text ==# a:content
		return 1
	endif
	let n = strlen(a:sent.text)
	return a:sent.context && strlen(a:content) > n + 1
		\ && strpart(a:content, strlen(a:content) - n - 1) ==# "\n" . a:sent.text
endfunc

" Whether CONTENT, a user turn, is one that a team chat shows already:
" every member's history (and socket) has the team's question.
func s:team_echo(c, content) abort
	return !empty(a:c.group) && a:c.last_user is# a:content
endfunc

" The label of a turn from SOCKET (its AI AI, when known).
func s:label(c, socket, ai) abort
	let ai = empty(a:ai) ? get(a:c.names, a:socket, '') : a:ai
	return aish#output#label(empty(ai) ? a:socket : ai, a:socket)
endfunc

" X as a string.
func s:string(x) abort
	return type(a:x) == v:t_string ? a:x : ''
endfunc

" Whether CHAT's buffer is still there (a wiped or unloaded chat is
" forgotten).
func s:alive(chat) abort
	if bufloaded(a:chat.nr) && get(s:chats, a:chat.nr, {}) is a:chat
		return 1
	endif
	if get(s:chats, a:chat.nr, {}) is a:chat
		call remove(s:chats, a:chat.nr)
	endif
	return 0
endfunc

" ------------------------------------------------------------------------
" Lines, wherever the user's edits put them

" The separator's line in chat C, made again (after the last turn, else
" at the end) when the user deleted or changed it.
func s:separator_line(c) abort
	let l = aish#anchor#line(a:c.sep)
	if l > 0 && getbufline(a:c.nr, l) ==# [s:separator]
		return l
	endif
	" After the last line any turn wrote, even one the user changed since.
	let after = 0
	for item in a:c.turns
		let after = max([after, aish#anchor#line(item.tail)])
	endfor
	if after == 0
		let after = getbufinfo(a:c.nr)[0].linecount
	endif
	call appendbufline(a:c.nr, after, s:separator)
	call aish#anchor#move(a:c.sep, after + 1)
	return after + 1
endfunc

" The line where ITEM (a turn) ends now, 0 when the user deleted or
" changed it.
func s:item_end(c, item) abort
	let l = aish#anchor#line(a:item.tail)
	if l > 0 && get(getbufline(a:c.nr, l), 0, v:null) is# a:item.tail_text
		return l
	endif
	return 0
endfunc

" Makes line L the end of ITEM.
func s:set_end(c, item, l) abort
	let a:item.tail_text = getbufline(a:c.nr, a:l)[0]
	if has_key(a:item, 'tail')
		call aish#anchor#move(a:item.tail, a:l)
	else
		let a:item.tail = aish#anchor#new(a:c.nr, a:l)
	endif
endfunc

" The windows of chat C that follow new turns: those whose cursor is in
" the prompt area or on the last line (not the current one in Insert
" mode, whose cursor Vim keeps on its text).
func s:followers(c) abort
	let current = win_getid()
	let sep = aish#anchor#line(a:c.sep)
	let ids = []
	for id in win_findbuf(a:c.nr)
		if id == current && mode() !=# 'n'
			continue
		endif
		let l = line('.', id)
		if l == line('$', id) || (sep > 0 && l > sep)
			call add(ids, [id, line('$', id) - l, getcurpos(id)[2]])
		endif
	endfor
	return ids
endfunc

" Scrolls the windows IDS (from s:followers) so that the end of the buffer
" shows, each cursor on the same text of the prompt area as before (new
" turns go above it: the same distance from the end).
func s:follow(c, ids) abort
	for [id, from_end, col] in a:ids
		call win_execute(id, ['keepjumps normal! Gzb',
			\ printf('call cursor(line("$") - %d, %d)', from_end, col)], 'silent')
	endfor
endfunc

" Adds a turn labelled LABEL with TEXT above the separator; returns it.
func s:turn(c, label, text) abort
	let item = #{label: a:label, text: a:text, has_text: !empty(a:text)}
	let lines = [a:label] + (empty(a:text) ? [] : split(a:text, "\n", 1))
	let ids = s:followers(a:c)
	let after = s:before_line(a:c) - 1
	if after < 0
		let after = s:separator_line(a:c) - 1
	endif
	call appendbufline(a:c.nr, after, lines)
	call s:set_end(a:c, item, after + len(lines))
	let item.head = aish#anchor#new(a:c.nr, after + 1)
	call add(a:c.turns, item)
	call s:follow(a:c, ids)
	return item
endfunc

" The line of the label of the turn that turns told late go before (see
" s:loaded), -1 when none or when the user changed that line.
func s:before_line(c) abort
	let item = get(a:c, 'before', {})
	if empty(item)
		return -1
	endif
	let l = aish#anchor#line(item.head)
	return l > 0 && getbufline(a:c.nr, l) ==# [item.label] ? l : -1
endfunc

" Adds the line TEXT above the separator (a note such as "[cancelled]").
func s:note(c, text) abort
	let ids = s:followers(a:c)
	let sep = s:separator_line(a:c)
	call appendbufline(a:c.nr, sep - 1, a:text)
	call s:follow(a:c, ids)
endfunc

" Adds streamed TEXT to the turn ITEM: its first line joins the turn's
" last line.  A turn whose last line the user changed goes on above the
" separator, under its label and "(continued)".
func s:append(c, item, text) abort
	if empty(a:text) || !s:alive(a:c)
		return
	endif
	let ids = s:followers(a:c)
	let parts = split(a:text, "\n", 1)
	let l = s:item_end(a:c, a:item)
	if l == 0
		let sep = s:separator_line(a:c)
		call appendbufline(a:c.nr, sep - 1, a:item.label . ' (continued)')
		let l = sep
		let a:item.has_text = 0
	endif
	if a:item.has_text
		call setbufline(a:c.nr, l, getbufline(a:c.nr, l)[0] . parts[0])
		let parts = parts[1:]
	endif
	call appendbufline(a:c.nr, l, parts)
	let a:item.has_text = 1
	let a:item.text .= a:text
	call s:set_end(a:c, a:item, l + len(parts))
	call s:follow(a:c, ids)
endfunc

" Makes the turn ITEM show TEXT, the whole reply: what did not stream
" yet is added.
func s:finish(c, item, text) abort
	if a:item.text ==# a:text
		return
	endif
	if stridx(a:text, a:item.text) == 0
		call s:append(a:c, a:item, strpart(a:text, strlen(a:item.text)))
	else
		" The streamed pieces differ from the whole: show the whole.
		call aish#msg#log('the reply of ' . a:item.label . ' differs from its pieces')
		let a:item.has_text = 0
		let a:item.text = ''
		call s:append(a:c, a:item, "\n" . a:text)
	endif
endfunc

" ------------------------------------------------------------------------
" :AishChatSend

" The chat of the current buffer, {} when it is none.
func s:current() abort
	let chat = get(s:chats, bufnr('%'), {})
	return !empty(chat) && s:alive(chat) ? chat : {}
endfunc

" The prompt area of chat C: its lines, trimmed; the separator's line.
func s:prompt(c) abort
	let sep = s:separator_line(a:c)
	let text = join(getbufline(a:c.nr, sep + 1, '$'), "\n")
	return [trim(text), sep]
endfunc

" :AishChatSend: sends the prompt area of the current chat and clears it.
func aish#chat#send() abort
	let c = s:current()
	if empty(c)
		call aish#msg#error('not a chat buffer (:AishChat apollo opens one)')
		return
	endif
	if !c.loaded
		call aish#msg#error('the conversation is still loading; send again in a moment')
		return
	endif
	let [text, sep] = s:prompt(c)
	if empty(text)
		call aish#msg#error('type a message below the line first')
		return
	endif
	if c.bridge != aish#rpc#pid()
		" A new bridge: it follows the chat's sockets only once asked.
		call s:load(c, 1)
	endif
	silent call deletebufline(c.nr, sep + 1, '$')
	call appendbufline(c.nr, sep, '')
	call s:turn(c, '[You]', text)
	let c.last_user = text
	let params = aish#send_options(empty(c.group)
		\ ? #{socket_id: c.socket, content: text}
		\ : c.group ==# 'all' ? #{message: text} : #{message: text, group: c.group})
	let params.fresh = v:false
	let req = #{method: empty(c.group) ? 'aish/send' : 'aish/teamChat',
		\ params: params, title: 'chat with ' . (empty(c.group) ? c.socket : c.group),
		\ status: 'chat ' . (empty(c.group) ? c.socket : c.group),
		\ chat: c, sections: {}, claimed: {},
		\ on_progress: function('s:progress'), on_result: function('s:result'),
		\ on_end: function('s:ended')}
	let sent = #{text: text, req: req, at: reltime(), context: has_key(params, 'context')}
	call add(c.sent, sent)
	call add(c.requests, req)
	let req.sent = sent
	if !aish#rpc#request(req)
		call s:note(c, '[error] ' . aish#msg#last_error())
		call filter(c.sent, 'v:val isnot sent')
		call filter(c.requests, 'v:val isnot req')
	endif
	call cursor(line('$'), 1)
endfunc

" The turn of the chat request REQ that SOCKET's reply streams into,
" made when new.
func s:section(req, socket, ai) abort
	let sec = get(a:req.sections, a:socket, {})
	if empty(sec)
		let c = a:req.chat
		let sec = s:turn(c, s:label(c, a:socket, a:ai), '')
		let a:req.sections[a:socket] = sec
	endif
	return sec
endfunc

" aish/progress of a chat request: a reply begins, streams or ends.
func s:progress(req, p) abort
	let c = a:req.chat
	if !s:alive(c)
		return
	endif
	let socket = s:string(get(a:p, 'socket_id', ''))
	let ai = s:string(get(a:p, 'ai', ''))
	if empty(socket)
		let socket = empty(ai) ? c.socket : ai
	endif
	let sec = s:section(a:req, socket, ai)
	let content = get(a:p, 'content', v:null)
	if type(content) != v:t_string
		return
	endif
	if get(a:p, 'kind', '') ==# 'delta'
		call s:append(c, sec, content)
	elseif get(a:p, 'kind', '') ==# 'end'
		call s:finish(c, sec, content)
	endif
endfunc

" The answer to a chat request: every reply whole.
func s:result(req, result) abort
	let c = a:req.chat
	if !s:alive(c) || type(a:result) != v:t_dict
		return
	endif
	let replies = empty(c.group) ? [a:result] : get(a:result, 'responses', [])
	for r in replies
		let socket = s:string(get(r, 'socket_id', c.socket))
		let sec = s:section(a:req, socket, s:string(get(r, 'ai', '')))
		if has_key(r, 'error')
			call s:finish(c, sec, sec.text . (empty(sec.text) ? '' : "\n")
				\ . '[error] ' . s:string(get(r.error, 'message', string(r.error))))
		else
			call s:finish(c, sec, s:string(get(r, 'content', '')))
		endif
	endfor
	let late = get(a:result, 'timed_out', [])
	if type(late) == v:t_list && !empty(late)
		call s:note(c, '[timed out] ' . join(late, ', '))
	endif
endfunc

" A chat request ended: notes how, when not well, and forgets it.
func s:ended(req, error, cancelled) abort
	let c = a:req.chat
	call filter(c.requests, 'v:val isnot a:req')
	if !s:alive(c)
		return
	endif
	if a:cancelled
		call s:note(c, '[cancelled]')
	elseif !empty(a:error)
		call s:note(c, '[error] ' . a:error)
	endif
endfunc

" ------------------------------------------------------------------------
" Turns that arrive: aish/message, aish/delta

" The chats that show the turns of SOCKET.
func s:chats_of(socket) abort
	let found = []
	for c in values(s:chats)
		if (c.socket ==# a:socket || index(c.members, a:socket) >= 0) && s:alive(c)
			call add(found, c)
		endif
	endfor
	return found
endfunc

" aish/message: a turn on a socket, shown by every chat of the socket.
func s:on_message(p) abort
	if get(a:p, 'fresh', v:false) is v:true
		return
	endif
	for c in s:chats_of(s:string(get(a:p, 'socket_id', '')))
		if c.loaded
			call s:message(c, a:p)
		else
			call add(c.waiting, a:p)
		endif
	endfor
endfunc

" Shows the turn P (a message, or a history turn after a new bridge) in
" chat C, unless it shows already: a seq seen, this chat's own question
" told back, a reply this chat is streaming.
func s:message(c, p, ...) abort
	let catching_up = a:0 && a:1
	let seq = s:seq(a:p)
	if seq > 0 && has_key(a:c.seen, seq)
		return
	endif
	if seq > 0
		let a:c.seen[seq] = 1
	endif
	let content = s:string(get(a:p, 'content', ''))
	let socket = s:string(get(a:p, 'socket_id', a:c.socket))
	let write = s:string(get(a:p, 'in_reply_to', ''))
	if get(a:p, 'role', 'assistant') ==# 'user'
		" A question the bridge tells back comes right after the server took
		" it, even when its request ended since (cancelled): one not told
		" back in a minute never will be (an older bridge).
		call filter(a:c.sent, 'reltimefloat(reltime(v:val.at)) < 60')
		let mine = filter(copy(a:c.sent), 's:is_sent(v:val, content)')
		if !empty(mine)
			" This chat's own question: its write id names the reply.
			call filter(a:c.sent, 'v:val isnot mine[0]')
			let mine[0].req.write = write
			if seq > 0
				let a:c.own_seqs[seq] = 1
			endif
			return
		endif
		if s:team_echo(a:c, content)
			return
		endif
		let a:c.last_user = content
		call s:turn(a:c, '[You]', content)
		return
	endif
	if !empty(write) && has_key(a:c.remote, write)
		" The end of a reply that streamed in as another editor's.
		call s:finish(a:c, remove(a:c.remote, write), content)
		return
	endif
	let req = catching_up ? {} : s:claim(a:c, socket, write, content)
	if !empty(req)
		let req.claimed[socket] = 1
		let ai = s:string(get(a:p, 'ai_name', ''))
		call s:finish(a:c, s:section(req, socket, ai), content)
		return
	endif
	call s:turn(a:c, s:label(a:c, socket, s:string(get(a:p, 'ai_name', ''))), content)
endfunc

" The request of chat C in flight whose reply from SOCKET (to the write
" WRITE) CONTENT is, {} when none: the oldest one asking SOCKET whose
" reply from it has not come, unless its write is known and another, or
" what streamed of it does not begin CONTENT.  (A message may come before
" the progress of its request does.)
func s:claim(c, socket, write, content) abort
	for req in a:c.requests
		if !s:asks(a:c, req, a:socket) || s:other_write(a:c, req, a:write)
			continue
		endif
		let sec = get(req.sections, a:socket, {})
		if empty(sec) || stridx(a:content, sec.text) == 0
			return req
		endif
	endfor
	return {}
endfunc

" Whether REQ of chat C asks SOCKET and its reply from there has not come.
func s:asks(c, req, socket) abort
	if has_key(a:req.claimed, a:socket)
		return 0
	endif
	return empty(a:c.group) ? a:socket ==# a:c.socket : index(a:c.members, a:socket) >= 0
endfunc

" Whether REQ of chat C is known to be another write than WRITE (a team's
" members answer writes of their own ids).
func s:other_write(c, req, write) abort
	return empty(a:c.group) && !empty(a:write) && !empty(get(a:req, 'write', ''))
		\ && a:req.write !=# a:write
endfunc

" aish/delta: a piece of a reply on a socket, streamed by every chat of
" the socket but the one whose request it answers (aish/progress streams
" that one).
func s:on_delta(p) abort
	let write = s:string(get(a:p, 'in_reply_to', ''))
	let content = get(a:p, 'content', v:null)
	if get(a:p, 'fresh', v:false) is v:true || empty(write) || type(content) != v:t_string
		return
	endif
	let socket = s:string(get(a:p, 'socket_id', ''))
	for c in s:chats_of(socket)
		let sec = get(c.remote, write, {})
		if empty(sec)
			" A new reply: another editor's, unless this chat streams it.
			if !c.loaded || s:own_delta(c, socket, write) || get(a:p, 'index', 0) != 0
				continue
			endif
			let sec = s:turn(c, s:label(c, socket, s:string(get(a:p, 'ai_name', ''))), '')
			let c.remote[write] = sec
		endif
		call s:append(c, sec, content)
	endfor
endfunc

" Whether a piece of the reply to WRITE on SOCKET belongs to a request of
" chat C, which streams it already.
func s:own_delta(c, socket, write) abort
	for req in a:c.requests
		if s:asks(a:c, req, a:socket) && !s:other_write(a:c, req, a:write)
			return 1
		endif
	endfor
	return 0
endfunc

call aish#rpc#listen('aish/message', function('s:on_message'))
call aish#rpc#listen('aish/delta', function('s:on_delta'))

" ------------------------------------------------------------------------
" Completion and scripts

" :AishChat completes an AI, or -g and a group.
func aish#chat#complete(lead, line, pos) abort
	call aish#complete#refresh()
	let names = aish#complete#names()
	let words = split(strpart(a:line, 0, a:pos))
	let before = words[1 : len(words) - (empty(a:lead) ? 1 : 2)]
	if before ==# ['-g']
		return filter(names.groups + ['all'], 'stridx(v:val, a:lead) == 0')
	elseif empty(before)
		return filter(names.ais + ['-g'], 'stridx(v:val, a:lead) == 0')
	endif
	return []
endfunc

" The socket of the chat in the current buffer, "" when it is none (for
" scripts and 'statusline').
func aish#chat#socket() abort
	let c = s:current()
	return empty(c) ? '' : c.socket
endfunc
