" autoload/aish/propose.vim: :AishPropose, :AishAccept and :AishReject,
" review before apply, for Vim and Neovim.
"
" :[range]AishPropose opens a review in a new tab page: on the left
" aish://original/N, the range's text as it was; beside it
" aish://proposal/N, where the AI's answer streams; the windows are in
" diff mode.  The user may edit the proposal or take hunks back with the
" diff commands (do, dp), then :AishAccept puts the whole proposal buffer
" in place of the range and :AishReject drops it, from any window of the
" review or from the user's buffer.  With -g GROUP every member's answer
" is a proposal of its own (aish://proposal/N/SOCKET), side by side;
" :AishAccept in one of them takes that one.  The range is followed
" through edits elsewhere in the user's buffer (aish/range.vim); only a
" change inside it makes :AishAccept refuse.

let s:reviews = []   " the reviews open, oldest first
let s:count = 0      " reviews made so far, for buffer names

" ------------------------------------------------------------------------
" Starting a review

" :[range]AishPropose [-g GROUP] {pipeline}: L1, L2 the range, ARGS the
" rest of the command line.
func aish#propose#start(l1, l2, args) abort
	let opts = aish#team_chat_args(a:args, ':AishPropose -g duo fix the grammar')
	if empty(opts)
		return
	endif
	if opts.synthesize
		call aish#msg#error('--synthesize is for :AishTeamChat')
		return
	endif
	let range = aish#range#new(bufnr('%'), a:l1, a:l2)
	if empty(opts.group)
		let p = aish#pipeline_arg(opts.message)
		if empty(p)
			call aish#range#drop(range)
			return
		endif
		let req = aish#pipeline_request(aish#range#text(range), p)
	else
		let text = aish#range#text(range)
		let message = empty(opts.message) ? text : opts.message . "\n\n" . text
		let req = #{method: 'aish/teamChat', status: 'team chat',
			\ title: 'proposals of ' . opts.group, short: 'team chat ' . opts.group,
			\ params: aish#send_options(#{message: message, group: opts.group})}
	endif
	let s:count += 1
	let review = #{id: s:count, range: range, req: req, proposals: [],
		\ user_win: win_getid(), group: opts.group, closed: 0}
	let req.review = review
	let req.on_progress = function('s:on_progress')
	let req.on_result = function('s:on_result')
	let req.on_end = function('s:on_end')
	call s:open(review)
	if empty(opts.group)
		" The cursor goes where the user will read and edit.
		call win_gotoid(s:proposal(review, '').win)
	endif
	call add(s:reviews, review)
	if !aish#rpc#request(req)
		call s:close(review)
	endif
endfunc

" Opens REVIEW's tab page with the original text.
func s:open(review) abort
	let nr = s:buffer(printf('aish://original/%d', a:review.id))
	call setbufline(nr, 1, a:review.range.lines)
	call setbufvar(nr, '&modifiable', 0)
	let ft = getbufvar(a:review.range.buf, '&filetype')
	tab split
	execute 'buffer' nr
	let &l:filetype = ft
	diffthis
	let a:review.orig_win = win_getid()
	let a:review.orig_buf = nr
endfunc

" A new scratch buffer called NAME, wiped when its window closes.
func s:buffer(name) abort
	let nr = aish#buf#scratch(a:name)
	call setbufvar(nr, '&bufhidden', 'wipe')
	call setbufvar(nr, '&buflisted', 0)
	return nr
endfunc

" The proposal of REVIEW for the team member SOCKET ('' for a pipeline),
" made (in a window beside the others, in diff mode) when new.
func s:proposal(review, socket) abort
	for prop in a:review.proposals
		if prop.socket ==# a:socket
			return prop
		endif
	endfor
	let name = printf('aish://proposal/%d', a:review.id) . (empty(a:socket) ? '' : '/' . a:socket)
	let nr = s:buffer(name)
	let prop = #{socket: a:socket, buf: nr, text: '', done: 0}
	call add(a:review.proposals, prop)
	let back = win_getid()
	let last = empty(a:review.proposals[:-2]) ? a:review.orig_win
		\ : bufwinid(a:review.proposals[-2].buf)
	if win_gotoid(last > 0 ? last : a:review.orig_win)
		execute 'rightbelow vertical sbuffer' nr
		let &l:filetype = getbufvar(a:review.orig_buf, '&filetype')
		diffthis
		let prop.win = win_getid()
		call win_gotoid(back)
	endif
	return prop
