#!/bin/bash
# tests/editor-nvim.sh: the Vim plugin's tests (tests/vim/test_aish.vim) run
# against the same plugin (editors/vim, which Neovim loads too) in a
# headless Neovim.

. "$(dirname "$0")/editor-vim.sh"
