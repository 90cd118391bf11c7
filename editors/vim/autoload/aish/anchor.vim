" autoload/aish/anchor.vim: lines that keep their place through edits,
" for Vim and Neovim.
"
" An anchor marks one line of a buffer and moves with it when lines are
" added or deleted above: a zero-width text property in Vim, an extmark
" in Neovim.  When its line is deleted, Vim drops the anchor and Neovim
" moves it to a neighbour, so whoever needs the very line also checks
" its text.  Anchors never change the buffer (no 'modified', no undo).

let s:nvim = has('nvim')
let s:type = 'aish_anchor'
let s:next_id = 0

if s:nvim
	let s:ns = nvim_create_namespace('aish')
elseif empty(prop_type_get(s:type))
	call prop_type_add(s:type, #{})
endif

" A new anchor on line LNUM of buffer BUF.
func aish#anchor#new(buf, lnum) abort
	let s:next_id += 1
	let a = #{buf: a:buf, id: s:next_id, lnum: a:lnum}
	call s:place(a, a:lnum)
	return a
endfunc

" Puts anchor A on line LNUM.
func s:place(a, lnum) abort
	if s:nvim
		let a:a.id = nvim_buf_set_extmark(a:a.buf, s:ns, a:lnum - 1, 0, #{id: a:a.id})
	else
		call prop_add(a:lnum, 1, #{type: s:type, id: a:a.id, bufnr: a:a.buf, length: 0})
	endif
	let a:a.lnum = a:lnum
endfunc

" Moves anchor A to line LNUM.
func aish#anchor#move(a, lnum) abort
	if !bufloaded(a:a.buf)
		return
	endif
	if !s:nvim
		call s:remove(a:a)
	endif
	call s:place(a:a, a:lnum)
endfunc

" The line of anchor A now, 0 when it is gone.
func aish#anchor#line(a) abort
	if !bufloaded(a:a.buf)
		return 0
	endif
	if s:nvim
		let pos = nvim_buf_get_extmark_by_id(a:a.buf, s:ns, a:a.id, {})
		let a:a.lnum = empty(pos) ? 0 : pos[0] + 1
		return a:a.lnum
	endif
	" Look where it was first: anchors rarely move far.
	let last = getbufinfo(a:a.buf)[0].linecount
	let from = min([max([a:a.lnum, 1]), last])
	for p in prop_list(from, #{bufnr: a:a.buf})
		if get(p, 'id', -1) == a:a.id && get(p, 'type', '') ==# s:type
			return from
		endif
	endfor
	let want = #{id: a:a.id, type: s:type, both: 1, bufnr: a:a.buf, lnum: from, col: 1}
	let found = prop_find(want, 'f')
	if empty(found)
		let found = prop_find(want, 'b')
	endif
	let a:a.lnum = empty(found) ? 0 : found.lnum
	return a:a.lnum
endfunc

" Removes anchor A.
func aish#anchor#drop(a) abort
	if bufloaded(a:a.buf) && aish#anchor#line(a:a) > 0
		call s:remove(a:a)
	endif
endfunc

" Removes anchor A from its buffer.
func s:remove(a) abort
	if s:nvim
		call nvim_buf_del_extmark(a:a.buf, s:ns, a:a.id)
	else
		" Where it was last seen: removing from the whole buffer is slow.
		let l = a:a.lnum
		if l > 0 && l <= getbufinfo(a:a.buf)[0].linecount
			call prop_remove(#{type: s:type, id: a:a.id, both: 1, bufnr: a:a.buf, all: 1}, l, l)
		endif
	endif
endfunc
