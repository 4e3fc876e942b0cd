#!/usr/bin/env bash
# Create or reuse .venv/ (tools/setup_env.sh), then run the test suite.
#
# Usage: bash tools/run_tests.sh [pytest arguments ...]   (from anywhere)
# pytest's exit code 5 ("no tests collected") counts as a failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash tools/setup_env.sh

rc=0
.venv/bin/python -m pytest tests -q "$@" || rc=$?
if (( rc == 5 )); then
  echo "[run_tests] pytest collected no tests: failing" >&2
  exit 1
fi
exit "$rc"
