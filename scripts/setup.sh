#!/usr/bin/env bash
# Set-up for a fresh machine of this kind (Debian bookworm, Node 20): installs the
# Debian packages and npm dependencies the project needs, then runs the main job
#   npx nx run rust-target:build --configuration=m68040
# Idempotent and quick when everything is already there.
#   --no-main-job     install only
#   --no-test-tools   leave out what only the tests and benchmarks use (chromium, jq)
#   --list-packages   print the Debian packages it would install, one per line, and stop
set -euo pipefail
cd "$(dirname "$0")/.."

run_main_job=1
test_tools=1
list_only=0
for arg in "$@"; do
  case "$arg" in
    --no-main-job) run_main_job=0 ;;
    --no-test-tools) test_tools=0 ;;
    --list-packages) list_only=1 ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup: unknown option '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

# The toolchain (docs/toolchain-bugs.md explains the patched backend).
PACKAGES=(
  clang-22 llvm-22 llvm-22-dev                 # the LLVM that rustc-web links (libLLVM 22.1), its headers,
                                               #   TableGen files and llvm-tblgen: the patched M68k backend
  g++ make patch xz-utils                      #   builds from Debian's llvm-toolchain-22 source with these
  clang-19 llvm-19                             # the hooks' native client; tests that need a second LLVM
  rustc-web cargo-web rust-web-src             # Rust 1.96 with rust-src and vendored std crates
  gcc-m68k-linux-gnu binutils-m68k-linux-gnu   # m68k gcc driver and ld for linking
  libc6-dev-m68k-cross                         # m68k glibc sysroot (/usr/m68k-linux-gnu)
  qemu-user                                    # qemu-m68k
  librust-itoa-dev librust-memchr-dev          # crates the programs use, offline from /usr/share/cargo/registry
  librust-quickcheck-dev                       #   and memchr's test dev-dependency (rust-target:test)
)
if ((test_tools)); then
  PACKAGES+=(
    chromium                                   # headless screenshots of the HTML report (tests)
    jq                                         # the bash+jq hook dispatcher the latency benchmark compares with
  )
fi
if ((list_only)); then
  printf '%s\n' "${PACKAGES[@]}"
  exit 0
fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing Debian packages: ${missing[*]}"
  $sudo apt-get update -q
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: Debian packages present"
fi

# npm dependencies, reinstalled only when package-lock.json changed.
stamp=node_modules/.nextrust-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: npm install (from package-lock.json)"
  # npm install, not npm ci: npm 11 rejects its own lock file here (optional
  # per-platform binaries of @swc/core and nx "missing from lock file").
  npm install --no-audit --no-fund
  sha256sum package-lock.json | cut -d' ' -f1 > "$stamp"
else
  echo "setup: npm dependencies present"
fi

# The nextrust CLI runs compiled (fast start) when dist/ is newer than its sources;
# the Claude Code hooks need the native hook client (dist/hook-client) for their fast path.
if [ ! -f tools/nx-plugin/dist/.build-stamp ] || [ ! -x tools/nx-plugin/dist/hook-client ] ||
  [ -n "$(find tools/nx-plugin/src tools/nx-plugin/index.ts tools/nx-plugin/native tools/nx-plugin/scripts -newer tools/nx-plugin/dist/.build-stamp -print -quit)" ]; then
  echo "setup: building the nextrust CLI (npm run build)"
  npm run --silent build
else
  echo "setup: nextrust CLI built"
fi

if ((run_main_job)); then
  echo "setup: main job: npx nx run rust-target:build --configuration=m68040"
  npx nx run rust-target:build --configuration=m68040
fi
