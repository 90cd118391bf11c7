" plugin/aish.vim: the commands of the aish plugin for Vim 9.
"
" aish runs text through AI pipelines ("athena | apollo") and AI team chats
" served by aish-rhetor.  The work is done in autoload/aish.vim, which talks
" to aish-bridge over Vim's JSON-RPC ("lsp") channel mode.  See :help aish.

if exists('g:loaded_aish') || &compatible
	finish
endif
if v:version < 900 || !has('job') || !has('channel')
	echohl WarningMsg
	echomsg 'aish: needs Vim 9 with +job and +channel'
	echohl None
	finish
endif
let g:loaded_aish = 1

" The pipeline commands are defined without -bar: "|" belongs to the
" pipeline, not to Vim.
command! -range -nargs=+ Aish call aish#pipe(<line1>, <line2>, <q-args>)
command! -range -nargs=+ AishReplace
	\ call aish#replace(<line1>, <line2>, <q-args>)
command! -nargs=+ AishTeamChat call aish#team_chat(<q-args>)
command! -nargs=+ AishSend call aish#send(<q-args>)
command! -nargs=0 -bar AishList call aish#list()
command! -nargs=0 -bar AishCancel call aish#cancel()
command! -nargs=0 -bar AishLog call aish#log()
