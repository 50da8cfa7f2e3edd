"""The CLI autostarts the dockyardd beside its launcher (its interpreter has the daemon's
dependencies; the lean CLI may run on another one)."""
import sys

from dockyard import client


def test_daemon_beside_the_launcher_wins(tmp_path, monkeypatch):
    (tmp_path / "dockyard").write_text("")
    d = tmp_path / "dockyardd"
    d.write_text("#!/bin/sh\n")
    d.chmod(0o755)
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "dockyard"), "images"])
    assert client._daemon_command() == [str(d)]


def test_falls_back_to_this_interpreter(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "dockyard")])
    monkeypatch.setenv("PATH", str(tmp_path))
    assert client._daemon_command() == [sys.executable, "-m", "dockyard.daemon"]
