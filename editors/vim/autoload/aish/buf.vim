" autoload/aish/buf.vim: scratch buffers and their windows, for Vim and
" Neovim: making aish://output and the like, showing them without moving
" the user's cursor, and windows that follow the newest text (a window
" whose cursor is on the last line stays there as lines arrive, current
" or not; one whose cursor the user moved away stays put).

" The number of a loaded scratch buffer called NAME, made when missing.
func aish#buf#scratch(name) abort
	let nr = bufnr(a:name)
	if nr < 0
		let nr = bufadd(a:name)
	endif
	if !bufloaded(nr)
		call setbufvar(nr, '&buftype', 'nofile')
		call setbufvar(nr, '&bufhidden', 'hide')
		call setbufvar(nr, '&swapfile', 0)
		call bufload(nr)
		call setbufvar(nr, '&buflisted', 1)
	endif
	call setbufvar(nr, '&modifiable', 1)
	return nr
endfunc

" Shows buffer NR in a window at the bottom unless it is visible already,
" its cursor on the last line; the cursor stays in the current window.
func aish#buf#show(nr) abort
	if bufwinnr(a:nr) > 0
		return
	endif
	let win = win_getid()
	execute 'botright sbuffer' a:nr
	keepjumps normal! G
	call win_gotoid(win)
endfunc

" The windows showing buffer NR whose cursor is on its last line: those
" follow the text that arrives.
func aish#buf#followers(nr) abort
	let current = win_getid()
	let ids = []
	for id in win_findbuf(a:nr)
		" The user typing or selecting in the window keeps the cursor.
		if id == current && mode() !=# 'n'
			continue
		endif
		if line('.', id) == line('$', id)
			call add(ids, id)
		endif
	endfor
	return ids
endfunc

" Moves the cursor of the windows IDS to the last line (and so shows it).
func aish#buf#follow(ids) abort
	for id in a:ids
		call win_execute(id, 'keepjumps normal! G$', 'silent')
	endfor
endfunc

" Appends LINES at the end of buffer NR; windows at the end follow.
func aish#buf#append(nr, lines) abort
	let ids = aish#buf#followers(a:nr)
	call appendbufline(a:nr, '$', a:lines)
	call aish#buf#follow(ids)
endfunc
