" tests/vim/test_chat.vim: the chat as a user meets it, in Vim and Neovim:
" :AishChat opens aish://chat/<socket> with the conversation so far and a
" prompt area; text typed there and sent with <CR> in Normal mode (or
" :AishChatSend) shows at once as a "[You]" turn, once, the prompt
" clears, the reply streams in above the separator while the window
" follows; a turn written by another program shows as it arrives; the
" buffer may be edited anywhere mid-stream; reopening after the bridge
" ended shows the whole conversation; a chat with a team; completion and
" errors.  tests/vim/setup.vim says how the tests run.

execute 'source' fnameescape(expand('<sfile>:p:h') . '/setup.vim')

let s:separator = '---- type below this line; <CR> in Normal mode sends ----'

" The number of the chat buffer of SOCKET, -1 when none.
func T_chat_buf(socket) abort
	for b in getbufinfo()
		if b.name ==# 'aish://chat/' . a:socket
			return b.bufnr
		endif
	endfor
	return -1
endfunc

" The lines of the chat buffer of SOCKET.
func T_chat_lines(socket) abort
	let nr = T_chat_buf(a:socket)
	return nr < 0 ? [] : getbufline(nr, 1, '$')
endfunc

" The conversation of the chat of SOCKET: its lines above the separator.
func T_conversation(socket) abort
	let lines = T_chat_lines(a:socket)
	let i = index(lines, s:separator)
	return i < 0 ? lines : lines[: i - 1]
endfunc

" Whether the conversation of SOCKET ends with LINES.
func T_ends_with(socket, lines) abort
	let conv = T_conversation(a:socket)
	return len(conv) >= len(a:lines) && conv[- len(a:lines) :] ==# a:lines
endfunc

" Opens the chat of AI (":AishChat AI" typed) and waits for it to load.
func s:open(ai, socket) abort
	call feedkeys(':AishChat ' . a:ai . "\<CR>", 'xt')
	call assert_true(T_wait('T_chat_buf("' . a:socket . '") > 0 && index(T_chat_lines("'
		\ . a:socket . '"), "(loading the conversation)") < 0', 5000), 'the chat did not load')
	call assert_equal('aish://chat/' . a:socket, bufname('%'), 'the cursor is not in the chat')
endfunc

" Types TEXT at the end of the prompt area and sends it with <CR> in Normal mode.
func s:type_and_send(text) abort
	call feedkeys('GA' . a:text . "\<Esc>\<CR>", 'xt')
endfunc

" The number of lines of LINES equal to LINE.
func s:count(lines, line) abort
	return len(filter(copy(a:lines), 'v:val ==# a:line'))
endfunc

" A fresh start: one window, no messages, no chat buffers.
func s:fresh() abort
	only!
	enew!
	for b in getbufinfo()
		if b.name =~# '^aish://chat/'
			execute 'bwipeout!' b.bufnr
		endif
	endfor
	call aish#clear_messages()
endfunc

