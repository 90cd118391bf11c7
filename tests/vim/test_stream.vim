" tests/vim/test_stream.vim: what a user meets while replies stream, in
" Vim and Neovim: the output window follows the newest text (current or
" not) unless its cursor was moved away; editing or emptying aish://output
" mid-stream raises no error and the rest still arrives; :AishCancel
" cancels the newest request, or the one under the cursor, :AishCancel!
" all; a killed bridge is said plainly and the next command starts a new
" one; one-shot requests and the silence limit.  tests/vim/setup.vim says
" how the tests run.

execute 'source' fnameescape(expand('<sfile>:p:h') . '/setup.vim')

" The window showing aish://output, 0 when none.
func s:output_win() abort
	return bufwinid('aish://output')
endfunc

" The text a slow echo AI answers to LINES (its name and the input).
func s:slow_answer(name, lines) abort
	return a:name . ': ' . join(a:lines, "\n")
endfunc

" The window of aish://output, not the current one, keeps its cursor on
" the newest line while the reply streams; one where the user went up
" stays there.
func Test_output_follows() abort
	let lines = map(range(1, 40), '"line " . v:val')
	call T_fresh(lines)
	execute '%Aish' $AISH_TEST_SLOWER
	let win = s:output_win()
	call assert_true(win > 0, 'no output window')
	call assert_notequal(win, win_getid(), 'the cursor left the user''s window')
	let seen = 0
	let start = reltime()
	while aish#busy() && reltimefloat(reltime(start)) < 10
		if line('$', win) > 3
			call assert_equal(line('$', win), line('.', win), 'the cursor is not on the last line')
			let seen += 1
		endif
		sleep 20m
	endwhile
	call T_settle(1000)
	call assert_true(seen > 0, 'no partial output seen')
	call assert_equal(line('$', win), line('.', win))
	call assert_equal('line 40', T_output()[-1])

	" The user goes to the top of the output: it stays there.
	call win_execute(win, 'normal! gg')
	execute '%Aish' $AISH_TEST_SLOW
	call T_settle(10000)
	call assert_equal(1, line('.', win))
	call assert_equal('line 40', T_output()[-1])
	call assert_equal('', aish#last_error())
endfunc

" Emptying aish://output mid-stream (ggdG typed in its window): no error,
" and the rest of the reply arrives under the section's label.
func Test_output_emptied_midstream() abort
	let lines = map(range(1, 40), '"line " . v:val')
	call T_fresh(lines)
	execute '%Aish' $AISH_TEST_SLOWER
	call assert_true(T_wait('len(T_output()) > 3', 5000), 'nothing streamed')
	call win_gotoid(s:output_win())
	normal! ggdG
	wincmd p
	call assert_equal([''], T_output())
	call T_settle(10000)
	let out = T_output()
	call assert_equal('line 40', out[-1])
	call assert_equal(-1, index(out, 'slower: line 1'), 'text came twice')
	call assert_true(len(out) > 2, 'the rest of the reply did not arrive')
	call assert_equal('', aish#last_error())
	call assert_match('done', aish#last_notice())
	call assert_equal([], filter(split(execute('messages'), "\n"), 'v:val =~# "^E\\d\\+:"'))
endfunc

" Typing on the line the stream writes to, deleting lines above it and
" adding lines elsewhere: the reply goes on, whole, after the user's text.
func Test_output_edited_midstream() abort
	let lines = map(range(1, 40), '"line " . v:val')
	call T_fresh(lines)
	execute '%Aish' $AISH_TEST_SLOWER
	call assert_true(T_wait('len(T_output()) > 5', 5000), 'nothing streamed')
	call win_gotoid(s:output_win())
	" Lines above move the section; it keeps streaming where it is.
	execute "normal! ggOa note of mine\<Esc>"
	call assert_true(T_wait('len(T_output()) > 12', 5000), 'no more text')
	execute "normal! GA typed\<Esc>"
	let typed = getline('$')
	wincmd p
	call T_settle(10000)
	let out = T_output()
	call assert_equal('a note of mine', out[0])
	call assert_equal('== slower-1', out[1])
	call assert_equal('[From Slower (slower-1)]', out[2])
	call assert_equal('slower: line 1', out[3])
	call assert_true(index(out, typed) > 0, 'the typed line is gone')
	call assert_true(index(out, '[From Slower (slower-1)] (continued)') > index(out, typed))
	call assert_equal('line 40', out[-1])
	" Every line of the reply is there, once, around the user's edit.
	let reply = split(s:slow_answer('slower', lines), "\n")
	let got = filter(copy(out[3:]), 'v:val !~# "^\\[From " && v:val !=# typed')
	call assert_true(len(got) >= len(reply) - 1, 'lines were lost')
	call assert_equal('', aish#last_error())
endfunc

" :AishCancel cancels the newest request; the older one still answers.
func Test_cancel_newest() abort
	call T_fresh(['first'])
	execute 'Aish' $AISH_TEST_SLOWER
	call setline(1, 'second')
	execute 'Aish' $AISH_TEST_SLOWER
	call assert_true(T_wait('aish#busy() == 2', 2000))
	AishCancel
	call assert_true(T_wait('aish#busy() == 1', 2000), 'the newest did not end')
	call T_settle(10000)
	let out = T_output()
	call assert_true(index(out, 'slower: first') > 0, 'the older request was cancelled')
	call assert_equal(-1, index(out, 'slower: second'))
	call assert_equal('[cancelled]', out[-1])
endfunc

" :AishCancel in aish://output cancels the request whose block holds the
" cursor; :AishCancel! cancels every one.
func Test_cancel_under_cursor_and_all() abort
	call T_fresh(['first'])
	execute 'Aish' $AISH_TEST_SLOWER
	call setline(1, 'second')
	execute 'Aish' $AISH_TEST_SLOWER
	call assert_true(T_wait('aish#busy() == 2', 2000))
	call win_gotoid(s:output_win())
	normal! gg
	AishCancel
	wincmd p
	call assert_true(T_wait('aish#busy() == 1', 2000), 'nothing was cancelled')
	let out = T_output()
	let second = index(out, '== slower-1', 1)
	call assert_true(second > 0, 'no second block')
	call assert_equal(['[cancelled]'], filter(out[: second - 1], 'v:val ==# "[cancelled]"'),
		\ 'the first request was not the one cancelled')
	call setline(1, 'third')
	execute 'Aish' $AISH_TEST_SLOWER
	call assert_true(T_wait('aish#busy() == 2', 2000))
	AishCancel!
	call T_settle(3000)
	let out = T_output()
	call assert_equal(3, len(filter(copy(out), 'v:val ==# "[cancelled]"')))
	call assert_equal(-1, index(out, 'slower: second'))
	call assert_equal('', aish#last_error())
endfunc

" A killed bridge is said plainly ("killed", not "status -1"), and the next
" command starts a new one.
func Test_bridge_killed() abort
	call T_fresh(['kill me'])
	execute 'Aish' $AISH_TEST_SLOWER
	call assert_true(T_wait('aish#rpc#pid() > 0 && aish#busy() == 1', 3000))
	call system('kill -9 ' . aish#rpc#pid())
	call T_settle(5000)
	call assert_match('aish-bridge was killed (signal \(9\|kill\))', aish#last_error())
	call assert_notmatch('status', aish#last_error())
	call assert_match('^\[error\] aish-bridge was killed', T_output()[-1])
	call aish#clear_messages()
	Aish apollo
	call T_settle(10000)
	call assert_equal('apollo: kill me', T_output()[-1])
	call assert_equal('', aish#last_error())
endfunc

" The history of SOCKET (its turns' contents), through aish/history.
func s:history(socket) abort
	let g:T_turns = v:null
	call aish#rpc#request(#{method: 'aish/history', params: #{socket_id: a:socket},
		\ quiet: 1, on_result: function('s:got_history')})
	call T_wait('g:T_turns isnot v:null', 5000)
	return map(copy(g:T_turns), 'v:val.content')
endfunc

" The answer to aish/history.
func s:got_history(req, result) abort
	let g:T_turns = a:result.turns
endfunc

" Commands are one-shot (fresh) unless g:aish_keep_history.
func Test_fresh_unless_keep_history() abort
	call T_fresh(['one-shot text'])
	Aish hermes
	call T_settle(10000)
	call assert_equal(-1, index(s:history('hermes'), 'one-shot text'))
	let g:aish_keep_history = 1
	try
		call setline(1, 'kept text')
		Aish hermes
		call T_settle(10000)
		call assert_true(index(s:history('hermes'), 'kept text') >= 0, 'not in the history')
	finally
		unlet g:aish_keep_history
	endtry
endfunc

" g:aish_timeout_ms is the silence limit: a slow AI's pieces come 1 s
" apart, so 300 ms of silence ends the request.
func Test_timeout_ms() abort
	call T_fresh(['wait for me'])
	let g:aish_timeout_ms = 300
	try
		execute 'Aish' $AISH_TEST_SLOWER
		call T_settle(5000)
		call assert_match('timed out', aish#last_error())
	finally
		unlet g:aish_timeout_ms
	endtry
	call aish#clear_messages()
	let g:aish_timeout_ms = 3000
	try
		execute 'Aish' $AISH_TEST_SLOWER
		call T_settle(10000)
		call assert_equal('', aish#last_error())
		call assert_equal('slower: wait for me', T_output()[-1])
	finally
		unlet g:aish_timeout_ms
	endtry
endfunc

call T_run_all()
qall!
