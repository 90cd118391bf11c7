#!/bin/bash
# tests/editor-install.sh: the Vim and Neovim plugin installed the ways a
# user installs it, then the real editor started as a user starts it (a
# scratch HOME, no vimrc, plugins loaded by the editor itself) and
# checked by tests/vim/installed.vim: commands, :help aish with tags.
#
# - make install (into a DESTDIR): the directories are on Debian's Vim and
#   Neovim default 'runtimepath' (with the default prefix), and the editor
#   pointed at the DESTDIR copy ($VIM, $XDG_DATA_DIRS) loads it;
# - Vim's and Neovim's packages (pack/*/start);
# - vim-plug and lazy.nvim, which are neither in Debian nor in npm: the
#   layout they make (the repository's editors/vim on 'runtimepath',
#   helptags run in its doc directory) is tested instead.
# The source tree is never written to (no doc/tags there).

. "$(dirname "$0")/setup.sh"

VIM=${VIM_PROGRAM:-vim}
NVIM=${NVIM_PROGRAM:-nvim}
have_vim=0 have_nvim=0
command -v "$VIM" >/dev/null 2>&1 && have_vim=1
command -v "$NVIM" >/dev/null 2>&1 &&
	"$NVIM" --headless -u NONE -es -c 'if !has("nvim-0.7") | cquit | endif' -c 'qall!' &&
	have_nvim=1
if [ $have_vim = 0 ] && [ $have_nvim = 0 ]; then
	echo "neither vim nor nvim is installed: skipped (apt-get install vim-nox neovim)"
	exit 77
fi
tags_before=$([ -e "$top_srcdir/editors/vim/doc/tags" ] && echo yes || echo no)

# make in the build tree, on its own (not a part of the make check that
# may be running this test).
submake() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL ${MAKE:-make} -s --no-print-directory \
		-C "$top_builddir" "$@"
}

# A make variable of the build tree.
make_var() {
	printf 'print-var:\n\t@echo $(%s)\n' "$1" |
		submake -f Makefile -f - print-var
}

# check_editor LABEL DOCDIR COMMAND...: starts the editor (its own scratch
# HOME) with installed.vim and reads its verdict.
check_editor() {
	local label=$1 docdir=$2
	shift 2
	local result=$TEST_TMP/$label.result home=$TEST_TMP/home-$label
	mkdir -p "$home"
	rm -f "$result"
	HOME=$home XDG_CONFIG_HOME=$home/.config XDG_DATA_HOME=$home/.local/share \
	XDG_STATE_HOME=$home/.local/state LC_ALL=C.UTF-8 \
	AISH_TEST_LABEL=$label AISH_TEST_DOCDIR=$docdir AISH_TEST_RESULT=$result \
		timeout 30 "$@" -S "$top_srcdir/tests/vim/installed.vim" \
		</dev/null >"$TEST_TMP/$label.out" 2>&1 || true
	if [ -f "$result" ]; then
		while IFS= read -r line; do
			case "$line" in
			"ok - "*) ok "${line#ok - }" ;;
			"not ok - "*) name=${line#not ok - }; fail "${name%%: *}" "${name#*: }" ;;
			esac
		done < "$result"
	fi
	grep -qx done "$result" 2>/dev/null ||
		fail "$label started" "$(tail -c 1000 "$TEST_TMP/$label.out")"
}

# A user's Vim: plugins and packages loaded (not -es, which loads none).
vim_as_user=("$VIM" -u NORC -i NONE -N -X -n --not-a-term)
nvim_as_user=("$NVIM" --headless -u NORC -i NONE -n)

# A copy of editors/vim, as a plugin manager's clone or a package holds it.
copy_plugin() {
	mkdir -p "$(dirname "$1")"
	cp -R "$top_srcdir/editors/vim" "$1"
	rm -f "$1/doc/tags"
}

# helptags DIR, run by whichever editor is there.
make_tags() {
	if [ $have_vim = 1 ]; then
		"$VIM" -Nu NONE -i NONE -es -c "helptags $1" -c 'qall!' </dev/null
	else
		"$NVIM" --headless -u NONE -i NONE -c "helptags $1" -c 'qall!' </dev/null
	fi
}

### make install

dest=$TEST_TMP/dest
submake install DESTDIR="$dest" \
	>"$TEST_TMP/install.out" 2>&1 ||
	fail "make install" "$(tail -c 1000 "$TEST_TMP/install.out")"
prefix=$(make_var prefix)
echo "# prefix $prefix, vimdir $(make_var vimdir), nvimdir $(make_var nvimdir)"
vimdir=$(make_var vimdir)
nvimdir=$(make_var nvimdir)

