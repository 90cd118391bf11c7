" tests/vim/test_aish.vim: the aish Vim plugin, run inside a headless Vim
" (vim -Nu NONE -i NONE -es; the Neovim plugin too, in nvim --headless)
" against a real aish-bridge and aish-rhetor with the echo provider.
" tests/editor-vim.sh (and editor-nvim.sh) set the environment:
"   AISH_TEST_SRCDIR  the source tree (the plugin is editors/vim in it)
"   AISH_TEST_PLUGIN  another plugin directory (editors/nvim for Neovim)
"   AISH_TEST_BRIDGE  the aish-bridge program
"   AISH_TEST_URL     the test server
"   AISH_TEST_SLOW    a socket that answers in 800 ms in 4 chunks
"   AISH_TEST_SLOWER  a socket that answers in 4 s in 4 chunks
"   AISH_TEST_RESULT  the file that receives one "ok"/"not ok" line a test
" and make the groups "duo" (athena, apollo) and "slowduo" (the slow
" socket, apollo).
" The verdict is v:errors, written to AISH_TEST_RESULT: the exit status of
" vim -es says little.

set nocompatible
execute 'set runtimepath^=' . fnameescape(empty($AISH_TEST_PLUGIN)
	\ ? $AISH_TEST_SRCDIR . '/editors/vim' : $AISH_TEST_PLUGIN)
runtime! plugin/aish.vim plugin/aish.lua
let g:aish_bridge_cmd = [$AISH_TEST_BRIDGE, '--no-spawn']
let g:aish_rhetor_url = $AISH_TEST_URL
let s:label = has('nvim') ? 'nvim' : 'vim'

" Waits (polling, so that channel callbacks run) until EXPR is true or MS
" milliseconds pass; returns whether EXPR became true.
func s:wait(expr, ms) abort
	let start = reltime()
	while !eval(a:expr)
		if reltimefloat(reltime(start)) * 1000 > a:ms
			return 0
		endif
		sleep 10m
	endwhile
	return 1
endfunc

" Waits for every request in flight to end (fails the test after MS).
func s:settle(ms) abort
	call assert_true(s:wait('aish#busy() == 0', a:ms), 'requests still in flight')
endfunc

" The lines of aish://output.
func s:output() abort
	return getbufline(bufnr('aish://output'), 1, '$')
endfunc

" Empties aish://output and starts a fresh buffer to work in.
func s:fresh(lines) abort
	let nr = bufnr('aish://output')
	if nr > 0 && bufloaded(nr)
		silent call deletebufline(nr, 1, '$')
	endif
	enew!
	call setline(1, a:lines)
	call aish#clear_messages()
endfunc

" Compares two lists of lines without printing them (big, or multibyte,
" which Vim 9.0's assert messages mangle).
func s:same_lines(expected, actual, what) abort
	if a:expected ==# a:actual
		call assert_true(1)
		return
	endif
	let i = 0
	while i < len(a:expected) && i < len(a:actual) && a:expected[i] ==# a:actual[i]
		let i += 1
	endwhile
	call assert_report(printf('%s: %d lines expected, %d got; first difference at line %d (%d vs %d bytes)',
		\ a:what, len(a:expected), len(a:actual), i + 1,
		\ strlen(get(a:expected, i, '')), strlen(get(a:actual, i, ''))))
endfunc

