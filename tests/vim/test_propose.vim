" tests/vim/test_propose.vim: :AishPropose, :AishAccept, :AishReject in
" Vim and Neovim: the proposal streams into a buffer in diff mode beside
" the range's text, can be edited and taken hunk by hunk (do), is applied
" or dropped from either window; -g GROUP gives one proposal per member;
" the range follows edits elsewhere and a change inside it is refused.
" tests/vim/setup.vim says how the tests run.

execute 'source' fnameescape(expand('<sfile>:p:h') . '/setup.vim')

" Starts from one tab page and a buffer holding LINES.
func s:start(lines) abort
	silent! tabonly!
	call T_fresh(a:lines)
endfunc

" Waits until the newest review's proposals are all there and the request
" is over.
func s:ready() abort
	call T_settle(10000)
	call assert_match('ready', aish#last_notice())
endfunc

" The buffer names of the windows of the current tab page.
func s:windows() abort
	return map(tabpagebuflist(), 'bufname(v:val)')
endfunc

func Test_propose_edit_accept() abort
	call s:start(['one', 'this are wrong', 'three'])
	let user = bufnr('%')
	2AishPropose apollo fix the grammar
	call assert_equal(2, tabpagenr('$'), 'no review tab')
	call assert_match('^aish://proposal/\d\+$', bufname('%'))
	call s:ready()
	call assert_equal(['apollo: fix the grammar', '', 'this are wrong'], getline(1, '$'))
	call assert_true(&diff, 'the proposal is not in diff mode')
	let orig = filter(s:windows(), 'v:val =~# "^aish://original/"')
	call assert_equal(1, len(orig))
	call assert_equal(['this are wrong'], getbufline(orig[0], 1, '$'))
	call assert_true(getwinvar(bufwinnr(orig[0]), '&diff'), 'the original is not in diff mode')
	" The user edits the proposal, then accepts it.
	execute "normal! 3Gcc" . "these are right\<Esc>"
	AishAccept
	call assert_equal(1, tabpagenr('$'))
	call assert_equal(user, bufnr('%'))
	call assert_equal(['one', 'apollo: fix the grammar', '', 'these are right', 'three'], getline(1, '$'))
	call assert_equal([], aish#propose#reviews())
	call assert_match('accepted: lines 2-2', aish#last_notice())
	call assert_equal('', aish#last_error())
endfunc

" do takes a hunk of the original back into the proposal; the other hunk
" (edited by the user) stays.
func Test_propose_take_hunk() abort
	call s:start(['a', 'b', 'c', 'd', 'e', 'f', 'g'])
	%AishPropose apollo
	call s:ready()
	call assert_equal(['apollo: a', 'b', 'c', 'd', 'e', 'f', 'g'], getline(1, '$'))
	execute "normal! GccG!\<Esc>"
	diffupdate
	normal! ggdo
	call assert_equal(['a', 'b', 'c', 'd', 'e', 'f', 'G!'], getline(1, '$'))
	AishAccept
	call assert_equal(['a', 'b', 'c', 'd', 'e', 'f', 'G!'], getline(1, '$'))
endfunc

" :AishReject from the user's own buffer drops the review; nothing changes.
func Test_propose_reject_from_user_buffer() abort
	call s:start(['keep', 'me'])
	%AishPropose athena
	call s:ready()
	tabprevious
	AishReject
	call assert_equal(1, tabpagenr('$'))
	call assert_equal(['keep', 'me'], getline(1, '$'))
	call assert_equal([], aish#propose#reviews())
	call assert_equal([], filter(map(range(1, bufnr('$')), 'bufname(v:val)'), 'v:val =~# "^aish://\\(proposal\\|original\\)"'))
endfunc

" -g GROUP: one proposal per member side by side; :AishAccept in one.
func Test_propose_group() abort
	call s:start(['x', 'fix me', 'y'])
	2AishPropose -g duo fix it
	call s:ready()
	let names = sort(filter(s:windows(), 'v:val =~# "^aish://proposal/"'))
	call assert_equal(2, len(names))
	call assert_match('/apollo$', names[0])
	call assert_match('/athena$', names[1])
	call assert_equal(['athena: fix it', '', 'fix me'], getbufline(names[1], 1, '$'))
	call win_gotoid(bufwinid(names[1]))
	AishAccept
	call assert_equal(1, tabpagenr('$'))
	call assert_equal(['x', 'athena: fix it', '', 'fix me', 'y'], getline(1, '$'))
	" From the original's window, several proposals are not one to take.
	call setline(1, ['x', 'fix me', 'y'])
	2AishPropose -g duo
	call s:ready()
	call win_gotoid(bufwinid(filter(s:windows(), 'v:val =~# "^aish://original/"')[0]))
	AishAccept
	call assert_match('2 proposals', aish#last_error())
	AishReject
	call assert_equal(1, tabpagenr('$'))
endfunc

" Lines added and removed above the range while the proposal streams (in
" the user's window, as typed) move it; :AishAccept replaces it there.
" A change inside the range is refused.
func Test_propose_follows_range() abort
	call s:start(['top', 'target', 'bottom'])
	execute '2AishPropose' $AISH_TEST_SLOW
	tabprevious
	execute "normal! ggOnew first\<Esc>"
	execute "normal! Gdd"
	tabnext
	call s:ready()
	AishAccept
	call assert_equal(['new first', 'top', 'slow: target'], getline(1, '$'))
	call assert_equal('', aish#last_error())

	call setline(1, ['top', 'target', 'bottom'])
	execute '2AishPropose' $AISH_TEST_SLOW
	tabprevious
	call setline(2, 'changed by hand')
	tabnext
	call s:ready()
	AishAccept
	call assert_match('changed', aish#last_error())
	call assert_equal(2, tabpagenr('$'), 'the review closed')
	AishReject
	call assert_equal(['top', 'changed by hand', 'bottom'], getline(1, '$'))
endfunc

" A proposal still arriving cannot be accepted; rejecting it cancels it.
func Test_propose_reject_while_streaming() abort
	call s:start(['slowly'])
	execute 'AishPropose' $AISH_TEST_SLOWER
	call assert_true(T_wait('aish#busy() == 1', 2000))
	AishAccept
	call assert_match('still arriving', aish#last_error())
	AishReject
	call T_settle(3000)
	call assert_equal(1, tabpagenr('$'))
	call assert_equal(['slowly'], getline(1, '$'))
endfunc

call T_run_all()
qall!
