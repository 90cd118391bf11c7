" plugin/aish.vim: the commands of the aish plugin, for Vim 9 and Neovim 0.7.
"
" aish runs text through AI pipelines ("athena | apollo") and AI team chats
" served by aish-rhetor.  One core in autoload/ does the work in both
" editors; it talks to aish-bridge through Vim's JSON-RPC ("lsp") channel
" mode, or in Neovim through lua/aish/rpc.lua.  See :help aish.

if exists('g:loaded_aish') || &compatible
	finish
endif
if has('nvim') ? !has('nvim-0.7') : (v:version < 900 || !has('job') || !has('channel'))
	echohl WarningMsg
	echomsg 'aish: needs Vim 9 with +job and +channel, or Neovim 0.7'
	echohl None
	finish
endif
let g:loaded_aish = 1

" The pipeline commands are defined without -bar: "|" belongs to the
" pipeline, not to Vim.
command! -range -nargs=+ -complete=customlist,aish#complete#pipeline Aish
	\ call aish#pipe(<line1>, <line2>, <q-args>)
command! -range -nargs=+ -complete=customlist,aish#complete#pipeline AishReplace
	\ call aish#replace(<line1>, <line2>, <q-args>)
command! -range -nargs=+ -complete=customlist,aish#complete#propose AishPropose
	\ call aish#propose#start(<line1>, <line2>, <q-args>)
command! -nargs=0 -bar AishAccept call aish#propose#accept()
command! -nargs=0 -bar AishReject call aish#propose#reject()
command! -nargs=+ -complete=customlist,aish#complete#team AishTeamChat
	\ call aish#team_chat(<q-args>)
command! -nargs=+ -complete=customlist,aish#complete#send AishSend
	\ call aish#send(<q-args>)
command! -nargs=0 -bar AishList call aish#list()
command! -nargs=0 -bar -bang AishCancel call aish#cancel(<bang>0)
command! -nargs=0 -bar AishLog call aish#log()
command! -nargs=* -bar -complete=customlist,aish#chat#complete AishChat
	\ call aish#chat#open(<q-args>)
command! -nargs=0 -bar AishChatSend call aish#chat#send()
command! -nargs=? -bar -complete=file AishAdd call aish#context#add(<q-args>)
command! -nargs=? -bar -complete=customlist,aish#context#complete AishContext
	\ call aish#context#command(<q-args>)

" The names <Tab> completes are fetched while an aish command is typed.
augroup aish_complete
	autocmd!
	autocmd CmdlineChanged : if getcmdline() =~# '\C\<Aish' | call aish#complete#refresh() | endif
augroup END