if [ $have_vim = 1 ] && [ "$vimdir" != no ]; then
	check "make install built Vim's help tags" yes \
		"$(grep -q '^:AishPropose' "$dest$vimdir/doc/tags" 2>/dev/null && echo yes)"
	vim_home=$("$VIM" -Nu NONE -i NONE -es -c 'put =$VIM' -c print -c 'qall!' </dev/null)
	vim_rt=$("$VIM" -Nu NONE -i NONE -es -c 'put =$VIMRUNTIME' -c print -c 'qall!' </dev/null)
	if [ "$prefix" = /usr/local ]; then
		rtp=$(HOME=$TEST_TMP "$VIM" -u NORC -i NONE -es -c 'put =&rtp' -c print -c 'qall!' </dev/null)
		check "Vim's default runtimepath has $vimdir" yes \
			"$(case ",$rtp," in *",$vimdir,"*) echo yes ;; *) echo "no: $rtp" ;; esac)"
	fi
	if [ "$vimdir" = "$vim_home/vimfiles" ]; then
		# Vim finds $VIM/vimfiles itself: point $VIM at the DESTDIR copy.
		check_editor vim-make-install "$dest$vimdir/doc" \
			env VIM="$dest$vim_home" VIMRUNTIME="$vim_rt" "${vim_as_user[@]}"
	else
		check_editor vim-make-install "$dest$vimdir/doc" \
			"${vim_as_user[@]}" --cmd "set rtp^=$dest$vimdir"
	fi
fi
if [ $have_nvim = 1 ] && [ "$nvimdir" != no ]; then
	check "make install built Neovim's help tags" yes \
		"$(grep -q '^:AishPropose' "$dest$nvimdir/doc/tags" 2>/dev/null && echo yes)"
	if [ "$prefix" = /usr/local ]; then
		rtp=$(HOME=$TEST_TMP XDG_CONFIG_HOME=$TEST_TMP XDG_DATA_HOME=$TEST_TMP \
			"$NVIM" --headless -u NORC -i NONE -es -c 'put =&rtp' -c print -c 'qall!' </dev/null)
		check "Neovim's default runtimepath has $nvimdir" yes \
			"$(case ",$rtp," in *",$nvimdir,"*) echo yes ;; *) echo "no: $rtp" ;; esac)"
	fi
	case "$nvimdir" in
	*/nvim/site)
		# Neovim finds $XDG_DATA_DIRS/nvim/site itself.
		check_editor nvim-make-install "$dest$nvimdir/doc" \
			env XDG_DATA_DIRS="$dest${nvimdir%/nvim/site}:/usr/share" "${nvim_as_user[@]}" ;;
	*)
		check_editor nvim-make-install "$dest$nvimdir/doc" \
			"${nvim_as_user[@]}" --cmd "set rtp^=$dest$nvimdir" ;;
	esac
fi
submake uninstall DESTDIR="$dest" \
	>"$TEST_TMP/uninstall.out" 2>&1 ||
	fail "make uninstall" "$(tail -c 1000 "$TEST_TMP/uninstall.out")"
check "make uninstall leaves no plugin file" "" \
	"$(find "$dest" -type f \( -path '*vim*' \) 2>/dev/null)"

### packages, vim-plug, lazy.nvim

if [ $have_vim = 1 ]; then
	pack=$TEST_TMP/home-vim-pack/.vim/pack/aish/start/aish
	copy_plugin "$pack"
	make_tags "$pack/doc"
	check_editor vim-pack "$pack/doc" "${vim_as_user[@]}"

	# vim-plug: Plug 'REPO', {'rtp': 'editors/vim'} puts the clone's
	# editors/vim on 'runtimepath' and runs helptags in its doc.
	plug=$TEST_TMP/plugged/aish/editors/vim
	copy_plugin "$plug"
	make_tags "$plug/doc"
	check_editor vim-plug "$plug/doc" "${vim_as_user[@]}" --cmd "set rtp^=$plug"
fi
if [ $have_nvim = 1 ]; then
	pack=$TEST_TMP/home-nvim-pack/.local/share/nvim/site/pack/aish/start/aish
	copy_plugin "$pack"
	make_tags "$pack/doc"
	check_editor nvim-pack "$pack/doc" "${nvim_as_user[@]}"

	# lazy.nvim: { dir = "…/editors/vim" } puts the directory on
	# 'runtimepath', sources its plugin/ files, runs helptags in its doc.
	lazy=$TEST_TMP/lazy/aish/editors/vim
	copy_plugin "$lazy"
	make_tags "$lazy/doc"
	check_editor nvim-lazy "$lazy/doc" "${nvim_as_user[@]}" --cmd "set rtp^=$lazy"
fi

check "the source tree gets no doc/tags" "$tags_before" \
	"$([ -e "$top_srcdir/editors/vim/doc/tags" ] && echo yes || echo no)"
finish
