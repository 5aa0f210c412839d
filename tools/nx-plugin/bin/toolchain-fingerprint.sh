#!/bin/sh
# Prints a cheap fingerprint of every place the system toolchain provider
# looks for a tool (src/toolchain/candidates.json, read by this script), and of
# the m68k glibc and libgcc files programs link against. Covered places:
#  - every llvmBinDirs entry and every PATH directory x llvmTools;
#  - rustcPaths (`~/` is $HOME, a `*` segment matches every entry of its
#    directory, dot entries included) and the `cargo` beside each;
#  - every crossBinDirs entry and every PATH directory x crossPrefix+crossTools,
#    and `qemu-m68k` and `rustc` in each of those directories; qemuPaths;
#  - m68kLinkFiles under $NEXTRUST_M68K_SYSROOT, or m68kSysroot when unset;
#  - libgccPaths (`*` as above);
#  - each envOverrides variable that is set: a `NAME=value` line, and the
#    value's stamp when it names a file or directory.
# Output: the NAME=value lines, then one line per existing candidate (no
# duplicates; missing files print nothing), from one GNU `stat -L` process:
#   <path> <size in bytes> <mtime, seconds.nanoseconds> <device>:<inode>
# device:inode are those of the file the path resolves to, so switching a
# symlink (update-alternatives) to another file changes the line even when
# size and mtime match. stat: https://www.gnu.org/software/coreutils/manual/html_node/stat-invocation.html
#
# Used as the `{runtime: ...}` input of llvm-m68k:toolchain (Nx hashes this
# command's stdout: https://nx.dev/reference/inputs#runtime-inputs), so
# installing, upgrading or removing a tool, or pointing an override
# elsewhere, misses the cache. POSIX sh with one awk and one stat process: it
# runs on every hash computation, so it must start fast.
#
# candidates.json is parsed by one awk (POSIX; Debian's mawk) for its fixed
# shape: an object whose values are strings or arrays of strings (escapes \"
# \\ \/ only). A missing key this script reads, a value of another type, or any
# other JSON prints `<file>:<line>: ...` naming the key on stderr and exits 1.
#
#   sh tools/nx-plugin/bin/toolchain-fingerprint.sh
set -f
nl='
'
tab='	'

