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
