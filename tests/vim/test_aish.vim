" tests/vim/test_aish.vim: the commands of the aish plugin (pipe, replace,
" team chat, send, list, cancel, log) and their errors, in Vim and Neovim.
" tests/vim/setup.vim says how the tests run.

execute 'source' fnameescape(expand('<sfile>:p:h') . '/setup.vim')

func Test_pipe_two_stages() abort
	call T_fresh(['Design a cache'])
	Aish athena | apollo
	call T_settle(10000)
	call assert_equal(['== athena | apollo', '[From Athena]', 'athena: Design a cache',
		\ '[From Apollo]', 'apollo: athena: Design a cache'], T_output())
	call assert_equal('', aish#last_error())
endfunc

func Test_pipe_with_instruction() abort
	call T_fresh(['one', 'this are wrong', 'three'])
	2Aish apollo fix the grammar
	call T_settle(10000)
	call assert_equal(['== apollo fix the grammar', '[From Apollo]',
		\ 'apollo: fix the grammar', '', 'this are wrong'], T_output())
	call assert_equal('', aish#last_error())
	2AishReplace athena review this | apollo "sum it up"
	call T_settle(10000)
	call assert_equal(['one', 'apollo: sum it up', '', 'athena: review this', '',
		\ 'this are wrong', 'three'], getline(1, '$'))
endfunc

func Test_pipe_range_of_lines() abort
	call T_fresh(['one', 'two', 'three'])
	2,3Aish apollo
	call T_settle(10000)
	call assert_equal(['== apollo', '[From Apollo]', 'apollo: two', 'three'], T_output())
endfunc

func Test_replace() abort
	call T_fresh(['one', 'two', 'three'])
	2AishReplace apollo
	call T_settle(10000)
	call assert_equal(['one', 'apollo: two', 'three'], getline(1, '$'))
	1,2AishReplace athena
	call T_settle(10000)
	call assert_equal(['athena: one', 'apollo: two', 'three'], getline(1, '$'))
	%AishReplace hermes | numa
	call T_settle(10000)
	call assert_equal(['numa: hermes: athena: one', 'apollo: two', 'three'], getline(1, '$'))
endfunc

" An edit inside the range makes :AishReplace refuse: the output goes to
" aish://output and the text stays as the user left it.
func Test_replace_refused_after_edit() abort
	call T_fresh(['keep me', 'two'])
	execute '1AishReplace' $AISH_TEST_SLOW
	call setline(1, 'edited meanwhile')
	call T_settle(10000)
	call assert_equal(['edited meanwhile', 'two'], getline(1, '$'))
	call assert_match('changed', aish#last_notice())
	call assert_equal('slow: keep me', T_output()[-1])
endfunc

" Edits elsewhere in the buffer (typed as a user types them, above and
" below the range) do not stop :AishReplace, which follows the range.
func Test_replace_follows_range() abort
	call T_fresh(['one', 'two', 'three', 'four'])
	execute '2,3AishReplace' $AISH_TEST_SLOW
	call assert_true(T_wait('aish#status() =~# "slow"', 3000), 'no progress')
	execute "normal! ggOabove\<Esc>"
	execute "normal! Gobelow\<Esc>"
	execute "normal! 5G0x"
	call T_settle(10000)
	call assert_equal(['above', 'one', 'slow: two', 'three', 'our', 'below'], getline(1, '$'))
	call assert_match('replaced lines 3-4', aish#last_notice())
endfunc

func Test_streaming_and_status() abort
	call T_fresh(['abcdefghijklmnopqrstuvwxyz'])
	execute 'Aish' $AISH_TEST_SLOW
	let final = 'slow: abcdefghijklmnopqrstuvwxyz'
	let partial = 0
	let status = ''
	let start = reltime()
	while aish#busy() && reltimefloat(reltime(start)) < 10
		let out = T_output()
		if len(out) == 3 && out[2] !=# '' && out[2] !=# final
			\ && stridx(final, out[2]) == 0
			let partial += 1
		endif
		if status ==# ''
			let status = aish#status()
		endif
		sleep 10m
	endwhile
	call assert_equal(0, aish#busy())
	call assert_true(partial > 0, 'no partial output seen while streaming')
	call assert_match('slow', status)
	call assert_equal(final, T_output()[-1])
	call assert_equal('', aish#status())
endfunc

" A stage that names a socket is labelled with its AI's name (SPEC 4), and
" with the socket when it is not the AI's own.
func Test_labels_name_the_ai() abort
	call T_fresh(['label me'])
	execute 'Aish' $AISH_TEST_SLOW
	call T_settle(10000)
	call assert_equal(['== slow-1', '[From Slow (slow-1)]', 'slow: label me'], T_output())
endfunc

func Test_team_chat() abort
	call T_fresh([])
	AishTeamChat is a pipe | a filter?
	call T_settle(15000)
	let out = T_output()
	call assert_equal('== team chat: is a pipe | a filter?', out[0])
	for ai in ['apollo', 'athena', 'hermes', 'sophia', 'telos']
		let label = index(out, '[From ' . toupper(ai[0]) . ai[1:] . ']')
		call assert_true(label > 0, 'no label for ' . ai)
		call assert_equal(ai . ': is a pipe | a filter?', get(out, label + 1, ''))
	endfor
	call assert_true(len(filter(copy(out), 'v:val =~# "^\\[From "')) >= 15,
		\ 'fewer than 15 team members answered')
endfunc

" tests/editor-vim.sh made the group "duo" of athena and apollo.
func Test_team_chat_group() abort
	for cmd in ['AishTeamChat -g duo what is a cache?', 'AishTeamChat -gduo what is a cache?']
		call T_fresh([])
		execute cmd
		call T_settle(15000)
		let out = T_output()
		call assert_equal('== team chat duo: what is a cache?', get(out, 0, ''), cmd)
		call assert_equal(['[From Apollo]', '[From Athena]'], sort(T_labels(out)), cmd)
		call assert_equal('apollo: what is a cache?', T_section_text(out, '[From Apollo]'), cmd)
		call assert_equal('athena: what is a cache?', T_section_text(out, '[From Athena]'), cmd)
		call assert_equal(5, len(out), cmd)
		call assert_equal('', aish#last_error(), cmd)
		call assert_match('2 replies', aish#last_notice(), cmd)
	endfor
endfunc

" With --synthesize, the moderator's synthesis is the block's last section.
func Test_team_chat_synthesis() abort
	call T_fresh([])
	AishTeamChat --synthesize -g duo one word for caching?
	call T_settle(15000)
	let out = T_output()
	call assert_equal('== team chat duo with synthesis: one word for caching?', get(out, 0, ''))
	let labels = T_labels(out)
	call assert_equal(3, len(labels))
	call assert_equal(['[From Apollo]', '[From Athena]'], sort(labels[0:1]))
	call assert_equal('[From Rhetor] (synthesis)', get(labels, 2, ''))
	let text = T_section_text(out, '[From Rhetor] (synthesis)')
	call assert_match('^rhetor: ', text)
	call assert_match('apollo: one word for caching?', text)
	call assert_match('athena: one word for caching?', text)
	call assert_equal('athena: one word for caching?', T_section_text(out, '[From Athena]'))
	call assert_equal('', aish#last_error())
endfunc

" The synthesis section shows as soon as the moderator begins (progress
" stage 1) and stays last while a slow member streams above it.
func Test_team_chat_synthesis_streams() abort
	call T_fresh([])
	AishTeamChat --synthesize -g slowduo stream me
	let seen = 0
	let start = reltime()
	while aish#busy() && reltimefloat(reltime(start)) < 15
		let out = T_output()
		let labels = T_labels(out)
		let partial = T_section_text(out, '[From Slow (slow-1)]')
		if get(labels, -1, '') ==# '[From Rhetor] (synthesis)'
			\ && partial !=# '' && partial !=# 'slow: stream me'
			let seen += 1
		endif
		sleep 10m
	endwhile
	call T_settle(1000)
	call assert_true(seen > 0, 'no synthesis section below a streaming member')
	let out = T_output()
	call assert_equal(['[From Apollo]', '[From Slow (slow-1)]', '[From Rhetor] (synthesis)'],
		\ sort(T_labels(out)[0:1]) + T_labels(out)[2:])
	call assert_equal('slow: stream me', T_section_text(out, '[From Slow (slow-1)]'))
	call assert_match('^rhetor: .*\[slow-1\] slow: stream me',
		\ T_section_text(out, '[From Rhetor] (synthesis)'))
endfunc

func Test_team_chat_bad_arguments() abort
	call T_fresh([])
	AishTeamChat -g
	call assert_match('-g needs a group', aish#last_error())
	call aish#clear_messages()
	AishTeamChat --synthesize
	call assert_match('give a message', aish#last_error())
	call aish#clear_messages()
	AishTeamChat --bogus hello
	call assert_match('unknown option "--bogus"', aish#last_error())
	call assert_equal(0, aish#busy())
	call aish#clear_messages()
	AishTeamChat -- -1 is a number
	call T_settle(15000)
	call assert_equal('== team chat: -1 is a number', get(T_output(), 0, ''))
	call assert_equal('', aish#last_error())
	call T_fresh([])
	AishTeamChat -g nosuchgroup hello
	call T_settle(10000)
	call assert_match('nosuchgroup', aish#last_error())
	call assert_match('^\[error\]', T_output()[-1])
endfunc

func Test_send() abort
	call T_fresh([])
	AishSend athena hi | there
	call T_settle(10000)
	call assert_equal(['== send to athena', '[From Athena]', 'athena: hi | there'], T_output())
endfunc

func Test_list() abort
	call T_fresh([])
	AishList
	call T_settle(10000)
	let out = T_output()
	call assert_match('^SOCKET', get(out, 1, ''))
	call assert_true(len(filter(copy(out), 'v:val =~# "^apollo\\s\\+apollo"')) == 1,
		\ 'apollo is not listed')
endfunc

func Test_cancel() abort
	call T_fresh(['cancel me'])
	execute 'Aish' $AISH_TEST_SLOWER
	call assert_true(T_wait('aish#busy() == 1 && aish#status() != ""', 2000))
	sleep 300m
	let start = reltime()
	AishCancel
	call T_settle(3000)
	call assert_true(reltimefloat(reltime(start)) < 2.5, 'cancel took too long')
	call assert_equal('[cancelled]', T_output()[-1])
	call assert_match('cancelled', aish#last_notice())
	call assert_equal('', aish#last_error())
endfunc

func Test_multibyte() abort
	let text = ['héllo wörld — ✓ 日本語 😀', 'ünïcödé ∑ ﬁ e' . "\u0301"]
	call T_fresh(text)
	%Aish apollo
	call T_settle(10000)
	call T_same_lines(['== apollo', '[From Apollo]', 'apollo: ' . text[0], text[1]],
		\ T_output(), 'multibyte pipe')
	%AishReplace athena
	call T_settle(10000)
	call T_same_lines(['athena: ' . text[0], text[1]], getline(1, '$'), 'multibyte replace')
endfunc

func Test_one_megabyte_selection() abort
	let lines = map(range(16384), {i -> printf('%05d ', i) . repeat('x', 57)})
	call T_fresh(lines)
	call assert_equal(1048576, line2byte(line('$') + 1) - 1)
	%AishReplace apollo
	call T_settle(60000)
	call assert_equal('', aish#last_error())
	call T_same_lines(['apollo: ' . lines[0]] + lines[1:], getline(1, '$'), '1 MB replace')
	%Aish athena
	call T_settle(60000)
	let out = T_output()
	call T_same_lines(['== athena', '[From Athena]', 'athena: apollo: ' . lines[0]] + lines[1:],
		\ out, '1 MB pipe')
endfunc

func Test_unknown_ai() abort
	call T_fresh(['x'])
	Aish apolo
	call T_settle(10000)
	call assert_match('unknown AI "apolo" (did you mean apollo?)', aish#last_error())
	call assert_match('^\[error\]', T_output()[-1])
endfunc

func Test_bad_pipeline_argument() abort
	call T_fresh(['x'])
	Aish athena | | apollo
	call assert_match('give a pipeline', aish#last_error())
	call assert_equal(0, aish#busy())
endfunc

func Test_server_down() abort
	call aish#stop()
	let g:aish_rhetor_url = 'http://127.0.0.1:1'
	try
		call T_fresh(['x'])
		Aish apollo
		call T_settle(15000)
		call assert_match('\c\(unreachable\|reach\|connect\|refused\)', aish#last_error())
		call assert_match('http://127.0.0.1:1\>', aish#last_error())
		call assert_match('^\[error\]', T_output()[-1])
	finally
		call aish#stop()
		let g:aish_rhetor_url = $AISH_TEST_URL
	endtry
endfunc

func Test_bridge_missing() abort
	call aish#stop()
	let saved = g:aish_bridge_cmd
	let g:aish_bridge_cmd = ['/nonexistent/aish-bridge']
	try
		call T_fresh(['x'])
		Aish apollo
		call assert_match('not an executable', aish#last_error())
		call assert_equal(0, aish#busy())
	finally
		let g:aish_bridge_cmd = saved
	endtry
endfunc

func Test_log_has_messages() abort
	call T_fresh(['log me'])
	Aish apollo
	call T_settle(10000)
	AishLog
	let log = getbufline(bufnr('aish://log'), 1, '$')
	call assert_true(len(filter(copy(log), 'v:val =~# "message from apollo .*apollo: log me"')) > 0,
		\ 'no aish/message from apollo in the log')
endfunc

call T_run_all()
qall!
