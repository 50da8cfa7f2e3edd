"""dockyard.getenv: os.environ.get without importing os."""
import os
import subprocess
import sys

import dockyard

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_getenv_follows_os_environ_once_os_is_loaded(monkeypatch):
    monkeypatch.setenv("DOCKYARD_T_SET", "a=b c")
    monkeypatch.delenv("DOCKYARD_T_UNSET", raising=False)
    assert dockyard.getenv("DOCKYARD_T_SET") == "a=b c"
    assert dockyard.getenv("DOCKYARD_T_UNSET") is None
    assert dockyard.getenv("DOCKYARD_T_UNSET", "dflt") == "dflt"


def test_getenv_without_os_decodes_like_os_environ():
    env = {b"DOCKYARD_T_SET": b"x y", b"DOCKYARD_T_EMPTY": b"", b"DOCKYARD_T_RAW": b"\xff-x",
           b"PATH": b"/usr/bin:/bin"}
    probe = ("import sys; sys.path.insert(0, %r); import dockyard\n"
             "got = [dockyard.getenv(n) for n in ('DOCKYARD_T_SET', 'DOCKYARD_T_EMPTY',"
             " 'DOCKYARD_T_RAW', 'DOCKYARD_T_UNSET')]\n"
             "assert 'os' not in sys.modules\n"
             "import os\n"
             "want = [os.environ.get(n) for n in ('DOCKYARD_T_SET', 'DOCKYARD_T_EMPTY',"
             " 'DOCKYARD_T_RAW', 'DOCKYARD_T_UNSET')]\n"
             "assert got == want, (got, want)\n"
             "print(repr(got))" % REPO)
    r = subprocess.run([sys.executable, "-S", "-c", probe], env=env, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == repr(["x y", "", "\udcff-x", None])
