" tests/vim/shared_chat.vim: one participant of tests/editor-shared-chat.sh,
" in Vim or Neovim: a user who opens the chat of SHARED_SOCKET, says so
" (SHARED_DIR/NAME.open), waits until every participant (SHARED_ALL) has
" it open and the one before (SHARED_PREV) got its reply, types "from
" NAME" and sends it with <CR>, waits for the last participant's reply
" (SHARED_LAST), then writes the conversation to SHARED_OUT.  With
" SHARED_REOPEN set it only opens the chat and writes what it shows.
" Every other participant's reply must be seen streaming.  One "ok"/"not
" ok" line goes to AISH_TEST_RESULT, then "done".

execute 'source' fnameescape(expand('<sfile>:p:h') . '/setup.vim')

let s:separator = '---- type below this line; <CR> in Normal mode sends ----'
let s:partial = {}    " participant -> 1 once part of its reply was seen

" The conversation of the chat: the lines above the separator.
func T_shared_conversation() abort
	let nr = bufnr('^aish://chat/' . $SHARED_SOCKET . '$')
	let lines = nr < 0 ? [] : getbufline(nr, 1, '$')
	let i = index(lines, s:separator)
	return i < 0 ? [] : lines[: i - 1]
endfunc

" Whether the conversation has the reply to NAME's turn; notes the
" replies seen only in part meanwhile.
func T_shared_has_reply(name) abort
	for line in T_shared_conversation()
		for who in split($SHARED_ALL)
			let whole = $SHARED_AI . ': from ' . who
			if line !=# whole && line =~# '^' . $SHARED_AI . ': ' && stridx(whole, line) == 0
				let s:partial[who] = 1
			endif
		endfor
	endfor
	return index(T_shared_conversation(), $SHARED_AI . ': from ' . a:name) >= 0
endfunc

" Whether every participant has the chat open.
func T_shared_all_open() abort
	for who in split($SHARED_ALL)
		if !filereadable($SHARED_DIR . '/' . who . '.open')
			return 0
		endif
	endfor
	return 1
endfunc

" The participant's part, as a user does it.
func Test_shared_chat() abort
	let me = $SHARED_NAME
	call feedkeys(':AishChat ' . $SHARED_SOCKET . "\<CR>", 'xt')
	call assert_true(T_wait('bufname("%") ==# "aish://chat/' . $SHARED_SOCKET . '"'
		\ . ' && index(getline(1, "$"), "(loading the conversation)") < 0', 10000),
		\ 'the chat did not open')
	if empty($SHARED_REOPEN)
		call writefile([], $SHARED_DIR . '/' . me . '.open')
		call assert_true(T_wait('T_shared_all_open()', 30000), 'not every editor opened the chat')
		if !empty($SHARED_PREV)
			call assert_true(T_wait('T_shared_has_reply($SHARED_PREV)', 30000),
				\ 'the reply to ' . $SHARED_PREV . ' did not show')
		endif
		call feedkeys('GAfrom ' . me . "\<Esc>\<CR>", 'xt')
		call assert_true(T_wait('T_shared_has_reply($SHARED_NAME) && T_shared_has_reply($SHARED_LAST)', 30000),
			\ 'the replies did not all show')
		call T_settle(10000)
		for who in split($SHARED_ALL)
			if who !=# me
				call assert_true(has_key(s:partial, who), 'the reply to ' . who . ' did not stream')
			endif
		endfor
	endif
	call writefile(T_shared_conversation(), $SHARED_OUT)
	call assert_equal('', aish#last_error())
endfunc

call T_run_all()
qall!
