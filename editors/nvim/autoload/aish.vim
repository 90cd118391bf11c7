" autoload/aish.vim (Neovim): the aish#…() functions of the Vim plugin,
" for 'statusline' and scripts, answered by lua/aish/init.lua.

" The progress of the requests in flight, "" when none.
func aish#status() abort
	return luaeval('require("aish").status()')
endfunc

" The number of requests in flight.
func aish#busy() abort
	return luaeval('require("aish").busy()')
endfunc

" Stops the bridge.
func aish#stop() abort
	call luaeval('require("aish").stop()')
endfunc

" The last error shown, "" when none.
func aish#last_error() abort
	return luaeval('require("aish").last_error')
endfunc

" The last notice shown, "" when none.
func aish#last_notice() abort
	return luaeval('require("aish").last_notice')
endfunc

" Forgets the last error and notice.
func aish#clear_messages() abort
	call luaeval('require("aish").clear_messages()')
endfunc