endfunc

" ------------------------------------------------------------------------
" The answer streams in

" Adds TEXT to the proposal PROP.
func s:append(prop, text) abort
	if empty(a:text) || !bufexists(a:prop.buf)
		return
	endif
	let nr = a:prop.buf
	let parts = split(a:text, "\n", 1)
	let last = getbufinfo(nr)[0].linecount
	if empty(a:prop.text) && last == 1 && getbufline(nr, 1)[0] ==# ''
		call setbufline(nr, 1, parts)
	else
		call setbufline(nr, last, getbufline(nr, last)[0] . parts[0])
		call appendbufline(nr, last, parts[1:])
	endif
	let a:prop.text .= a:text
	call s:diffupdate(a:prop)
endfunc

" Makes sure PROP holds the whole answer TEXT, and marks it done.
func s:complete(prop, text) abort
	if stridx(a:text, a:prop.text) == 0
		call s:append(a:prop, strpart(a:text, strlen(a:prop.text)))
	endif
	let a:prop.done = 1
	" One newline that ends the answer ends the last line, as in a file.
	let nr = a:prop.buf
	if bufexists(nr) && getbufinfo(nr)[0].linecount > 1 && getbufline(nr, '$')[0] ==# ''
		call deletebufline(nr, '$')
	endif
	call s:diffupdate(a:prop)
endfunc

" Brings the diff of PROP's window up to date.
func s:diffupdate(prop) abort
	let win = bufwinid(a:prop.buf)
	if win > 0
		call win_execute(win, 'diffupdate', 'silent')
	endif
endfunc

" aish/progress: a stage or member streams into its proposal.  A
" pipeline's last stage is the proposal; earlier stages show as status.
func s:on_progress(req, p) abort
	let review = a:req.review
	let ai = get(a:p, 'ai', '?')
	let a:req.status = 'proposal: ' . ai
	if review.closed
		return
	endif
	let content = get(a:p, 'content', v:null)
	let kind = get(a:p, 'kind', '')
	if empty(review.group)
		let prop = review.proposals[0]
		" Only the stage that streams now is kept: a later stage starts over.
		let stage = get(a:p, 'stage', 0)
		if stage != get(prop, 'stage', 0)
			let prop.stage = stage
			let prop.text = ''
			call setbufline(prop.buf, 1, '')
			call deletebufline(prop.buf, 2, '$')
		endif
	else
		let prop = s:proposal(review, get(a:p, 'socket_id', ai))
	endif
	if type(content) == v:t_string
		if kind ==# 'delta'
			call s:append(prop, content)
		elseif kind ==# 'end' && empty(review.group)
			" The pipeline may have more stages: done only with its result.
			call s:append(prop, strpart(content, strlen(prop.text)))
		elseif kind ==# 'end'
			call s:complete(prop, content)
		endif
	endif
endfunc

" The answer: every proposal whole.
func s:on_result(req, result) abort
	let review = a:req.review
	if review.closed
		return
	endif
	if empty(review.group)
		call s:complete(review.proposals[0], get(a:result, 'output', ''))
	else
		for r in get(a:result, 'responses', [])
			if !has_key(r, 'error')
				call s:complete(s:proposal(review, get(r, 'socket_id', '?')), get(r, 'content', ''))
			endif
		endfor
	endif
	let n = len(review.proposals)
	call aish#msg#notice(n == 1 ? 'proposal ready: :AishAccept or :AishReject'
		\ : n . ' proposals ready: :AishAccept in the one you want')
