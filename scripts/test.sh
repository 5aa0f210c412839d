#!/usr/bin/env bash
# The project's tests (README: "npm test"): first the quality gates (prettier,
# eslint, tsc --noEmit, no import cycles: `npm run check`), then jest runs the
# unit tests, the tests against the real toolchain, the cache-correctness
# tests in a scratch copy of the workspace, and the end-to-end run (main job
# and emulator tests for m68040, m68030 and m68000) in this workspace.
# Arguments go to jest (a subset: `npm test -- tools/nx-plugin/src/cli`) and
# skip the gates.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then
  echo "test: quality gates (npm run check: prettier --check, eslint, tsc --noEmit, madge --circular)"
  npm run -s check
fi
exec npx jest "$@"