case $0 in
*/*) bin_dir=${0%/*} ;;
*) bin_dir=. ;;
esac
json=$bin_dir/../src/toolchain/candidates.json
if [ ! -r "$json" ]; then
  printf '%s: cannot read the tool candidates (expected src/toolchain/candidates.json beside bin/)\n' "$json" >&2
  exit 1
fi

# One line per string: `<key><TAB><value>`, for the keys below only.
parsed=$(awk -v arrays='llvmBinDirs llvmTools rustcPaths crossTools crossBinDirs m68kLinkFiles libgccPaths qemuPaths envOverrides' \
  -v strings='crossPrefix m68kSysroot' '
function fail(msg) {
  if (line) printf "%s:%d: %s\n", FILENAME, line, msg > "/dev/stderr"
  else printf "%s: %s\n", FILENAME, msg > "/dev/stderr"
  failed = 1
  exit 1
}
function what(t) {
  if (t == "STR") return "a string"
  if (t == "EOF") return "the end of the file"
  if (t == "OTHER") {
    match(rest, /^[^ \t\r\n,:\]}]+/)
    return "\"" substr(rest, 1, RLENGTH > 0 ? RLENGTH : 1) "\""
  }
  return "\"" t "\""
}
# Next token of `rest` into tok (one of { } [ ] : , STR EOF OTHER), a string`s text into val.
function next_token(   ws, c, raw, out, i, e) {
  if (match(rest, /^[ \t\r\n]+/)) {
    ws = substr(rest, 1, RLENGTH)
    line += gsub(/\n/, "", ws)
    rest = substr(rest, RLENGTH + 1)
  }
  if (rest == "") { tok = "EOF"; return }
  c = substr(rest, 1, 1)
  if (index("{}[]:,", c)) { tok = c; rest = substr(rest, 2); return }
  if (c != "\"") { tok = "OTHER"; return }
  if (!match(rest, /^"([^"\\\n\t]|\\.)*"/))
    fail((key == "" ? "" : "key \"" key "\": ") "unterminated string, or a tab or newline in a string")
  raw = substr(rest, 2, RLENGTH - 2)
  rest = substr(rest, RLENGTH + 1)
  out = ""
  while ((i = index(raw, "\\")) > 0) {
    e = substr(raw, i + 1, 1)
    if (e != "\"" && e != "\\" && e != "/")
      fail((key == "" ? "" : "key \"" key "\": ") "escape \\" e " is not supported (plain strings only)")
    out = out substr(raw, 1, i - 1) e
    raw = substr(raw, i + 2)
  }
  val = out raw
  tok = "STR"
}
function expect(t, context) {
  next_token()
  if (tok != t) fail(context ": expected " what(t) ", got " what(tok))
}
{ text = text $0 "\n" }
END {
  if (failed) exit 1
  rest = text
  line = 1
  key = ""
  expect("{", "top level")
  next_token()
  if (tok != "}") {
    for (;;) {
      if (tok != "STR") fail("expected a key string, got " what(tok))
      key = val
      if (key in type) fail("key \"" key "\" appears twice")
      keyline[key] = line
      expect(":", "after key \"" key "\"")
      next_token()
      if (tok == "STR") {
        type[key] = "string"
        value[key] = val "\n"
      } else if (tok == "[") {
        type[key] = "array"
        value[key] = ""
        next_token()
        if (tok != "]") {
          for (;;) {
            if (tok != "STR") fail("key \"" key "\": expected an array of strings, got " what(tok) " in it")
            value[key] = value[key] val "\n"
            next_token()
            if (tok == "]") break
            if (tok != ",") fail("key \"" key "\": expected \",\" or \"]\", got " what(tok))
            next_token()
          }
        }
      } else {
        fail("key \"" key "\": expected a string or an array of strings, got " what(tok))
      }
      next_token()
      if (tok == "}") break
      if (tok != ",") fail("after key \"" key "\": expected \",\" or \"}\", got " what(tok))
      next_token()
    }
  }
  key = ""
  expect("EOF", "after the top-level object")
  line = 0
  n = split(arrays, need, " ")
  for (i = 1; i <= n; i++) {
    k = need[i]
    line = 0
    if (!(k in type)) fail("missing key \"" k "\" (expected an array of strings)")
    line = keyline[k]
    if (type[k] != "array") fail("key \"" k "\": expected an array of strings, got a string")
  }
  n = split(strings, need2, " ")
  for (i = 1; i <= n; i++) {
    k = need2[i]
    line = 0
    if (!(k in type)) fail("missing key \"" k "\" (expected a string)")
    line = keyline[k]
    if (type[k] != "string") fail("key \"" k "\": expected a string, got an array")
  }
  line = keyline["envOverrides"]
  m = split(value["envOverrides"], names, "\n")
  for (i = 1; i < m; i++)
    if (names[i] !~ /^[A-Za-z_][A-Za-z0-9_]*$/)
      fail("key \"envOverrides\": expected environment variable names, got \"" names[i] "\"")
  all = arrays " " strings
  n = split(all, keys, " ")
  for (i = 1; i <= n; i++) {
    m = split(value[keys[i]], vals, "\n")
    for (j = 1; j < m; j++) printf "%s\t%s\n", keys[i], vals[j]
  }
}' "$json") || exit 1

while IFS=$tab read -r key value; do
  case $key in
  llvmBinDirs) llvmBinDirs=$llvmBinDirs$value$nl ;;
  llvmTools) llvmTools=$llvmTools$value$nl ;;
  rustcPaths) rustcPaths=$rustcPaths$value$nl ;;
  crossTools) crossTools=$crossTools$value$nl ;;
  crossBinDirs) crossBinDirs=$crossBinDirs$value$nl ;;
  m68kLinkFiles) m68kLinkFiles=$m68kLinkFiles$value$nl ;;
  libgccPaths) libgccPaths=$libgccPaths$value$nl ;;
  qemuPaths) qemuPaths=$qemuPaths$value$nl ;;
  envOverrides) envOverrides=$envOverrides$value$nl ;;
  crossPrefix) crossPrefix=$value ;;
  m68kSysroot) m68kSysroot=$value ;;
  esac
done <<EOF
$parsed
EOF

# The existing files to stamp, newline-separated and each once, in order.
files=$nl
add() {
  case $1 in *"$nl"*) return 0 ;; esac
  [ -e "$1" ] || return 0
  case $files in *"$nl$1$nl"*) return 0 ;; esac
  files=$files$1$nl
}

# Expands `~/` and `*` segments of $1 into $expanded (newline-separated).
expand() {
  todo=$1$nl
  expanded=
  while [ -n "$todo" ]; do
    p=${todo%%"$nl"*}
    todo=${todo#*"$nl"}
    case $p in '~/'*) p=$HOME/${p#'~/'} ;; esac
    case $p in
    *'*'*)
      pre=${p%%'*'*}
      post=${p#*'*'}
      set +f
      for e in "$pre"* "$pre".[!.]* "$pre"..?*; do
        if [ -e "$e" ] || [ -L "$e" ]; then todo=$todo$e$post$nl; fi
      done
      set -f
      ;;
    *) expanded=$expanded$p$nl ;;
    esac
  done
}

path_dirs=
IFS=:
for d in $PATH; do
  [ -n "$d" ] && path_dirs=$path_dirs$d$nl
done
IFS=$nl

for dir in $llvmBinDirs $path_dirs; do
  [ "$dir" = / ] || dir=${dir%/}
  for tool in $llvmTools; do add "$dir/$tool"; done
done
for pattern in $rustcPaths; do
  expand "$pattern"
  for rustc in $expanded; do
    add "$rustc"
    add "${rustc%/*}/cargo"
  done
done
for dir in $crossBinDirs $path_dirs; do
  [ "$dir" = / ] || dir=${dir%/}
  for tool in $crossTools; do add "$dir/$crossPrefix$tool"; done
  add "$dir/qemu-m68k"
  add "$dir/rustc"
done
for q in $qemuPaths; do add "$q"; done
sysroot=${NEXTRUST_M68K_SYSROOT:-$m68kSysroot}
for file in $m68kLinkFiles; do add "${sysroot%/}/$file"; done
for pattern in $libgccPaths; do
  expand "$pattern"
  for libgcc in $expanded; do add "$libgcc"; done
done
for name in $envOverrides; do
  eval "value=\${$name-}"
  if [ -n "$value" ]; then
    printf '%s=%s\n' "$name" "$value"
    add "$value"
  fi
done

[ "$files" = "$nl" ] && exit 0
# shellcheck disable=SC2086 # split on newlines only, globbing off
exec stat -L -c '%n %s %.9Y %d:%i' -- $files
