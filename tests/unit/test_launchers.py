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
