-- plugin/aish.lua: the commands of the aish plugin for Neovim 0.7+.
--
-- The same commands and options as the Vim plugin (:help aish); the work
-- is done in lua/aish/init.lua on top of vim.lsp.rpc.

if vim.g.loaded_aish or vim.fn.has('nvim-0.7') == 0 then
	return
end
vim.g.loaded_aish = 1

local cmd = vim.api.nvim_create_user_command

-- The pipeline commands take no -bar: "|" belongs to the pipeline.
cmd('Aish', function(o) require('aish').pipe(o.line1, o.line2, o.args) end,
	{ nargs = '+', range = true })
cmd('AishReplace', function(o) require('aish').replace(o.line1, o.line2, o.args) end,
	{ nargs = '+', range = true })
cmd('AishTeamChat', function(o) require('aish').team_chat(o.args) end, { nargs = '+' })
cmd('AishSend', function(o) require('aish').send(o.args) end, { nargs = '+' })
cmd('AishList', function() require('aish').list() end, { nargs = 0, bar = true })
cmd('AishCancel', function() require('aish').cancel() end, { nargs = 0, bar = true })
cmd('AishLog', function() require('aish').log() end, { nargs = 0, bar = true })
