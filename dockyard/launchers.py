"""Fast launchers for the short-lived commands (``dockyard`` and ``dockyard-runtime``).

pip's console-script wrappers start the interpreter with ``site``: it scans
site-packages and runs every ``.pth`` file (setuptools' ``_distutils_hack``, the
editable-install path), about 6 ms of every call. The CLI and the runtime need
nothing outside the standard library and this package, so their launchers run
``python -S`` and put the directory holding ``dockyard`` on ``sys.path`` themselves.
``dockyardd`` keeps pip's wrapper: it imports third-party packages and starts once.

``python -m dockyard.launchers BINDIR`` rewrites the two wrappers in BINDIR (the
virtual environment's bin); scripts/setup.sh runs it after ``pip install``.
"""
from __future__ import annotations

import os
import sys

# console script -> "module:function", as in pyproject.toml [project.scripts]
LEAN = {
    "dockyard": "dockyard.cli.main:main",
    "dockyard-runtime": "dockyard.runtime.cli:main",
}

# After the command, the interpreter's finalisation (tearing down every module and
# object) is ~1.2 ms of a 9 ms ``dockyard ps``. The launcher skips it when nothing can
# need it: stdout and stderr flushed, no atexit callback (tempfile, logging,
# concurrent.futures register one), no other thread alive. Files the commands write
# are closed by ``with`` blocks; anything else takes the normal exit.
_TEMPLATE = """#!{python} -S
# dockyard fast launcher (dockyard/launchers.py): no site, the package path fixed at install
import sys
sys.path.insert(0, {root!r})
from {module} import {func}
rc = {func}()
try:
    sys.stdout.flush()
    sys.stderr.flush()
except BaseException:
    sys.exit(rc)
import _thread, atexit, posix
if (rc is None or type(rc) is int) and not _thread._count() and not atexit._ncallbacks():
    posix._exit((rc or 0) & 0xFF)
sys.exit(rc)
"""


def launcher_text(python: str, root: str, target: str) -> str:
    """The script that runs ``target`` ("module:function") under ``python -S``."""
    module, func = target.split(":")
    return _TEMPLATE.format(python=python, root=root, module=module, func=func)


# A statically linked interpreter starts ~2 ms (15%) faster than a shared-libpython build
# such as pyenv's: no relocations of libpython at every start. Debian's is one.
SYSTEM_PYTHON = "/usr/bin/python3"


def pick_python(default: str, candidates: tuple[str, ...] = (SYSTEM_PYTHON,)) -> str:
    """The interpreter for the launchers: ``$DOCKYARD_LAUNCHER_PYTHON``, else the first
    candidate of the same major.minor version as ``default`` (so that the byte-compiled
    modules and the stdlib match), else ``default``."""
    import subprocess
    chosen = os.environ.get("DOCKYARD_LAUNCHER_PYTHON")
    if chosen:
        return chosen
    want = f"{sys.version_info[0]}.{sys.version_info[1]}"
    for cand in candidates:
        if not os.access(cand, os.X_OK) or os.path.realpath(cand) == os.path.realpath(default):
            continue
        probe = subprocess.run([cand, "-S", "-c", "import sys, _json, _socket; "
                                "print('%d.%d' % sys.version_info[:2])"],
                               capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == want:
            return cand
    return default


def install(bindir: str, python: str | None = None) -> list[str]:
    """Write the lean launchers into ``bindir`` atomically; returns the paths written."""
    python = python or pick_python(os.path.join(os.path.abspath(bindir), "python3"))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    written = []
    for name, target in LEAN.items():
        path = os.path.join(bindir, name)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(launcher_text(python, root, target))
        os.chmod(tmp, 0o755)
        os.replace(tmp, path)
        written.append(path)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        sys.exit("usage: python -m dockyard.launchers BINDIR (a directory)")
    for p in install(sys.argv[1]):
        print(f"launcher: {p}")