func Test_pipe_two_stages() abort
	call s:fresh(['Design a cache'])
	Aish athena | apollo
	call s:settle(10000)
	call assert_equal(['== athena | apollo', '[From Athena]', 'athena: Design a cache',
		\ '[From Apollo]', 'apollo: athena: Design a cache'], s:output())
	call assert_equal('', aish#last_error())
endfunc

func Test_pipe_range_of_lines() abort
	call s:fresh(['one', 'two', 'three'])
	2,3Aish apollo
	call s:settle(10000)
	call assert_equal(['== apollo', '[From Apollo]', 'apollo: two', 'three'], s:output())
endfunc

func Test_replace() abort
	call s:fresh(['one', 'two', 'three'])
	2AishReplace apollo
	call s:settle(10000)
	call assert_equal(['one', 'apollo: two', 'three'], getline(1, '$'))
	1,2AishReplace athena
	call s:settle(10000)
	call assert_equal(['athena: one', 'apollo: two', 'three'], getline(1, '$'))
	%AishReplace hermes | numa
	call s:settle(10000)
	call assert_equal(['numa: hermes: athena: one', 'apollo: two', 'three'], getline(1, '$'))
endfunc

func Test_replace_refused_after_edit() abort
	call s:fresh(['keep me', 'two'])
	execute '1AishReplace' $AISH_TEST_SLOW
	call setline(2, 'edited meanwhile')
	call s:settle(10000)
	call assert_equal(['keep me', 'edited meanwhile'], getline(1, '$'))
	call assert_match('changed', aish#last_notice())
	call assert_equal('slow: keep me', s:output()[-1])
endfunc

func Test_streaming_and_status() abort
	call s:fresh(['abcdefghijklmnopqrstuvwxyz'])
	execute 'Aish' $AISH_TEST_SLOW
	let final = 'slow: abcdefghijklmnopqrstuvwxyz'
	let partial = 0
	let status = ''
	let start = reltime()
	while aish#busy() && reltimefloat(reltime(start)) < 10
		let out = s:output()
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
	call assert_equal(final, s:output()[-1])
	call assert_equal('', aish#status())
endfunc

" A stage that names a socket is labelled with its AI's name (SPEC 4).
func Test_labels_name_the_ai() abort
	call s:fresh(['label me'])
	execute 'Aish' $AISH_TEST_SLOW
	call s:settle(10000)
	call assert_equal(['== slow-1', '[From Slow]', 'slow: label me'], s:output())
endfunc

func Test_team_chat() abort
	call s:fresh([])
	AishTeamChat is a pipe | a filter?
	call s:settle(15000)
	let out = s:output()
	call assert_equal('== team chat: is a pipe | a filter?', out[0])
	for ai in ['apollo', 'athena', 'hermes', 'sophia', 'telos']
		let label = index(out, '[From ' . toupper(ai[0]) . ai[1:] . ']')
		call assert_true(label > 0, 'no label for ' . ai)
		call assert_equal(ai . ': is a pipe | a filter?', get(out, label + 1, ''))
	endfor
	call assert_true(len(filter(copy(out), 'v:val =~# "^\\[From "')) >= 15,
		\ 'fewer than 15 team members answered')
endfunc

" The labels of aish://output's sections, in order.
func s:labels(out) abort
	return filter(copy(a:out), 'v:val =~# "^\\[From "')
endfunc

" The text of the section labelled LABEL (up to the next label or note).
func s:section_text(out, label) abort
	let i = index(a:out, a:label)
	if i < 0
		return ''
	endif
	let lines = []
	for line in a:out[i + 1 :]
		if line =~# '^\[From \|^\[timed out\]\|^\[error\]'
			break
		endif
		call add(lines, line)
	endfor
	return join(lines, "\n")
endfunc

" tests/editor-vim.sh made the group "duo" of athena and apollo.
func Test_team_chat_group() abort
	for cmd in ['AishTeamChat -g duo what is a cache?', 'AishTeamChat -gduo what is a cache?']
		call s:fresh([])
		execute cmd
		call s:settle(15000)
		let out = s:output()
		call assert_equal('== team chat duo: what is a cache?', get(out, 0, ''), cmd)
		call assert_equal(['[From Apollo]', '[From Athena]'], sort(s:labels(out)), cmd)
		call assert_equal('apollo: what is a cache?', s:section_text(out, '[From Apollo]'), cmd)
		call assert_equal('athena: what is a cache?', s:section_text(out, '[From Athena]'), cmd)
		call assert_equal(5, len(out), cmd)
		call assert_equal('', aish#last_error(), cmd)
		call assert_match('2 replies', aish#last_notice(), cmd)
	endfor
endfunc

" With --synthesize, the moderator's synthesis is the block's last section.
func Test_team_chat_synthesis() abort
	call s:fresh([])
	AishTeamChat --synthesize -g duo one word for caching?
	call s:settle(15000)
	let out = s:output()
	call assert_equal('== team chat duo with synthesis: one word for caching?', get(out, 0, ''))
	let labels = s:labels(out)
	call assert_equal(3, len(labels))
	call assert_equal(['[From Apollo]', '[From Athena]'], sort(labels[0:1]))
	call assert_equal('[From Rhetor] (synthesis)', get(labels, 2, ''))
	let text = s:section_text(out, '[From Rhetor] (synthesis)')
	call assert_match('^rhetor: ', text)
	call assert_match('apollo: one word for caching?', text)
	call assert_match('athena: one word for caching?', text)
	call assert_equal('athena: one word for caching?', s:section_text(out, '[From Athena]'))
	call assert_equal('', aish#last_error())
endfunc

" The synthesis section shows as soon as the moderator begins (progress
" stage 1) and stays last while a slow member streams above it.
func Test_team_chat_synthesis_streams() abort
	call s:fresh([])
	AishTeamChat --synthesize -g slowduo stream me
	let seen = 0
	let start = reltime()
	while aish#busy() && reltimefloat(reltime(start)) < 15
		let out = s:output()
		let labels = s:labels(out)
		let partial = s:section_text(out, '[From Slow]')
		if get(labels, -1, '') ==# '[From Rhetor] (synthesis)'
			\ && partial !=# '' && partial !=# 'slow: stream me'
			let seen += 1
		endif
		sleep 10m
	endwhile
	call s:settle(1000)
	call assert_true(seen > 0, 'no synthesis section below a streaming member')
	let out = s:output()
	call assert_equal(['[From Apollo]', '[From Slow]', '[From Rhetor] (synthesis)'],
		\ sort(s:labels(out)[0:1]) + s:labels(out)[2:])
	call assert_equal('slow: stream me', s:section_text(out, '[From Slow]'))
	call assert_match('^rhetor: .*\[slow-1\] slow: stream me',
		\ s:section_text(out, '[From Rhetor] (synthesis)'))
endfunc

func Test_team_chat_bad_arguments() abort
	call s:fresh([])
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
	call s:settle(15000)
	call assert_equal('== team chat: -1 is a number', get(s:output(), 0, ''))
	call assert_equal('', aish#last_error())
	call s:fresh([])
	AishTeamChat -g nosuchgroup hello
	call s:settle(10000)
	call assert_match('nosuchgroup', aish#last_error())
	call assert_match('^\[error\]', s:output()[-1])
endfunc

func Test_send() abort
	call s:fresh([])
	AishSend athena hi | there
	call s:settle(10000)
	call assert_equal(['== send to athena', '[From Athena]', 'athena: hi | there'], s:output())
endfunc

func Test_list() abort
	call s:fresh([])
	AishList
	call s:settle(10000)
	let out = s:output()
	call assert_match('^SOCKET', get(out, 1, ''))
	call assert_true(len(filter(copy(out), 'v:val =~# "^apollo\\s\\+apollo"')) == 1,
		\ 'apollo is not listed')
endfunc

func Test_cancel() abort
	call s:fresh(['cancel me'])
	execute 'Aish' $AISH_TEST_SLOWER
	call assert_true(s:wait('aish#busy() == 1 && aish#status() != ""', 2000))
	sleep 300m
	let start = reltime()
	AishCancel
	call s:settle(3000)
	call assert_true(reltimefloat(reltime(start)) < 2.5, 'cancel took too long')
	call assert_equal('[cancelled]', s:output()[-1])
	call assert_match('cancelled', aish#last_notice())
	call assert_equal('', aish#last_error())
endfunc

func Test_multibyte() abort
	let text = ['héllo wörld — ✓ 日本語 😀', 'ünïcödé ∑ ﬁ e' . "\u0301"]
	call s:fresh(text)
	%Aish apollo
	call s:settle(10000)
	call s:same_lines(['== apollo', '[From Apollo]', 'apollo: ' . text[0], text[1]],
		\ s:output(), 'multibyte pipe')
	%AishReplace athena
	call s:settle(10000)
	call s:same_lines(['athena: ' . text[0], text[1]], getline(1, '$'), 'multibyte replace')
endfunc

func Test_one_megabyte_selection() abort
	let lines = map(range(16384), {i -> printf('%05d ', i) . repeat('x', 57)})
	call s:fresh(lines)
	call assert_equal(1048576, line2byte(line('$') + 1) - 1)
	%AishReplace apollo
	call s:settle(60000)
	call assert_equal('', aish#last_error())
	call s:same_lines(['apollo: ' . lines[0]] + lines[1:], getline(1, '$'), '1 MB replace')
	%Aish athena
	call s:settle(60000)
	let out = s:output()
	call s:same_lines(['== athena', '[From Athena]', 'athena: apollo: ' . lines[0]] + lines[1:],
		\ out, '1 MB pipe')
endfunc

func Test_unknown_ai() abort
	call s:fresh(['x'])
	Aish nosuchai
	call s:settle(10000)
	call assert_match('nosuchai', aish#last_error())
	call assert_match('apollo', aish#last_error())
	call assert_match('^\[error\]', s:output()[-1])
endfunc

func Test_bad_pipeline_argument() abort
	call s:fresh(['x'])
	Aish athena | | apollo
	call assert_match('give a pipeline', aish#last_error())
	call assert_equal(0, aish#busy())
endfunc

func Test_server_down() abort
	call aish#stop()
	let g:aish_rhetor_url = 'http://127.0.0.1:1'
	try
		call s:fresh(['x'])
		Aish apollo
		call s:settle(15000)
		call assert_match('\c\(unreachable\|reach\|connect\|refused\)', aish#last_error())
		call assert_match('^\[error\]', s:output()[-1])
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
		call s:fresh(['x'])
		Aish apollo
		call assert_match('not an executable', aish#last_error())
		call assert_equal(0, aish#busy())
	finally
		let g:aish_bridge_cmd = saved
	endtry
endfunc

func Test_log_has_messages() abort
	call s:fresh(['log me'])
	Aish apollo
	call s:settle(10000)
	AishLog
	let log = getbufline(bufnr('aish://log'), 1, '$')
	call assert_true(len(filter(copy(log), 'v:val =~# "message from apollo .*apollo: log me"')) > 0,
		\ 'no aish/message from apollo in the log')
endfunc

" Runs every Test_ function, one result line each, into AISH_TEST_RESULT.
func s:run_all() abort
	let results = []
	let names = map(split(execute('function /^Test_'), "\n"),
		\ {_, l -> matchstr(l, 'Test_\w\+')})
	for name in sort(filter(names, '!empty(v:val)'))
		if !empty($AISH_TEST_ONLY) && name !~# $AISH_TEST_ONLY
			continue
		endif
		let v:errors = []
		try
			call call(name, [])
		catch
			call add(v:errors, 'exception ' . v:exception . ' at ' . v:throwpoint)
		endtry
		if empty(v:errors)
			call add(results, 'ok - ' . s:label . ' ' . name)
		else
			call add(results, 'not ok - ' . s:label . ' ' . name . ': '
				\ . substitute(join(v:errors, ' / '), '\n', ' ', 'g'))
		endif
		call writefile(results, $AISH_TEST_RESULT)
	endfor
	call aish#stop()
	call add(results, 'done')
	call writefile(results, $AISH_TEST_RESULT)
endfunc

call s:run_all()
qall!
