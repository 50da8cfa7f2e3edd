#!/usr/bin/env bash
# The talk's walk-through (../shared/seed/docker-engine-talk.md) with dockyard, in
# one command, from a fresh Debian 12 machine:
#
#   install dockyard and its system packages → start the daemon → make the node
#   base image → dockyard build -t team-documentation examples/team-documentation
#   → dockyard images → dockyard run -d -p 3000:3000 team-documentation
#   → curl http://localhost:3000 → dockyard ps
#
# Like the talk, it leaves the container running at the end. A re-run removes the
# previous run's container first and is fast: setup only checks, the base image
# is reused and every build step is a cache hit.
#
# Usage: scripts/walkthrough.sh        (as root; see docs/tutorial.md for each step)
# Environment: DOCKYARD_WALKTHROUGH_PORT (host port, default 3000).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PORT=${DOCKYARD_WALKTHROUGH_PORT:-3000}
IMAGE=team-documentation
# The previous run's container, so a re-run can free port $PORT even after the
# image was rebuilt (then `ps --filter ancestor=` no longer matches it).
STATE=${XDG_STATE_HOME:-$HOME/.local/state}/dockyard/walkthrough.cid
started=$(date +%s)

if [ -t 1 ]; then bold=$'\e[1m' off=$'\e[0m'; else bold='' off=''; fi
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$off"; }
# Print a command the way a terminal session shows it, then run it.
show() { printf '$ %s\n' "$*"; "$@"; }
die() { printf 'walkthrough: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root: dockyard makes namespaces, mounts and bridges"

step "Installing dockyard and its system packages (scripts/setup.sh)"
scripts/setup.sh
export PATH="$REPO/.venv/bin:$PATH"

step "Starting the daemon (the CLI starts dockyardd when none answers)"
show dockyard version

step "Making the node base image (Debian's nodejs and npm; cached after the first run)"
DOCKYARD="$REPO/.venv/bin/dockyard" scripts/make-node-image.sh

step "Building our image"
show dockyard build -t "$IMAGE" examples/team-documentation

step "Our images"
show dockyard images

step "Removing the previous run's container, if any"
old=$( { cat "$STATE" 2>/dev/null || true; dockyard ps -aq --no-trunc --filter "ancestor=$IMAGE"; } \
       | sort -u)
if [ -n "$old" ]; then
  # A container that is already gone is fine; anything else is an error.
  for id in $old; do
    if dockyard rm -f "$id" >/dev/null 2>&1; then echo "removed ${id:0:12}"
    elif dockyard inspect "$id" >/dev/null 2>&1; then die "could not remove container $id"
    fi
  done
else
  echo "none"
fi

step "Running it"
printf '$ dockyard run -d -p %s:3000 %s\n' "$PORT" "$IMAGE"
cid=$(dockyard run -d -p "$PORT:3000" "$IMAGE")
echo "$cid"
mkdir -p "$(dirname "$STATE")" && echo "$cid" >"$STATE"

step "Testing it out"
printf '$ curl http://localhost:%s\n' "$PORT"
# npm takes a moment to start the server inside the container (seconds on a busy machine).
for _ in $(seq 1 150); do
  if page=$(curl -fsS --max-time 2 "http://localhost:$PORT" 2>/dev/null); then break; fi
  page=''
  sleep 0.2
done
if [ -z "$page" ]; then
  dockyard logs "$cid" >&2 || true
  die "nothing answered on http://localhost:$PORT within 30 s (container logs above)"
fi
printf '%s\n' "$page"

step "Our running container"
show dockyard ps

printf '\nTa da! The team documentation is at http://localhost:%s (walk-through took %ss).\n' \
  "$PORT" "$(( $(date +%s) - started ))"
printf 'Stop it with: dockyard rm -f %s\n' "${cid:0:12}"
