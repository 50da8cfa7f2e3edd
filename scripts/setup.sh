#!/usr/bin/env bash
# Install everything dockyard and its tests need on a fresh Debian 12 machine:
# Debian packages (apt-get) and a virtual environment in .venv with the package.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(busybox-static runc iptables iproute2 docker-registry skopeo umoci apache2-utils
      openssl curl ca-certificates mmdebstrap xz-utils docker-compose
      docker.io)  # a real dockerd for interop tests; never started as a service
PKGS+=(tini)  # static init that `run --init` bind-mounts as /sbin/docker-init
PKGS+=(${DOCKYARD_EXTRA_PKGS:-})
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # no package may start its service (a system dockerd or registry would take bridges,
  # iptables chains and ports that the tests make their own)
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The API socket is 0660 root:dockyard; members of the group may use dockyard.
getent group dockyard >/dev/null || groupadd --system dockyard
# docker-registry starts itself as a service on install; tests run their own.
systemctl disable --now docker-registry >/dev/null 2>&1 || true
pkill -f '^/usr/bin/docker-registry serve /etc/docker/registry' 2>/dev/null || true

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.dockyard-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing dockyard into .venv"
  .venv/bin/pip install -q --upgrade pip >/dev/null
  # compat mode: a plain path in a .pth file; the default editable finder imports
  # pathlib & co. at every interpreter start (~15 ms on each CLI call)
  .venv/bin/pip install -q -e '.[test]' --config-settings editable_mode=compat
  touch "$stamp"
fi
# The CLI and the runtime start with python -S (dockyard/launchers.py): no site scan
# on every short-lived call. Re-run each time: pip rewrites the wrappers on install.
.venv/bin/python -m dockyard.launchers .venv/bin >/dev/null
# Byte-compile now: with PYTHONDONTWRITEBYTECODE set (as in some shells and CI) every
# CLI call would otherwise recompile the modules it imports.
.venv/bin/python -m compileall -q -j 0 dockyard >/dev/null
echo "setup: ready (.venv/bin/dockyard)"
