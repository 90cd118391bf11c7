" autoload/aish/range.vim: a range of lines that the AI's answer will
" replace, followed through the user's edits (for Vim and Neovim).
"
" The range remembers its first and last lines through anchors and its
" text; edits elsewhere in the buffer move it, and only a change inside
" it (or the buffer unloaded) makes it refuse the answer.

" The range of lines L1 to L2 of buffer BUF, as they are now.
func aish#range#new(buf, l1, l2) abort
	return #{buf: a:buf, first: aish#anchor#new(a:buf, a:l1),
		\ last: aish#anchor#new(a:buf, a:l2), lines: getbufline(a:buf, a:l1, a:l2)}
endfunc

" The text of range R, its lines joined by newlines.
func aish#range#text(r) abort
	return join(a:r.lines, "\n")
endfunc

" Where range R is now, [first, last], or [] when its text changed.
func aish#range#where(r) abort
	if !bufexists(a:r.buf) || !bufloaded(a:r.buf)
		return []
	endif
	let l1 = aish#anchor#line(a:r.first)
	let l2 = aish#anchor#line(a:r.last)
	if l1 <= 0 || l2 < l1 || getbufline(a:r.buf, l1, l2) !=# a:r.lines
		return []
	endif
	return [l1, l2]
endfunc

" Replaces range R with LINES; returns where it was, [] (and changes
" nothing) when its text changed.
func aish#range#replace(r, lines) abort
	let where = aish#range#where(a:r)
	if empty(where)
		return []
	endif
	let [l1, l2] = where
	call aish#range#drop(a:r)
	let n = l2 - l1 + 1
	let lines = empty(a:lines) ? [''] : a:lines
	call setbufline(a:r.buf, l1, lines[: min([n, len(lines)]) - 1])
	if len(lines) < n
		call deletebufline(a:r.buf, l1 + len(lines), l2)
	elseif len(lines) > n
		call appendbufline(a:r.buf, l2, lines[n :])
	endif
	return where
endfunc

" Forgets range R's anchors.
func aish#range#drop(r) abort
	call aish#anchor#drop(a:r.first)
	call aish#anchor#drop(a:r.last)
endfunc
