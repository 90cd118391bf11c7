" autoload/aish/complete.vim: <Tab> completion of AI names, group names
" and options on the command line, for Vim and Neovim.
"
" The names come from aish/list, kept here and fetched again in the
" background when older than 30 seconds: completing never waits for the
" bridge.  plugin/aish.vim starts a fetch as soon as an :Aish command is
" being typed, so the names are there when <Tab> is pressed.

let s:ais = []           " socket ids and AI names a stage may name
let s:groups = []        " group names
let s:fetched_at = []    " when the names came, [] never
let s:fetching = 0       " 1 while aish/list is in flight
let s:max_age = 30       " seconds before the names are fetched again

" Learns the names from the answer to aish/list.
func aish#complete#learn(result) abort
	let ais = {}
	let groups = {}
	for s in get(a:result, 'sockets', [])
		if type(s) != v:t_dict
			continue
		endif
		let id = get(s, 'socket_id', '')
		if type(id) == v:t_string && id =~# '^team-chat-'
			let groups[id[10:]] = 1
			continue
		endif
		for name in [id, get(s, 'ai_name', '')]
			if type(name) == v:t_string && !empty(name)
				let ais[name] = 1
			endif
		endfor
		for g in get(s, 'groups', [])
			if type(g) == v:t_string
				let groups[g] = 1
			endif
		endfor
	endfor
	if has_key(groups, 'all')
		call remove(groups, 'all')
	endif
	let s:ais = sort(keys(ais))
	let s:groups = sort(keys(groups))
	let s:fetched_at = reltime()
endfunc

" Fetches the names in the background unless they are fresh.
func aish#complete#refresh() abort
	if s:fetching || (!empty(s:fetched_at) && reltimefloat(reltime(s:fetched_at)) < s:max_age)
		return
	endif
	let s:fetching = 1
	let req = #{method: 'aish/list', params: {}, title: 'names', quiet: 1,
		\ on_result: {r, result -> aish#complete#learn(result)},
		\ on_end: {r, error, cancelled -> s:fetched()}}
	if !aish#rpc#request(req)
		let s:fetching = 0
	endif
endfunc

" aish/list ended.
func s:fetched() abort
	let s:fetching = 0
endfunc

" Forgets the names: the next completion fetches them again.
func aish#complete#forget() abort
	let s:ais = []
	let s:groups = []
	let s:fetched_at = []
endfunc

" The names known now (for tests and scripts): #{ais, groups}.
func aish#complete#names() abort
	return #{ais: copy(s:ais), groups: copy(s:groups)}
endfunc

" Those of CANDIDATES that start with LEAD.
func s:matching(candidates, lead) abort
	return filter(copy(a:candidates), 'stridx(v:val, a:lead) == 0')
endfunc

" The words typed before LEAD in the arguments of the command line LINE
" up to byte POS, after the last "|" when PIPES.
func s:words_before(lead, line, pos, pipes) abort
	let text = strpart(a:line, 0, a:pos)
	let start = matchend(text, '\C\<Aish\w*!\=\s\+')
	let args = start < 0 ? '' : strpart(text, start)
	if a:pipes
		let args = matchstr(args, '[^|]*$')
	endif
	return split(strpart(args, 0, len(args) - len(a:lead)))
endfunc

" Completes the options and group of -g.
func s:options(lead, words, options) abort
	if get(a:words, -1, '') ==# '-g'
		return s:matching(s:groups, a:lead)
	endif
	if a:lead =~# '^-'
		return s:matching(a:options, a:lead)
	endif
	return []
endfunc

" :Aish, :AishReplace: an AI name at the start of every stage.
func aish#complete#pipeline(lead, line, pos) abort
	call aish#complete#refresh()
	let words = s:words_before(a:lead, a:line, a:pos, 1)
	return empty(words) ? s:matching(s:ais, a:lead) : []
endfunc

" :AishPropose: a pipeline, or -g and a group.
func aish#complete#propose(lead, line, pos) abort
	call aish#complete#refresh()
	let words = s:words_before(a:lead, a:line, a:pos, 1)
	let found = s:options(a:lead, words, ['-g'])
	if !empty(found) || !empty(words)
		return found
	endif
	return s:matching(s:ais, a:lead) + (a:lead ==# '' ? ['-g'] : [])
endfunc

" :AishTeamChat: its options and the group of -g.
func aish#complete#team(lead, line, pos) abort
	call aish#complete#refresh()
	let words = s:words_before(a:lead, a:line, a:pos, 0)
	" Only options (and the group after -g) before: no message yet.
	let i = 0
	while i < len(words)
		if words[i] ==# '--' || words[i] !~# '^-'
			return []
		endif
		let i += words[i] ==# '-g' ? 2 : 1
	endwhile
	return s:options(a:lead, words, ['-g', '--synthesize', '--'])
endfunc

" :AishSend: the AI.
func aish#complete#send(lead, line, pos) abort
	call aish#complete#refresh()
	let words = s:words_before(a:lead, a:line, a:pos, 0)
	return empty(words) ? s:matching(s:ais, a:lead) : []
endfunc