" :AishChat on a new socket: an empty conversation, the separator, the
" prompt; <CR> sends the prompt: "[You]" and the text at once, the prompt
" emptied, the reply streaming in above the separator, the cursor staying
" in the prompt area on the last line while it streams; each turn once.
func Test_chat_send_streams() abort
	call s:fresh()
	let socket = T_make_socket('talker', 800, 4)
	call s:open('talker', socket)
	call assert_equal([s:separator, ''], T_chat_lines(socket))
	call s:type_and_send('what is a pipe?')
	" Shown at once, before any answer.
	call assert_equal(['[You]', 'what is a pipe?'], T_conversation(socket)[: 1])
	call assert_equal([s:separator, ''], T_chat_lines(socket)[-2:], 'the prompt was not emptied')
	let partial = 0
	let start = reltime()
	while reltimefloat(reltime(start)) < 10 && !T_ends_with(socket, ['talker: what is a pipe?'])
		let conv = T_conversation(socket)
		if len(conv) == 4 && conv[3] !=# 'talker: what is a pipe?' && conv[3] =~# '^talker:'
			let partial += 1
		endif
		call assert_equal(line('$'), line('.'), 'the cursor left the prompt area')
		sleep 20m
	endwhile
	call assert_true(partial > 0, 'no partial reply seen')
	call T_settle(5000)
	call assert_equal(['[You]', 'what is a pipe?', '[From Talker (' . socket . ')]',
		\ 'talker: what is a pipe?'], T_conversation(socket))
	call assert_equal(line('$'), line('.'))

	" :AishChatSend does the same; a prompt of several lines is one turn.
	call feedkeys("Gione\<CR>two\<Esc>", 'xt')
	AishChatSend
	call assert_true(T_wait('T_ends_with("' . socket . '", ["talker: one", "two"])', 10000),
		\ 'no reply to the second turn')
	call T_settle(5000)
	let conv = T_conversation(socket)
	call assert_equal(2, s:count(conv, '[You]'), 'a user turn shows twice or not at all')
	call assert_equal(1, s:count(conv, 'talker: one'), 'the reply shows twice')
	call assert_equal('', aish#last_error())
endfunc

" The conversation is the server's: after the chat buffer is wiped and
" the bridge stopped (as when quitting the editor), :AishChat shows it
" whole, and the next turn carries it on.
func Test_chat_reopened() abort
	call s:fresh()
	let socket = T_make_socket('keeper', 0, 1)
	call s:open(socket, socket)
	call s:type_and_send('first')
	call assert_true(T_wait('T_ends_with("' . socket . '", ["keeper: first"])', 5000))
	call s:type_and_send('second')
	call assert_true(T_wait('T_ends_with("' . socket . '", ["keeper: second"])', 5000))
	call T_settle(5000)
	let before = T_conversation(socket)
	call s:fresh()
	call aish#stop()
	call s:open('keeper', socket)
	call assert_equal(before, T_conversation(socket))
	call assert_equal(['[You]', 'first', '[From Keeper (' . socket . ')]', 'keeper: first',
		\ '[You]', 'second', '[From Keeper (' . socket . ')]', 'keeper: second'], before)
	call s:type_and_send('third')
	call assert_true(T_wait('T_ends_with("' . socket . '", ["keeper: third"])', 5000))
	" :AishChat of an open chat goes to it and leaves it as it is.
	wincmd p
	enew
	execute 'AishChat' socket
	call assert_true(T_wait('bufname("%") ==# "aish://chat/' . socket . '"', 5000))
	call assert_equal(3, s:count(T_conversation(socket), '[You]'))
	call T_settle(5000)
	call assert_equal('', aish#last_error())
endfunc

" Starts the command CMD (a list) in the background.
func s:start(cmd) abort
	if has('nvim')
		call jobstart(a:cmd)
	else
		call job_start(a:cmd, #{in_io: 'null', out_io: 'null', err_io: 'null'})
	endif
endfunc

" A turn written by another program (the aish command line, which keeps
" the conversation) shows in the open chat as it happens: its question
" at once, its reply streaming in, each once.
func Test_chat_shows_turns_from_elsewhere() abort
	call s:fresh()
	let socket = T_make_socket('shared', 1200, 4)
	call s:open(socket, socket)
	let aish = fnamemodify($AISH_TEST_BRIDGE, ':h') . '/aish'
	call s:start([aish, '-r', $AISH_TEST_URL, '-c', 'echo "from the shell" | ' . socket])
	call assert_true(T_wait('T_ends_with("' . socket . '", ["[You]", "from the shell"])', 5000),
		\ 'the question of another program did not show')
	let label = '[From Shared (' . socket . ')]'
	let partial = 0
	let start = reltime()
	while reltimefloat(reltime(start)) < 10 && !T_ends_with(socket, ['shared: from the shell'])
		let conv = T_conversation(socket)
		if get(conv, -2, '') ==# label && conv[-1] =~# '^shared: ' && conv[-1] !=# 'shared: from the shell'
			let partial += 1
		endif
		sleep 20m
	endwhile
	call assert_equal(['[You]', 'from the shell', label, 'shared: from the shell'],
		\ T_conversation(socket)[-4:])
	call assert_true(partial > 0, 'the reply to another program did not stream')
	" The chat's own next turn still shows once, and so does its reply.
	call s:type_and_send('and mine')
	call assert_true(T_wait('T_ends_with("' . socket . '", ["shared: and mine"])', 5000))
	call T_settle(5000)
	let conv = T_conversation(socket)
	call assert_equal(1, s:count(conv, 'and mine'))
	call assert_equal(1, s:count(conv, 'shared: and mine'))
	call assert_equal(2, s:count(conv, label))
	call assert_equal('', aish#last_error())
endfunc

" The bridge killed while a chat is open: the next turn starts a new one,
" which follows the chat again and brings what was said meanwhile, once.
func Test_chat_after_bridge_killed() abort
	call s:fresh()
	let socket = T_make_socket('survivor', 600, 3)
	call s:open(socket, socket)
	call s:type_and_send('before')
	call assert_true(T_wait('T_ends_with("' . socket . '", ["survivor: before"])', 5000))
	call system('kill -9 ' . aish#rpc#pid())
	call assert_true(T_wait('!aish#rpc#running()', 5000), 'the bridge did not end')
	let aish = fnamemodify($AISH_TEST_BRIDGE, ':h') . '/aish'
	call system(shellescape(aish) . ' -r ' . shellescape($AISH_TEST_URL) . ' -c '
		\ . shellescape('echo "meanwhile" | ' . socket))
	call aish#clear_messages()
	call s:type_and_send('after')
	call assert_true(T_wait('index(T_conversation("' . socket . '"), "survivor: after") >= 0'
		\ . ' && index(T_conversation("' . socket . '"), "survivor: meanwhile") >= 0', 5000),
		\ 'the new bridge did not bring every turn')
	call T_settle(5000)
	" Live again: a turn from elsewhere arrives.
	call system(shellescape(aish) . ' -r ' . shellescape($AISH_TEST_URL) . ' -c '
		\ . shellescape('echo "later" | ' . socket))
	call assert_true(T_wait('T_ends_with("' . socket . '", ["survivor: later"])', 5000),
		\ 'the chat no longer follows the socket')
	let conv = T_conversation(socket)
	let expected = []
	for line in ['before', 'meanwhile', 'after', 'later']
		let expected += ['[You]', line, '[From Survivor (' . socket . ')]', 'survivor: ' . line]
	endfor
	call assert_equal(expected, conv)
	call assert_equal('', aish#last_error())
endfunc

" Editing the chat mid-stream, as a user may: deleting earlier turns,
" typing at the end of the line the reply streams into, deleting the
" separator, typing in the prompt.  No error; every piece of the reply
" arrives; the next turn works and the separator is back.
func Test_chat_edited_midstream() abort
	call s:fresh()
	let socket = T_make_socket('edited', 1200, 6)
	call s:open(socket, socket)
	call s:type_and_send('one two three four five six seven eight nine ten')
	call assert_true(T_wait('len(T_conversation("' . socket . '")) >= 4', 5000), 'nothing streamed')
	" The line the reply streams into.
	call feedkeys("ggdd/^edited: \<CR>A MINE\<Esc>", 'xt')
	call feedkeys('/^----' . "\<CR>dd", 'xt')
	call feedkeys("Godraft\<Esc>", 'xt')
	call T_settle(10000)
	let lines = T_chat_lines(socket)
	call assert_true(index(lines, '[From Edited (' . socket . ')] (continued)') > 0,
		\ 'the reply did not go on after the edited line')
	let text = join(lines, ' ')
	for word in ['two', 'five', 'ten']
		call assert_match(word, text, word . ' is lost')
	endfor
	" The prompt is what follows the last turn: "draft" goes with the next.
	call s:type_and_send(' and more')
	call assert_true(T_wait('T_ends_with("' . socket . '", ["edited: draft and more"])', 5000),
		\ 'the next turn did not work')
	call assert_equal([s:separator, ''], T_chat_lines(socket)[-2:])
	call assert_equal('', aish#last_error())
	call assert_equal([], filter(split(execute('messages'), "\n"), 'v:val =~# "^E\\d\\+:"'))
endfunc

" :AishChat -g duo: a chat with a team, each member's reply labelled, the
" question once; reopened, the same.
func Test_chat_team() abort
	call s:fresh()
	call s:open('-g duo', 'team-chat-duo')
	call s:type_and_send('hello team')
	call assert_true(T_wait('len(filter(T_conversation("team-chat-duo"), "v:val =~# \"^a\\\\(thena\\\\|pollo\\\\): hello team$\"")) == 2',
		\ 10000), 'not every member answered')
	call T_settle(5000)
	let conv = T_conversation('team-chat-duo')
	call assert_equal(1, s:count(conv, 'hello team'))
	call assert_equal(1, s:count(conv, '[From Athena]'))
	call assert_equal(1, s:count(conv, '[From Apollo]'))
	call s:fresh()
	call s:open('-g duo', 'team-chat-duo')
	" The same turns (the members' replies of one round in the order the
	" server stored them, which may not be the order they came in).
	let again = T_conversation('team-chat-duo')
	call assert_equal(conv[:1], again[:1])
	call assert_equal(sort(copy(conv)), sort(copy(again)))
	" -g all: the whole team.
	call s:open('-g all', 'team-chat-all')
	call s:type_and_send('hello all')
	call assert_true(T_wait('index(T_conversation("team-chat-all"), "hermes: hello all") >= 0', 10000),
		\ 'the whole team was not asked')
	call T_settle(15000)
	let conv = T_conversation('team-chat-all')
	call assert_equal(1, s:count(conv, 'hello all'))
	call assert_equal(1, s:count(conv, 'apollo: hello all'))
	call assert_equal([], filter(copy(conv), 'v:val =~# "^\\[error\\]"'))
	call assert_equal('', aish#last_error())
endfunc

" :AishCancel while a chat reply streams: the turn ends with
" "[cancelled]"; the chat goes on.
func Test_chat_cancel() abort
	call s:fresh()
	let socket = T_make_socket('stopped', 3000, 3)
	call s:open(socket, socket)
	call s:type_and_send('too slow')
	call assert_true(T_wait('aish#busy() == 1', 2000))
	AishCancel
	call T_settle(3000)
	let conv = T_conversation(socket)
	if get(conv, -1, '') !=# '[cancelled]'
		AishLog
		call assert_report('no [cancelled] at the end: ' . string(conv) . '; log: '
			\ . join(getbufline(bufnr('aish://log'), 1, '$'), ' / '))
	endif
endfunc

" Bad uses are one clear line each, never an exception.
func Test_chat_errors() abort
	call s:fresh()
	AishChat
	call assert_match('give one AI or -g GROUP', aish#last_error())
	AishChat nosuchai
	call T_settle(5000)
	call assert_match('unknown AI "nosuchai"', aish#last_error())
	call assert_equal(-1, T_chat_buf('nosuchai'))
	AishChat -g nosuchgroup
	call T_settle(5000)
	call assert_match('unknown group "nosuchgroup"', aish#last_error())
	AishChatSend
	call assert_match('not a chat buffer', aish#last_error())
	call s:open('apollo', 'apollo')
	call aish#clear_messages()
	call feedkeys("\<CR>", 'xt')
	call assert_match('type a message below the line first', aish#last_error())
endfunc

" <Tab> after :AishChat completes AI names and -g, after -g the groups.
func Test_chat_complete() abort
	call s:fresh()
	call aish#complete#refresh()
	call assert_true(T_wait('index(aish#complete#names().ais, "apollo") >= 0', 5000))
	call assert_equal(['apollo'], getcompletion('AishChat apo', 'cmdline'))
	call assert_true(index(getcompletion('AishChat ', 'cmdline'), '-g') >= 0)
	call assert_equal(['duo'], getcompletion('AishChat -g du', 'cmdline'))
	call assert_equal([], getcompletion('AishChat apollo ', 'cmdline'))
endfunc

call T_run_all()
qall!
