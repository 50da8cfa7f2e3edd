#!/usr/bin/env bash
# Make the `node` base image the talk's Dockerfile starts FROM.
#
# Docker Hub is out of reach here, so the image is made the way official base
# images are made: a Debian root filesystem from Debian's own packages
# (mmdebstrap --variant=minbase with nodejs and npm) packed as rootfs.tar.xz, then
# a Dockerfile `FROM scratch` + `ADD rootfs.tar.xz /` + `CMD ["node"]` built as node:latest.
# If the builder is not available, `dockyard import` of the same tar is used.
#
# The rootfs tar is cached (/var/cache/dockyard, or ~/.cache/dockyard when that
# is not writable), so a second run only checks that node:latest exists.
#
# Usage: scripts/make-node-image.sh [--rootfs-only] [--refresh] [--rebuild]
#   --rootfs-only  make (or reuse) the cached rootfs tar and print its path; no daemon needed
#   --refresh      make the rootfs tar again even if cached (new Debian point release)
#   --rebuild      make node:latest again even if it exists
# Environment: DOCKYARD (CLI to use, default .venv/bin/dockyard), DOCKYARD_CACHE,
#   DOCKYARD_DEBIAN_MIRROR, DOCKYARD_NODE_SUITE (default bookworm), DOCKYARD_NODE_IMAGE.
set -euo pipefail
cd "$(dirname "$0")/.."

SUITE=${DOCKYARD_NODE_SUITE:-bookworm}
IMAGE=${DOCKYARD_NODE_IMAGE:-node:latest}
PACKAGES=nodejs,npm
rootfs_only=0 refresh=0 rebuild=0
for arg in "$@"; do
  case "$arg" in
    --rootfs-only) rootfs_only=1 ;;
    --refresh) refresh=1 ;;
    --rebuild) rebuild=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "make-node-image: unknown option '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

say() { printf 'make-node-image: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# Where the rootfs tar lives: a system cache as root, the user's cache otherwise.
cache_dir() {
  if [ -n "${DOCKYARD_CACHE:-}" ]; then echo "$DOCKYARD_CACHE"
  elif mkdir -p /var/cache/dockyard 2>/dev/null && [ -w /var/cache/dockyard ]; then
    echo /var/cache/dockyard
  else echo "${XDG_CACHE_HOME:-$HOME/.cache}/dockyard"; fi
}

# The first URI ending in /<name> in the machine's apt sources (deb822 or one-line).
apt_uri() {
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
    2>/dev/null | grep -v '^ *#' | grep -oE "https?://[^ ]+/$1/?( |\$)" | head -n1 | tr -d ' ' \
    | sed 's:/$::' || true
}

# The Debian mirrors the machine's apt already uses, so the rootfs comes from the
# same place as the host's packages; deb.debian.org when there are none.
debian_mirror() {
  local m=${DOCKYARD_DEBIAN_MIRROR:-$(apt_uri debian)}
  echo "${m:-http://deb.debian.org/debian}"
}

security_mirror() {
  local m=${DOCKYARD_DEBIAN_MIRROR:+$DOCKYARD_DEBIAN_MIRROR-security}
  m=${m:-$(apt_uri debian-security)}
  echo "${m:-http://deb.debian.org/debian-security}"
}

# mmdebstrap into a temp tar, compressed with all cores, renamed into the cache
# only when complete: an interrupted run never leaves a truncated tar behind.
make_rootfs() {
  local out=$1 mirror security tmp
  command -v mmdebstrap >/dev/null || die "mmdebstrap is not installed (run scripts/setup.sh)"
  mirror=$(debian_mirror); security=$(security_mirror)
  tmp=$(mktemp "${out%/*}/.node-rootfs.XXXXXX")
  trap 'rm -f "$tmp" "$tmp.tar"' EXIT
  say "[1/3] debian $SUITE minbase + $PACKAGES from $mirror (about a minute)"
  # Explicit sources: mmdebstrap would otherwise read them from stdin when it is not a tty.
  mmdebstrap --variant=minbase --include="$PACKAGES" --format=tar \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    "$SUITE" "$tmp.tar" \
    "deb $mirror $SUITE main" "deb $mirror $SUITE-updates main" \
    "deb $security $SUITE-security main" </dev/null
  say "[2/3] compressing $(du -h "$tmp.tar" | cut -f1) rootfs with xz"
  xz -T0 -3 -c "$tmp.tar" >"$tmp"
  rm -f "$tmp.tar"
  chmod 0644 "$tmp"  # mktemp made it 0600; the cache is for every user
  mv "$tmp" "$out"
  trap - EXIT
  say "rootfs cached at $out ($(du -h "$out" | cut -f1))"
}

# Build node:latest from the rootfs the way official images are made; the
# builder's cache makes a re-run cheap. Falls back to import without a builder.
make_image() {
  local rootfs=$1 ctx
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' EXIT
  ln "$rootfs" "$ctx/rootfs.tar.xz" 2>/dev/null || cp "$rootfs" "$ctx/rootfs.tar.xz"
  printf 'FROM scratch\nADD rootfs.tar.xz /\nCMD ["node"]\n' >"$ctx/Dockerfile"
  if "$DOCKYARD" build --help >/dev/null 2>&1; then
    say "[3/3] $DOCKYARD build -t $IMAGE (FROM scratch + ADD rootfs.tar.xz /)"
    "$DOCKYARD" build -t "$IMAGE" "$ctx"
  else
    say "[3/3] no builder yet: $DOCKYARD import --change 'CMD [\"node\"]' rootfs.tar.xz $IMAGE"
    "$DOCKYARD" import --change 'CMD ["node"]' "$ctx/rootfs.tar.xz" "$IMAGE"
  fi
  rm -rf "$ctx"
  trap - EXIT
}

main() {
  local dir rootfs
  dir=$(cache_dir); mkdir -p "$dir"
  rootfs="$dir/node-$SUITE-minbase.tar.xz"
  if [ "$refresh" = 1 ] || [ ! -s "$rootfs" ]; then make_rootfs "$rootfs"
  else say "[1/3] using cached rootfs $rootfs"; fi
  if [ "$rootfs_only" = 1 ]; then echo "$rootfs"; return; fi
  DOCKYARD=${DOCKYARD:-$PWD/.venv/bin/dockyard}
  [ -x "$DOCKYARD" ] || DOCKYARD=$(command -v dockyard) || die "no dockyard CLI (run scripts/setup.sh)"
  if [ "$rebuild" = 0 ] && "$DOCKYARD" image inspect "$IMAGE" >/dev/null 2>&1; then
    say "$IMAGE is already present (--rebuild to make it again)"; return
  fi
  make_image "$rootfs"
  say "$IMAGE is ready"
}
main
