" tests/vim/setup.vim: what every test file of the aish plugin shares:
" the plugin loaded from AISH_TEST_PLUGIN, pointed at the test server, and
" helpers (T_…) to wait, read aish://output and run the tests.
" tests/editor-vim.sh (and editor-nvim.sh) run each tests/vim/test_*.vim
" in its own headless Vim (vim -Nu NONE -i NONE -es) or Neovim, against a
" real aish-bridge and aish-rhetor with the echo provider, and set:
"   AISH_TEST_SRCDIR  the source tree
"   AISH_TEST_PLUGIN  the plugin directory (editors/vim, for both editors)
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
runtime! plugin/aish.vim
let g:aish_bridge_cmd = [$AISH_TEST_BRIDGE, '--no-spawn']
let g:aish_rhetor_url = $AISH_TEST_URL
let g:T_label = has('nvim') ? 'nvim' : 'vim'

" Waits (polling, so that channel callbacks run) until EXPR is true or MS
" milliseconds pass; returns whether EXPR became true.
func T_wait(expr, ms) abort
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
func T_settle(ms) abort
	call assert_true(T_wait('aish#busy() == 0', a:ms), 'requests still in flight')
endfunc

" The lines of aish://output.
func T_output() abort
	return getbufline(bufnr('aish://output'), 1, '$')
endfunc

" Empties aish://output and starts a fresh buffer to work in.
func T_fresh(lines) abort
	let nr = bufnr('aish://output')
	if nr > 0 && bufloaded(nr)
		silent call deletebufline(nr, 1, '$')
	endif
	only!
	enew!
	call setline(1, a:lines)
	call aish#clear_messages()
endfunc

" Compares two lists of lines without printing them (big, or multibyte,
" which Vim 9.0's assert messages mangle).
func T_same_lines(expected, actual, what) abort
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

" The labels of aish://output's sections, in order.
func T_labels(out) abort
	return filter(copy(a:out), 'v:val =~# "^\\[From "')
endfunc

" The text of the section labelled LABEL (up to the next label or note).
func T_section_text(out, label) abort
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


" A new echo socket of the test server for AI NAME, answering after
" DELAY_MS in CHUNKS pieces; returns its socket id.
func T_make_socket(name, delay_ms, chunks) abort
	let body = json_encode(#{ai_name: a:name,
		\ context: #{echo: #{delay_ms: a:delay_ms, chunks: a:chunks}}})
	let out = system('curl -s -H "Content-Type: application/json" -d '
		\ . shellescape(body) . ' ' . shellescape($AISH_TEST_URL . '/api/ai/socket/create'))
	let id = get(json_decode(out), 'socket_id', '')
	call assert_notequal('', id, 'no socket made: ' . out)
	return id
endfunc

" Runs every Test_ function, one result line each, into AISH_TEST_RESULT.
func T_run_all() abort
	let results = []
	let names = map(split(execute('function /^Test_'), "\n"),
		\ {_, l -> matchstr(l, 'Test_\w\+')})
	for name in sort(filter(names, '!empty(v:val)'))
		if !empty($AISH_TEST_ONLY) && name !~# $AISH_TEST_ONLY
			continue
		endif
		let v:errors = []
		messages clear
		try
			call call(name, [])
		catch
			call add(v:errors, 'exception ' . v:exception . ' at ' . v:throwpoint)
		endtry
		" An error raised in a callback reaches only the messages.
		for line in split(execute('messages'), "\n")
			if line =~# '^E\d\+:\|Error\|stack traceback'
				call add(v:errors, 'message: ' . line)
			endif
		endfor
		if empty(v:errors)
			call add(results, 'ok - ' . g:T_label . ' ' . name)
		else
			call add(results, 'not ok - ' . g:T_label . ' ' . name . ': '
				\ . substitute(join(v:errors, ' / '), '\n', ' ', 'g'))
		endif
		call writefile(results, $AISH_TEST_RESULT)
	endfor
	call aish#stop()
	call add(results, 'done')
	call writefile(results, $AISH_TEST_RESULT)
endfunc
