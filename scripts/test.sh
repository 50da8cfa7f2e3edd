#!/usr/bin/env bash
# The README's test command: set everything up on a fresh machine, then run the whole
# suite (unit, integration as root, compat with the real docker CLI and docker-py).
# Extra arguments go to pytest (e.g. scripts/test.sh tests/unit -x).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(tests)
set +e
.venv/bin/python -m pytest -q -rfEs --durations=15 "${args[@]}"
rc=$?
set -e
# pytest's 5 means "no tests collected": that is a failure of the suite, not a pass.
exit $rc
