#!/usr/bin/env bash
# The project's tests (README: "npm test"): jest runs the unit tests, the
# tests against the real toolchain, the cache-correctness tests in a scratch
# copy of the workspace, and the end-to-end run (main job and emulator tests
# for m68040, m68030 and m68000) in this workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
exec npx jest "$@"
