" autoload/aish/context.vim: buffers and files attached as context, for
" Vim and Neovim.
"
" :AishAdd attaches the current buffer or a file; every later request
" that sends text (:Aish, :AishReplace, :AishPropose, :AishTeamChat,
" :AishSend, the chat) carries the attached items as the bridge's
" "context": each reaches the AI once, as a fenced block named after its
" file, before the instruction.  An item's text is read when a request
" is sent, so the AI sees the buffer as it is then (a buffer that is
" gone is left out).  :AishContext lists the items, :AishContext clear
" detaches them; aish#context#status() names them for 'statusline'.

let s:items = []      " #{name, buf (0: a file), file, language}, oldest first

" Vim 'filetype' names that are not the usual fence language.
let s:languages = #{text: '', help: '', conf: ''}

" Extensions whose language is not the extension itself, for files that
" no buffer holds.
let s:by_extension = #{py: 'python', js: 'javascript', ts: 'typescript',
	\ rb: 'ruby', md: 'markdown', h: 'c', hh: 'cpp', hpp: 'cpp', cc: 'cpp',
	\ cxx: 'cpp', rs: 'rust', el: 'elisp', pl: 'perl', txt: '', yml: 'yaml',
	\ bash: 'sh', mk: 'make', go: 'go', java: 'java', lua: 'lua'}

" The fence language of a buffer whose 'filetype' is FT ("" for none).
func s:language_of_filetype(ft) abort
	let ft = matchstr(a:ft, '^[^.]*')
	return get(s:languages, ft, ft)
endfunc

" The fence language of the file FILE: its buffer's 'filetype' when a
" buffer holds it, else guessed from its extension.
func s:language_of_file(file) abort
	let nr = bufnr('^' . fnameescape(a:file) . '$')
	if nr > 0 && !empty(getbufvar(nr, '&filetype'))
		return s:language_of_filetype(getbufvar(nr, '&filetype'))
	endif
	let ext = tolower(fnamemodify(a:file, ':e'))
	if fnamemodify(a:file, ':t') ==# 'Makefile'
		return 'make'
	endif
	return get(s:by_extension, ext, ext)
endfunc

" The name of the item for the file FILE (relative when it can be).
func s:file_name(file) abort
	return fnamemodify(a:file, ':~:.')
endfunc

" Attaches ITEM, in place of an earlier item of the same name.
func s:attach(item) abort
	call filter(s:items, 'v:val.name !=# a:item.name')
	call add(s:items, a:item)
	call aish#msg#notice(printf('attached %s (%d item%s; :AishContext lists them)',
		\ a:item.name, len(s:items), len(s:items) == 1 ? '' : 's'))
	redrawstatus!
endfunc

" :AishAdd [file]: attaches FILE, or the current buffer when FILE is "".
func aish#context#add(file) abort
	if empty(a:file)
		let nr = bufnr('%')
		let path = expand('%:p')
		let name = empty(bufname(nr)) ? 'buffer ' . nr
			\ : (empty(&buftype) ? s:file_name(path) : bufname(nr))
		call s:attach(#{name: name, buf: nr, file: empty(&buftype) ? path : '',
			\ language: s:language_of_filetype(&filetype)})
		return
	endif
	let file = fnamemodify(expand(a:file), ':p')
	if isdirectory(file)
		call aish#msg#error(a:file . ' is a directory; :AishAdd attaches a file or the current buffer')
		return
	endif
	if !filereadable(file)
		call aish#msg#error('cannot read ' . a:file)
		return
	endif
	call s:attach(#{name: s:file_name(file), buf: 0, file: file,
		\ language: s:language_of_file(file)})
endfunc

" :AishContext [clear]: lists the attached items, or detaches them.
func aish#context#command(arg) abort
	let arg = trim(a:arg)
	if arg ==# 'clear'
		let n = len(s:items)
		let s:items = []
		call aish#msg#notice(n == 0 ? 'no context was attached' : 'context cleared')
		redrawstatus!
	elseif empty(arg)
		call aish#msg#notice(empty(s:items)
			\ ? 'no context attached (:AishAdd attaches the current buffer)'
			\ : 'context: ' . join(map(copy(s:items), 's:describe(v:val)'), ', '))
	else
		call aish#msg#error('unknown argument "' . arg . '": :AishContext lists, :AishContext clear detaches')
	endif
endfunc

" An item as :AishContext shows it: its name, and its language.
func s:describe(item) abort
	return a:item.name . (empty(a:item.language) ? '' : ' (' . a:item.language . ')')
endfunc

" The names of the attached items (for scripts and tests).
func aish#context#names() abort
	return map(copy(s:items), 'v:val.name')
endfunc

" The attached items for 'statusline': "[aish: cache.c +1]", "" when none.
func aish#context#status() abort
	if empty(s:items)
		return ''
	endif
	let more = len(s:items) > 1 ? printf(' +%d', len(s:items) - 1) : ''
	return '[aish: ' . fnamemodify(s:items[0].name, ':t') . more . ']'
endfunc

" The text of ITEM now, or v:null when it cannot be read.
func s:text(item) abort
	if a:item.buf > 0 && bufloaded(a:item.buf)
		let lines = getbufline(a:item.buf, 1, '$')
	elseif !empty(a:item.file) && filereadable(a:item.file)
		let lines = readfile(a:item.file)
	else
		call aish#msg#log('context ' . a:item.name . ': gone, left out')
		return v:null
	endif
	return join(lines, "\n") . (empty(lines) ? '' : "\n")
endfunc

" Adds the attached items to PARAMS, the params of a request that sends
" text, as "context" (nothing when none is attached).
func aish#context#add_to(params) abort
	let context = []
	for item in s:items
		let text = s:text(item)
		if text is v:null
			continue
		endif
		let c = #{name: item.name, text: text}
		if !empty(item.language)
			let c.language = item.language
		endif
		call add(context, c)
	endfor
	if !empty(context)
		let a:params.context = context
	endif
	return a:params
endfunc

" :AishContext completes its one argument.
func aish#context#complete(lead, line, pos) abort
	return filter(['clear'], 'stridx(v:val, a:lead) == 0')
endfunc
