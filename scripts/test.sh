#!/usr/bin/env bash
# The README's test command: set everything up on a fresh machine, then run the whole
# suite (unit, integration as root, compat with the real docker CLI and docker-py).
# Extra arguments go to pytest (e.g. scripts/test.sh tests/unit -x).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
args=("$@")
if [ ${#args[@]} -eq 0 ]; then
  args=(tests)
  # The walk-through test builds the talk's example FROM node, whose root filesystem
  # is made from Debian's packages like the ones above (cached after the first time);
  # should the mirror be out of reach, that one test says so and skips.
  scripts/make-node-image.sh --rootfs-only >/dev/null \
    || echo "test: no node rootfs; the walk-through test will skip" >&2
fi
set +e
.venv/bin/python -m pytest -q -rfEs --durations=15 "${args[@]}"
rc=$?
set -e
# pytest's 5 means "no tests collected": that is a failure of the suite, not a pass.
exit $rc
