" tests/vim/test_complete.vim: <Tab> on the command line (AI names at the
" start of each stage, groups after -g, options), never waiting for the
" bridge; errors as one short line.  Keys are typed with feedkeys(), the
" command line read back from its history.  tests/vim/setup.vim says how
" the tests run.

execute 'source' fnameescape(expand('<sfile>:p:h') . '/setup.vim')

" The command line after typing KEYS (with <Tab>s) on it, as history keeps it.
func s:typed(keys) abort
	call feedkeys(':' . a:keys . "\<C-B>\"\<CR>", 'xt')
	return histget(':', -1)[1:]
endfunc

" Waits until the names are known.
func s:names_known() abort
	call aish#complete#refresh()
	call assert_true(T_wait('!empty(aish#complete#names().ais)', 5000), 'no names')
endfunc

func Test_complete_ai_names() abort
	call s:names_known()
	call assert_equal('Aish athena', s:typed("Aish ath\<Tab>"))
	call assert_equal('Aish athena | apollo', s:typed("Aish athena | apo\<Tab>"))
	call assert_equal("'<,'>AishReplace hermes", s:typed("'<,'>AishReplace herm\<Tab>"))
	call assert_equal('AishSend telos hi', s:typed("AishSend tel\<Tab> hi"))
	" A socket id completes too.
	call assert_equal('Aish ' . $AISH_TEST_SLOW, s:typed("Aish slow-\<Tab>"))
	" Instructions are not completed: <Tab> inserts nothing.
	call assert_equal('Aish apollo fix th', s:typed("Aish apollo fix th\<Tab>"))
endfunc

func Test_complete_groups_and_options() abort
	call s:names_known()
	call assert_equal(['duo', 'slowduo'], aish#complete#names().groups)
	call assert_equal('AishTeamChat -g duo', s:typed("AishTeamChat -g d\<Tab>"))
	call assert_equal('AishTeamChat -g slowduo', s:typed("AishTeamChat -g s\<Tab>"))
	call assert_equal('AishTeamChat --synthesize', s:typed("AishTeamChat --syn\<Tab>"))
	call assert_equal('AishTeamChat hello -', s:typed("AishTeamChat hello -\<Tab>"))
endfunc

" The first <Tab> with no names known returns at once and fetches them in
" the background; a later <Tab> has them.
func Test_complete_never_waits() abort
	call aish#stop()
	call aish#complete#forget()
	let start = reltime()
	call assert_equal('Aish ath', s:typed("Aish ath\<Tab>"))
	call assert_true(reltimefloat(reltime(start)) < 0.2, 'completion waited for the bridge')
	call assert_true(T_wait('!empty(aish#complete#names().ais)', 5000), 'the names never came')
	call assert_equal('Aish athena', s:typed("Aish ath\<Tab>"))
endfunc

" The last line of :messages.
func s:last_message() abort
	return get(split(execute('messages'), "\n"), -1, '')
endfunc

" An unknown AI is one line that suggests the nearest name.
func Test_error_one_line() abort
	call T_fresh(['x'])
	Aish apolo
	call T_settle(10000)
	call assert_equal('aish: apolo: unknown AI "apolo" (did you mean apollo?)', aish#last_error())
	call assert_equal(aish#last_error(), s:last_message())
endfunc

" A long error is cut to fit the message area (no "Press ENTER"); the log
" has it whole.
func Test_error_cut_to_fit() abort
	call T_fresh(['x'])
	let name = repeat('z', 60)
	execute 'Aish' name
	call T_settle(10000)
	call assert_match('unknown AI "z\+', aish#last_error())
	let shown = s:last_message()
	call assert_true(strdisplaywidth(shown) < &columns, 'the message is wider than the screen')
	call assert_match('…$', shown)
	AishLog
	let log = getbufline(bufnr('aish://log'), 1, '$')
	call assert_true(len(filter(log, 'stridx(v:val, name . "\"") >= 0')) > 0, 'the log lacks the whole error')
endfunc

func Test_unknown_group() abort
	call T_fresh([])
	AishTeamChat -g nosuchgroup hello
	call T_settle(10000)
	call assert_match('^aish: team chat nosuchgroup: unknown group "nosuchgroup"', aish#last_error())
	call assert_notmatch('unknown AI', aish#last_error())
endfunc

call T_run_all()
qall!
