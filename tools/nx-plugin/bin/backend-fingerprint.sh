#!/bin/sh
# Prints a cheap fingerprint of what the patched M68k backend is compiled
# against:
#   llvm <`llvm-config --version` of the given llvm-config>
# then one line per file: libLLVM.so.<major>.<minor> in `--libdir`,
# llvm/Config/llvm-config.h in `--includedir`, llvm-tblgen in `--bindir`, and
# the first g++ on PATH. A missing file prints `<path> missing` (g++ not on
# PATH: `g++ missing`), an llvm-config that does not run prints
# `<llvm-config> missing` instead of its four lines (the backend target then
# fails with the Debian package to install); these lines come first. Each file
# that exists prints
#   <path> -> <resolved path> <size in bytes> <mtime, seconds.nanoseconds>
# of the file the path resolves to (one `realpath` and one GNU `stat -L`
# process for all of them), so pointing a symlink elsewhere changes it. No
# device:inode (unlike toolchain-fingerprint.sh): they differ between machines,
# and the backend's build takes minutes, so machines with the same packages
# must share it through a remote cache (docs/remote-cache.md).
# realpath: https://www.gnu.org/software/coreutils/manual/html_node/realpath-invocation.html
# stat: https://www.gnu.org/software/coreutils/manual/html_node/stat-invocation.html
#
# Used as the `{runtime: ...}` input of llvm-m68k:backend (Nx hashes this
# command's stdout: https://nx.dev/reference/inputs#runtime-inputs), so an
# upgrade of libLLVM, its headers or the compiler misses the cache. POSIX sh:
# it runs on every hash computation, so it must start fast.
#
#   sh tools/nx-plugin/bin/backend-fingerprint.sh [llvm-config-22]
set -f
nl='
'
llvm_config=${1:-llvm-config-22}
files=
stamp() {
  if [ -e "$1" ]; then
    files=$files$1$nl
  else
    printf '%s missing\n' "$1"
  fi
}

if out=$("$llvm_config" --version --libdir --includedir --bindir 2>/dev/null); then
  {
    IFS= read -r version
    IFS= read -r libdir
    IFS= read -r includedir
    IFS= read -r bindir
  } <<EOF
$out
EOF
  major=${version%%.*}
  minor=${version#*.}
  minor=${minor%%.*}
  printf 'llvm %s\n' "$version"
  stamp "$libdir/libLLVM.so.$major.$minor"
  stamp "$includedir/llvm/Config/llvm-config.h"
  stamp "$bindir/llvm-tblgen"
else
  printf '%s missing\n' "$llvm_config"
fi

gpp=g++
IFS=:
for dir in $PATH; do
  if [ -n "$dir" ] && [ -e "${dir%/}/g++" ]; then
    gpp=${dir%/}/g++
    break
  fi
done
stamp "$gpp"

[ -z "$files" ] && exit 0
IFS=$nl
# shellcheck disable=SC2086 # split on newlines only, globbing off
reals=$(realpath -- $files) || exit 1
# shellcheck disable=SC2086
stats=$(stat -L -c '%s %.9Y' -- $files) || exit 1
for file in $files; do
  printf '%s -> %s %s\n' "$file" "${reals%%"$nl"*}" "${stats%%"$nl"*}"
  reals=${reals#*"$nl"}
  stats=${stats#*"$nl"}
done
