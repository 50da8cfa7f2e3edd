"""The lean launchers run the CLI and the runtime under python -S from any directory."""
import os
import subprocess
import sys

from dockyard import launchers


def test_launchers_run_without_site(tmp_path):
    written = launchers.install(str(tmp_path), python=sys.executable)
    assert sorted(os.path.basename(p) for p in written) == ["dockyard", "dockyard-runtime"]
    for path in written:
        first = open(path).readline()
        assert first == f"#!{sys.executable} -S\n"
        assert os.access(path, os.X_OK)
    out = subprocess.run([str(tmp_path / "dockyard"), "--version"], cwd="/",
                         capture_output=True, text=True, check=True)
    assert out.stdout.startswith("dockyard version ")


def test_launcher_text_names_target():
    text = launchers.launcher_text("/py", "/src", "dockyard.runtime.cli:main")
    assert "from dockyard.runtime.cli import main" in text
    assert "sys.path.insert(0, '/src')" in text


def test_pick_python_prefers_a_same_version_candidate(tmp_path, monkeypatch):
    monkeypatch.delenv("DOCKYARD_LAUNCHER_PYTHON", raising=False)
    other = tmp_path / "py-other"
    other.write_text("#!/bin/sh\necho 2.7\n")
    other.chmod(0o755)
    same = tmp_path / "py-same"
    same.write_text(f"#!/bin/sh\nexec {sys.executable} \"$@\"\n")
    same.chmod(0o755)
    assert launchers.pick_python("/default", (str(other),)) == "/default"
    assert launchers.pick_python("/default", (str(tmp_path / "missing"), str(same))) == str(same)
    monkeypatch.setenv("DOCKYARD_LAUNCHER_PYTHON", "/chosen")
    assert launchers.pick_python("/default", (str(same),)) == "/chosen"


def test_launcher_output_and_status_survive_the_fast_exit(tmp_path):
    """The launcher leaves with posix._exit: what the command printed must still arrive
    (through a pipe, so fully buffered) and its exit status must be kept."""
    launchers.install(str(tmp_path), python=sys.executable)
    ok = subprocess.run([str(tmp_path / "dockyard"), "--help"], capture_output=True,
                        text=True, timeout=30)
    assert ok.returncode == 0
    assert ok.stdout.startswith("Usage:  dockyard")
    assert ok.stdout.rstrip().endswith("-v, --version        Print version")  # all of it
    bad = subprocess.run([str(tmp_path / "dockyard"), "no-such-verb"], capture_output=True,
                         text=True, timeout=30)
    assert bad.returncode == 1
    assert "'no-such-verb' is not a dockyard command" in bad.stderr
    rt = subprocess.run([str(tmp_path / "dockyard-runtime"), "--root", str(tmp_path / "st"),
                         "state", "nope"], capture_output=True, text=True, timeout=30)
    assert rt.returncode == 1 and "container does not exist" in rt.stderr
