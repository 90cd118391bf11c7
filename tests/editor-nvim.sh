#!/bin/bash
# tests/editor-nvim.sh: the Vim plugin's tests (tests/vim/test_aish.vim) run
# against the Neovim plugin (editors/nvim) in a headless Neovim.

. "$(dirname "$0")/editor-vim.sh"