endfunc

" The request ended: a failed or cancelled one is said in its proposals.
func s:on_end(req, error, cancelled) abort
	let review = a:req.review
	if review.closed || (empty(a:error) && !a:cancelled)
		return
	endif
	for prop in review.proposals
		if !prop.done
			call s:append(prop, (empty(prop.text) ? '' : "\n")
				\ . (a:cancelled ? '[cancelled]' : '[error] ' . a:error))
		endif
	endfor
endfunc

" ------------------------------------------------------------------------
" Accept, reject

" The review and proposal the current window belongs to: [review, prop],
" prop {} in the original's window or the user's buffer; [{}, {}] when
" none.
func s:here() abort
	let nr = bufnr('%')
	for review in reverse(copy(s:reviews))
		for prop in review.proposals
			if prop.buf == nr
				return [review, prop]
			endif
		endfor
		if review.orig_buf == nr || review.range.buf == nr
			return [review, {}]
		endif
	endfor
	return [{}, {}]
endfunc

" :AishAccept: the proposal of the current window (or the only one)
" replaces the range.
func aish#propose#accept() abort
	let [review, prop] = s:here()
	if empty(review)
		call aish#msg#error('no proposal here (:AishPropose makes one)')
		return
	endif
	if empty(prop)
		if len(review.proposals) != 1
			call aish#msg#error(printf('%d proposals: :AishAccept in the one you want',
				\ len(review.proposals)))
			return
		endif
		let prop = review.proposals[0]
	endif
	if !prop.done
		call aish#msg#error('the proposal is still arriving: wait, or :AishReject')
		return
	endif
	let lines = getbufline(prop.buf, 1, '$')
	let where = aish#range#replace(review.range, lines)
	if empty(where)
		call aish#msg#error('the lines changed since the proposal: nothing replaced'
			\ . ' (:AishReject closes it)')
		return
	endif
	call s:close(review)
	call aish#msg#notice(printf('accepted: lines %d-%d replaced by %d line%s', where[0], where[1],
		\ len(lines), len(lines) == 1 ? '' : 's'))
endfunc

" :AishReject: drops the proposal of the current window, or the whole
" review from the original's window or the user's buffer.
func aish#propose#reject() abort
	let [review, prop] = s:here()
	if empty(review)
		call aish#msg#error('no proposal here (:AishPropose makes one)')
		return
	endif
	if !empty(prop) && len(review.proposals) > 1
		call filter(review.proposals, 'v:val isnot prop')
		call s:close_window(bufwinid(prop.buf))
		call aish#msg#notice('proposal dropped')
		return
	endif
	call s:close(review)
	call aish#msg#notice('proposal rejected')
endfunc

" Closes window WIN (0: none), and so wipes its scratch buffer.
func s:close_window(win) abort
	if a:win > 0 && win_gotoid(a:win)
		diffoff
		close!
	endif
endfunc

" Ends REVIEW: its request is cancelled if running, its windows closed,
" and the cursor back in the user's window.
func s:close(review) abort
	let a:review.closed = 1
	call filter(s:reviews, 'v:val isnot a:review')
	if !a:review.req.done
		let a:review.req.quiet = 1
		call aish#rpc#cancel(a:review.req)
	endif
	call aish#range#drop(a:review.range)
	for prop in a:review.proposals
		call s:close_window(bufwinid(prop.buf))
	endfor
	call s:close_window(bufwinid(a:review.orig_buf))
	for nr in [a:review.orig_buf] + map(copy(a:review.proposals), 'v:val.buf')
		if bufexists(nr)
			execute 'silent! bwipeout!' nr
		endif
	endfor
	call win_gotoid(a:review.user_win)
endfunc

" The reviews open (for scripts and tests): #{id, proposals: [buffer names]}.
func aish#propose#reviews() abort
	return map(copy(s:reviews), {_, r -> #{id: r.id,
		\ proposals: map(copy(r.proposals), 'bufname(v:val.buf)')}})
endfunc
