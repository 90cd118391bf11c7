" autoload/aish/output.vim: the aish://output buffer, for Vim and Neovim.
"
" Each request writes a block: a title line ("== athena | apollo"), then
" one labelled section per pipeline stage or team member ("[From Athena]"
" and the text streamed so far), then notes ("[cancelled]").  The user may
" edit or empty the buffer at any time, even mid-stream: each item of a
" block remembers its last line through an anchor (aish/anchor.vim) and
" that line's text, so that what streams next goes after it, wherever the
" edits moved it; when that line was deleted or changed, the section goes
" on at the end of the buffer under its label and "(continued)".  Nothing
" is lost and no edit raises an error.  Windows whose cursor is at the end
" follow the newest text.

let s:name = 'aish://output'

" The number of the aish://output buffer (made when missing).
func aish#output#buf() abort
	return aish#buf#scratch(s:name)
endfunc

" The label of a section: "[From Apollo]", or "[From Apollo (apollo-2)]"
" when the socket is not the AI's own.
func aish#output#label(ai, socket_id) abort
	let ai = empty(a:ai) ? a:socket_id : a:ai
	let label = '[From ' . toupper(ai[0]) . ai[1:]
	if !empty(a:socket_id) && a:socket_id !=# ai
		let label .= ' (' . a:socket_id . ')'
	endif
	return label . ']'
endfunc

" ------------------------------------------------------------------------
" Lines, wherever the user's edits put them

" The line where ITEM ends now, 0 when the user deleted or changed it.
func s:item_end(nr, item) abort
	let l = aish#anchor#line(a:item.tail)
	if l > 0 && get(getbufline(a:nr, l), 0, v:null) is# a:item.tail_text
		return l
	endif
	return 0
endfunc

" Makes line L the end of ITEM.
func s:set_end(nr, item, l) abort
	let a:item.tail_text = getbufline(a:nr, a:l)[0]
	if has_key(a:item, 'tail')
		call aish#anchor#move(a:item.tail, a:l)
	else
		let a:item.tail = aish#anchor#new(a:nr, a:l)
	endif
endfunc

" Inserts LINES below line AFTER (0: at the top); returns the last new line.
func s:insert(nr, after, lines) abort
	call appendbufline(a:nr, a:after, a:lines)
	return a:after + len(a:lines)
endfunc

" Adds LINES at the end of the buffer (into its only line when it is
" empty); returns the last new line.
func s:at_end(nr, lines) abort
	let info = getbufinfo(a:nr)[0]
	if info.linecount == 1 && getbufline(a:nr, 1)[0] ==# ''
		call setbufline(a:nr, 1, a:lines[0])
		return s:insert(a:nr, 1, a:lines[1:])
	endif
	return s:insert(a:nr, info.linecount, a:lines)
endfunc

" The line after which a new item of BLOCK goes: after its last item, or
" its last item but the synthesis when BEFORE_SYNTHESIS; 0 when that line
" is gone (the item then goes at the end of the buffer).
func s:block_end(nr, block, before_synthesis) abort
	let items = a:block.items
	if a:before_synthesis
		let items = filter(copy(items), '!get(v:val, "synthesis", 0)')
	endif
	return empty(items) ? 0 : s:item_end(a:nr, items[-1])
endfunc

" Adds ITEM to BLOCK with LINES, after its last item (or before its
" synthesis); returns ITEM.
func s:add_item(block, item, lines, before_synthesis) abort
	let nr = aish#output#buf()
	let ids = aish#buf#followers(nr)
	let after = s:block_end(nr, a:block, a:before_synthesis)
	let last = after > 0 ? s:insert(nr, after, a:lines) : s:at_end(nr, a:lines)
	call s:set_end(nr, a:item, last)
	let synthesis = filter(copy(a:block.items), 'get(v:val, "synthesis", 0)')
	if a:before_synthesis && !empty(synthesis)
		call insert(a:block.items, a:item, index(a:block.items, synthesis[0]))
	else
		call add(a:block.items, a:item)
	endif
	call aish#buf#follow(ids)
	return a:item
endfunc

