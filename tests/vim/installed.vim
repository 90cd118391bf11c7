" tests/vim/installed.vim: run by tests/editor-install.sh in a Vim or
" Neovim started as a user starts it (plugins loaded by the editor from
" where an install put them): every command exists, :help aish and the
" help of every command come from AISH_TEST_DOCDIR, and each command's
" help has an example.  Writes one "ok"/"not ok" line a check, then
" "done", to AISH_TEST_RESULT.

let s:results = []
let s:commands = ['Aish', 'AishReplace', 'AishPropose', 'AishAccept',
	\ 'AishReject', 'AishTeamChat', 'AishSend', 'AishList', 'AishCancel', 'AishLog',
	\ 'AishChat', 'AishChatSend', 'AishAdd', 'AishContext']

" Records one check.
func s:check(ok, what, ...) abort
	call add(s:results, (a:ok ? 'ok - ' : 'not ok - ') . $AISH_TEST_LABEL . ' ' . a:what
		\ . (a:ok || !a:0 ? '' : ': ' . a:1))
endfunc

" Opens the help for TAG; returns the help file's path, or the error.
func s:help(tag) abort
	try
		execute 'help' a:tag
		return expand('%:p')
	catch
		return v:exception
	endtry
endfunc

for s:cmd in s:commands
	call s:check(exists(':' . s:cmd) == 2, ':' . s:cmd . ' exists')
endfor
let s:file = s:help('aish')
call s:check(stridx(s:file, $AISH_TEST_DOCDIR . '/aish.txt') == 0, ':help aish', s:file)
let s:text = filereadable(s:file) ? readfile(s:file) : []
for s:cmd in s:commands
	let s:got = s:help(':' . s:cmd)
	call s:check(s:got ==# s:file, ':help :' . s:cmd, s:got)
	" From the command's tag to the next one: a ">" line, then an example.
	let s:at = match(s:text, '\*:' . s:cmd . '\*')
	let s:end = match(s:text, '\*:Aish\w*\*', s:at + 1)
	let s:part = s:at < 0 ? [] : s:text[s:at : s:end < 0 ? -1 : s:end - 1]
	let s:ex = match(s:part, '>$')
	call s:check(s:ex >= 0 && get(s:part, s:ex + 1, '') =~# '^\s\+\S*:.*' . s:cmd . '\>',
		\ ':help :' . s:cmd . ' has an example')
endfor
call add(s:results, 'done')
call writefile(s:results, $AISH_TEST_RESULT)
qall!
