" autoload/aish/msg.vim: what the aish plugin tells the user, for Vim and
" Neovim: errors and notices (one short line in the message area, never a
" "Press ENTER" prompt), the log behind :AishLog (where long details go),
" and the spinner that shows the requests in flight.

let s:log_lines = []      " what :AishLog shows
let s:log_max = 5000      " lines kept in the log
let s:log_name = 'aish://log'
let s:last_error = ''     " the last error shown, for scripts and tests
let s:last_notice = ''    " the last notice shown
let s:shown_at = []       " when the last error or notice was shown
let s:timer = -1          " the spinner timer
let s:spin = 0            " spinner position
let s:spinner = ['-', '\', '|', '/']
let s:spinning = 0        " 1 while the message line shows the spinner

" ------------------------------------------------------------------------
" Errors and notices

" Shows TEXT as one line in highlight HL: cut to fit the message area
" (so that it never asks for ENTER) and kept in :messages.
func s:echo(text, hl) abort
	let width = max([20, &columns - 15])
	let line = substitute(a:text, '[[:cntrl:]]', ' ', 'g')
	if strdisplaywidth(line) > width
		let line = strcharpart(line, 0, width)
		while strdisplaywidth(line) > width - 1
			let line = strcharpart(line, 0, strchars(line) - 1)
		endwhile
		let line .= '…'
	endif
	if mode() !~# '^[c]'
		" A message from a callback starts a fresh message area.
		redraw
	endif
	execute 'echohl' a:hl
	echomsg line
	echohl None
	let s:shown_at = reltime()
	let s:spinning = 0
endfunc

" Shows an error (ErrorMsg) without raising an exception: errors often
" arise inside channel callbacks.  The whole text goes to the log.
func aish#msg#error(text) abort
	let s:last_error = 'aish: ' . a:text
	call aish#msg#log('error: ' . a:text)
	call s:echo(s:last_error, 'ErrorMsg')
endfunc

" Shows a notice, in highlight HL when given.
func aish#msg#notice(text, ...) abort
	let s:last_notice = 'aish: ' . a:text
	call aish#msg#log(a:text)
	call s:echo(s:last_notice, a:0 ? a:1 : 'None')
endfunc

" The last error shown ("" when none).
func aish#msg#last_error() abort
	return s:last_error
endfunc

" The last notice shown ("" when none).
func aish#msg#last_notice() abort
	return s:last_notice
endfunc

" Forgets the last error and notice.
func aish#msg#clear() abort
	let s:last_error = ''
	let s:last_notice = ''
endfunc

" ------------------------------------------------------------------------
" The log

" Adds TEXT (one or more lines) to the log, and to aish://log when loaded.
func aish#msg#log(text) abort
	let lines = split(a:text, "\n", 1)
	let lines[0] = strftime('%H:%M:%S ') . lines[0]
	call extend(s:log_lines, lines)
	if len(s:log_lines) > s:log_max
		call remove(s:log_lines, 0, len(s:log_lines) - s:log_max - 1)
	endif
	let nr = bufnr(s:log_name)
	if nr > 0 && bufloaded(nr)
		call aish#buf#append(nr, lines)
	endif
endfunc

" :AishLog: shows the log (bridge messages, errors, every AI message).
func aish#msg#show_log() abort
	let existed = bufnr(s:log_name) > 0 && bufloaded(bufnr(s:log_name))
	let nr = aish#buf#scratch(s:log_name)
	if !existed
		call setbufline(nr, 1, empty(s:log_lines) ? ['(empty)'] : s:log_lines)
	endif
	call aish#buf#show(nr)
endfunc

" ------------------------------------------------------------------------
" Progress

" The progress of the requests in flight ("" when none), for 'statusline'.
func aish#msg#status() abort
	let reqs = aish#rpc#pending()
	if empty(reqs)
		return ''
	endif
	let req = reqs[-1]
	let text = 'aish ' . s:spinner[s:spin % len(s:spinner)] . ' ' . req.status
	if get(req, 'cancelling', 0)
		let text .= ' (cancelling)'
	endif
	return len(reqs) > 1 ? text . printf(' (+%d)', len(reqs) - 1) : text
endfunc

" Starts or stops the spinner as requests come and go.
func aish#msg#busy_changed() abort
	let busy = !empty(aish#rpc#pending())
	if busy && s:timer < 0
		let s:timer = timer_start(150, function('s:tick'), #{repeat: -1})
	elseif !busy && s:timer >= 0
		call timer_stop(s:timer)
		let s:timer = -1
		if s:spinning && mode() ==# 'n'
			" The spinner would stay in the message line after the work.
			echo ''
		endif
		let s:spinning = 0
		redrawstatus!
	endif
endfunc

" One turn of the spinner: shown in the message line in Normal mode, but
" not over a message shown less than 3 seconds ago.
func s:tick(timer) abort
	let s:spin += 1
	let text = aish#msg#status()
	let recent = !empty(s:shown_at) && reltimefloat(reltime(s:shown_at)) < 3
	if mode() ==# 'n' && !empty(text) && !recent
		echo strcharpart(text, 0, max([20, &columns - 15]))
		let s:spinning = 1
	endif
	redrawstatus!
endfunc