" ------------------------------------------------------------------------
" Blocks, sections, notes

" Starts the block of REQ at the end of aish://output, with its title
" line, and shows the buffer; returns the block.
func aish#output#block(req) abort
	let nr = aish#output#buf()
	let ids = aish#buf#followers(nr)
	let was_empty = getbufinfo(nr)[0].linecount == 1 && getbufline(nr, 1)[0] ==# ''
	let title = #{kind: 'title'}
	let block = #{items: [title]}
	let last = s:at_end(nr, (was_empty ? [] : ['']) + ['== ' . a:req.title])
	call s:set_end(nr, title, last)
	let block.head = title.tail
	call aish#buf#follow(ids)
	call aish#buf#show(nr)
	let a:req.block = block
	return block
endfunc

" The section KEY of BLOCK, or {} when it has none.
func aish#output#find(block, key) abort
	for item in a:block.items
		if get(item, 'key', '') ==# a:key
			return item
		endif
	endfor
	return {}
endfunc

" The section KEY of BLOCK, made with LABEL when new.  A new section goes
" last, but before the synthesis section (SYNTHESIS true), which stays
" last.
func aish#output#section(block, key, label, ...) abort
	let sec = aish#output#find(a:block, a:key)
	if !empty(sec)
		return sec
	endif
	let synthesis = a:0 && a:1
	let sec = #{kind: 'section', key: a:key, label: a:label, text: '',
		\ has_text: 0, synthesis: synthesis}
	return s:add_item(a:block, sec, [a:label], !synthesis)
endfunc

" Adds streamed TEXT to section SEC: its first line joins the section's
" last line.
func aish#output#append(sec, text) abort
	if empty(a:text)
		return
	endif
	let nr = aish#output#buf()
	let ids = aish#buf#followers(nr)
	let parts = split(a:text, "\n", 1)
	let l = s:item_end(nr, a:sec)
	if l == 0
		" The user deleted or changed the section's last line.
		let l = s:at_end(nr, [a:sec.label . ' (continued)'])
		let a:sec.has_text = 0
	endif
	if a:sec.has_text
		call setbufline(nr, l, getbufline(nr, l)[0] . parts[0])
		let parts = parts[1:]
	endif
	let l = s:insert(nr, l, parts)
	let a:sec.has_text = 1
	let a:sec.text .= a:text
	call s:set_end(nr, a:sec, l)
	call aish#buf#follow(ids)
endfunc

" Makes sure section SEC shows TEXT, the final word of its AI: what did
" not stream yet is added.
func aish#output#finish(sec, text) abort
	if a:sec.text ==# a:text
		return
	endif
	if stridx(a:text, a:sec.text) == 0
		call aish#output#append(a:sec, strpart(a:text, strlen(a:sec.text)))
	elseif a:sec.has_text
		" The streamed pieces differ from the whole: show the whole.
		call aish#msg#log('the reply of ' . a:sec.label . ' differs from its pieces')
		let a:sec.has_text = 0
		let a:sec.text = ''
		call aish#output#append(a:sec, "\n" . a:text)
	else
		call aish#output#append(a:sec, a:text)
	endif
endfunc

" Adds LINES at the end of BLOCK (a note such as "[cancelled]").
func aish#output#note(block, lines) abort
	let lines = type(a:lines) == v:t_list ? a:lines : [a:lines]
	call s:add_item(a:block, #{kind: 'note'}, lines, 0)
endfunc

" Of the requests REQS, the one whose block holds line LNUM of
" aish://output; {} when none does.
func aish#output#request_at(reqs, lnum) abort
	let best = {}
	let best_line = 0
	for req in a:reqs
		let l = has_key(req, 'block') ? aish#anchor#line(req.block.head) : 0
		if l > 0 && l <= a:lnum && l > best_line
			let [best, best_line] = [req, l]
		endif
	endfor
	return best
endfunc

" Forgets BLOCK's anchors (its request ended).
func aish#output#close(block) abort
	for item in a:block.items
		if has_key(item, 'tail')
			call aish#anchor#drop(item.tail)
		endif
	endfor
endfunc
