#!/usr/bin/env bash
# Differential testing of the patched M68k backend with csmith
# (https://github.com/csmith-project/csmith): each seed's random C program is
# built by Debian's m68k gcc (the oracle) and by the pipeline's clang (the
# patched backend), both run under qemu-m68k, and the checksums they print must
# agree. Both share the 68k's type sizes and byte order, so any difference is a
# miscompile (or a csmith program that runs too long and is skipped).
#
# Usage: tools/fuzz/csmith-diff.sh [FIRST_SEED] [LAST_SEED] [OPT] [CPU] [OUT_DIR]
#   defaults: 1 100 -O2 68040 fuzz-out   (CPU: a clang -mcpu value, 68020..68060)
# Needs: apt-get install csmith libcsmith-dev; npx nx run llvm-m68k:toolchain (the clang wrapper).
# Appends to OUT_DIR/results.txt (one line per seed: ok, mismatch, clang-crash,
# clang-timeout, link-fail, gcc-timeout, gcc-fail, csmith-fail) and keeps each failing program in
# OUT_DIR/found/. Reduce one with cvise (apt-get install cvise) and add it as a
# reproducer: docs/toolchain-bugs.md, "Adding a patch".
set -u
first=${1:-1} last=${2:-100} opt=${3:--O2} cpu=${4:-68040} out=${5:-fuzz-out}
root=$(cd "$(dirname "$0")/../.." && pwd)
clang="$root/dist/llvm-m68k/toolchain/bin/clang"
include=/usr/include/csmith
[ -x "$clang" ] || { echo "csmith-diff: $clang missing: run npx nx run llvm-m68k:toolchain" >&2; exit 2; }
command -v csmith >/dev/null && [ -f "$include/csmith.h" ] || {
  echo "csmith-diff: csmith or $include/csmith.h missing: apt-get install csmith libcsmith-dev" >&2
  exit 2
}
qemu=(qemu-m68k -cpu "m$cpu" -L /usr/m68k-linux-gnu)
mkdir -p "$out/found" "$out/work"
out=$(cd "$out" && pwd)
cd "$out/work" || exit 2
for seed in $(seq "$first" "$last"); do
  rm -f t.*
  csmith --seed "$seed" --no-packed-struct --max-funcs 6 --max-block-depth 4 -o t.c >/dev/null 2>&1 ||
    { echo "$seed csmith-fail" >>"$out/results.txt"; continue; }
  timeout 60 m68k-linux-gnu-gcc -O1 -w -I"$include" t.c -o t.gcc 2>/dev/null ||
    { echo "$seed gcc-fail" >>"$out/results.txt"; continue; }
  expected=$(timeout 10 "${qemu[@]}" ./t.gcc 2>/dev/null) || { echo "$seed gcc-timeout" >>"$out/results.txt"; continue; }
  result=ok
  if ! timeout 120 "$clang" --target=m68k-linux-gnu -mcpu="$cpu" "$opt" -fno-crash-diagnostics -w -I"$include" -c t.c -o t.o 2>t.err; then
    result=clang-crash
  elif ! m68k-linux-gnu-gcc t.o -o t.clang 2>t.err; then
    result=link-fail
  else
    actual=$(timeout 10 "${qemu[@]}" ./t.clang 2>/dev/null)
    case $? in
      124) result=clang-timeout ;;
      *) [ "$actual" = "$expected" ] || result=mismatch ;;
    esac
  fi
  echo "$seed $result" >>"$out/results.txt"
  [ "$result" = ok ] || cp t.c "$out/found/$result-$seed.c"
done
echo "csmith-diff: seeds $first..$last ($opt, $cpu), in $out/results.txt:" \
  $(awk -v a="$first" -v b="$last" '$1 >= a && $1 <= b {print $2}' "$out/results.txt" | sort | uniq -c)
