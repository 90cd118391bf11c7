" tests/vim/test_context.vim: context as a user attaches it, in Vim and
" Neovim: :AishAdd (the current buffer, or a file), :AishContext (what is
" attached), :AishContext clear; the items go with the next requests
" (:Aish, the chat), each as a fenced block with its name and 'filetype',
" a buffer's text as it is when the request is sent.  The echo AI answers
" with what it received, so the output shows what went.
" tests/vim/setup.vim says how the tests run.

execute 'source' fnameescape(expand('<sfile>:p:h') . '/setup.vim')

" As a user's vimrc would: file types, and buffers kept while hidden.
filetype on
set hidden

let s:dir = fnamemodify(tempname(), ':h') . '/context'
call mkdir(s:dir, 'p')

" Writes LINES to the file NAME of the test directory; returns its path.
func s:file(name, lines) abort
	let path = s:dir . '/' . a:name
	call writefile(a:lines, path)
	return path
endfunc

" Detaches everything, empties aish://output, one window.
func s:fresh() abort
	silent AishContext clear
	call T_fresh([''])
endfunc

" Runs the current line through apollo (":Aish apollo" typed) and returns
" the lines of its reply (the newest in aish://output).
func s:ask_apollo() abort
	call feedkeys(":Aish apollo\<CR>", 'xt')
	call T_settle(10000)
	let out = T_output()
	let i = len(out) - 1 - index(reverse(copy(out)), '[From Apollo]')
	return i >= len(out) ? [] : out[i + 1 :]
endfunc

" :AishAdd in a C file attaches it: the next request carries it, fenced
" as c, before the text; the buffer's text goes as it is at send time.
func Test_add_buffer() abort
	call s:fresh()
	let path = s:file('cache.c', ['int hits;'])
	execute 'edit' fnameescape(path)
	call assert_equal('c', &filetype)
	AishAdd
	call assert_match('attached .*cache\.c (1 item', aish#last_notice())
	call assert_match('cache\.c', aish#context#status())
	let name = fnamemodify(path, ':~:.')
	enew
	call setline(1, 'review this')
	call assert_equal(['apollo: ' . name, '```c', 'int hits;', '```', '', 'review this'],
		\ s:ask_apollo())
	" Changed, not saved: the next request sees the change.
	execute 'buffer' fnameescape(path)
	call setline(2, 'int misses;')
	enew
	call setline(1, 'again')
	call assert_equal(['apollo: ' . name, '```c', 'int hits;', 'int misses;', '```', '', 'again'],
		\ s:ask_apollo())
	execute 'bwipeout!' fnameescape(path)
	call assert_equal('', aish#last_error())
endfunc

" :AishAdd {file} attaches a file that no buffer holds (its language from
" its name); :AishContext lists the items; both go, in order.
func Test_add_file_and_list() abort
	call s:fresh()
	let c = s:file('util.c', ['int util;'])
	let py = s:file('tool.py', ['print(1)'])
	execute 'edit' fnameescape(c)
	AishAdd
	enew
	execute 'AishAdd' fnameescape(py)
	call assert_match('2 items', aish#last_notice())
	AishContext
	let cname = fnamemodify(c, ':~:.')
	let pyname = fnamemodify(py, ':~:.')
	call assert_equal('aish: context: ' . cname . ' (c), ' . pyname . ' (python)', aish#last_notice())
	call assert_match('util\.c +1', aish#context#status())
	" Attaching the same file again replaces it.
	execute 'AishAdd' fnameescape(py)
	call assert_match('2 items', aish#last_notice())
	call setline(1, 'both')
	call assert_equal(['apollo: ' . cname, '```c', 'int util;', '```', '', pyname,
		\ '```python', 'print(1)', '```', '', 'both'], s:ask_apollo())
endfunc

" :AishContext clear detaches everything: the next request goes alone.
func Test_context_clear() abort
	call s:fresh()
	let path = s:file('notes.txt', ['a note'])
	execute 'AishAdd' fnameescape(path)
	AishContext clear
	call assert_equal('aish: context cleared', aish#last_notice())
	call assert_equal('', aish#context#status())
	AishContext
	call assert_match('no context attached', aish#last_notice())
	call setline(1, 'alone')
	call assert_equal(['apollo: alone'], s:ask_apollo())
endfunc

" A chat turn carries the attached items too.
func Test_context_in_chat() abort
	call s:fresh()
	let path = s:file('plan.md', ['# plan'])
	execute 'AishAdd' fnameescape(path)
	let socket = T_make_socket('planner', 0, 1)
	call feedkeys(":AishChat " . socket . "\<CR>", 'xt')
	call assert_true(T_wait('bufname("%") ==# "aish://chat/' . socket
		\ . '" && getline(1) !=# "(loading the conversation)"', 5000))
	call feedkeys("GAwhat next?\<Esc>\<CR>", 'xt')
	call T_settle(10000)
	let lines = getline(1, '$')
	let i = index(lines, 'planner: ' . fnamemodify(path, ':~:.'))
	call assert_true(i > 0, 'the reply does not show the context')
	call assert_equal(['```markdown', '# plan', '```', '', 'what next?'], lines[i + 1 : i + 5])
	" The question shows once, as typed, though the server tells it back
	" with the context.
	call assert_equal(['[You]', 'what next?'], lines[0:1])
	call assert_equal(1, len(filter(copy(lines), 'v:val ==# "[You]"')), 'the question shows twice')
	bwipeout!
endfunc

" Bad arguments are one clear line, and attach nothing.
func Test_context_errors() abort
	call s:fresh()
	AishAdd /nonexistent/file.c
	call assert_equal('aish: cannot read /nonexistent/file.c', aish#last_error())
	execute 'AishAdd' fnameescape(s:dir)
	call assert_match('is a directory', aish#last_error())
	AishContext bogus
	call assert_match('unknown argument "bogus"', aish#last_error())
	call assert_equal([], aish#context#names())
	call assert_equal(['clear'], getcompletion('AishContext c', 'cmdline'))
endfunc

call T_run_all()
qall!
