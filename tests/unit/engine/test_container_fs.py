import os

from dockyard.engine.commit_changes import apply_changes
from dockyard.engine.container_fs import scoped_path, scoped_resolve
from dockyard.engine.container_view import status_text
from dockyard.units import human_duration


def test_scoped_resolve_keeps_symlinks_inside(tmp_path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    os.symlink("/etc", root / "abs")
    os.symlink("../../../../etc", root / "rel")
    os.symlink("/", root / "slash")
    assert scoped_resolve(str(root), "/abs/passwd") == str(root / "etc/passwd")
    assert scoped_resolve(str(root), "/rel") == str(root / "etc")
    assert scoped_path(str(root), "/slash/../../etc") == "/etc"
    assert scoped_resolve(str(root), "/abs", follow_last=False) == str(root / "abs")


def test_symlink_loop_is_an_error(tmp_path):
    import pytest

    from dockyard.errors import InvalidArgument
    os.symlink("b", tmp_path / "a")
    os.symlink("a", tmp_path / "b")
    with pytest.raises(InvalidArgument, match="too many levels"):
        scoped_resolve(str(tmp_path), "/a")


def test_commit_changes():
    cfg = {"Env": ["A=1"]}
    apply_changes(cfg, 'CMD ["sh", "-c", "x"]')
    apply_changes(cfg, "ENV A=2 B=3")
    apply_changes(cfg, "EXPOSE 80 53/udp")
    apply_changes(cfg, "WORKDIR /app")
    assert cfg["Cmd"] == ["sh", "-c", "x"]
    assert cfg["Env"] == ["A=2", "B=3"]
    assert cfg["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}}
    assert cfg["WorkingDir"] == "/app"
    apply_changes(cfg, "ENTRYPOINT echo hi")
    assert cfg["Entrypoint"] == ["/bin/sh", "-c", "echo hi"]


def test_commit_change_healthcheck_uses_the_dockerfile_syntax():
    cfg: dict = {}
    apply_changes(cfg, "HEALTHCHECK --interval=5s --retries=2 CMD wget -qO- localhost || exit 1")
    assert cfg["Healthcheck"] == {"Test": ["CMD-SHELL", "wget -qO- localhost || exit 1"],
                                  "Interval": 5_000_000_000, "Retries": 2}
    apply_changes(cfg, 'HEALTHCHECK CMD ["true"]')
    assert cfg["Healthcheck"] == {"Test": ["CMD", "true"]}
    apply_changes(cfg, "HEALTHCHECK NONE")
    assert cfg["Healthcheck"] == {"Test": ["NONE"]}
    import pytest
    from dockyard.errors import InvalidArgument
    for bad in ("HEALTHCHECK --interval=abc CMD true", "HEALTHCHECK", "HEALTHCHECK FOO"):
        with pytest.raises(InvalidArgument, match="invalid change"):
            apply_changes(cfg, bad)


def test_status_text_like_docker():
    assert human_duration(0.2) == "Less than a second"
    assert human_duration(75) == "About a minute"
    assert human_duration(3 * 3600) == "3 hours"
    rec = {"State": {"Status": "exited", "ExitCode": 3, "FinishedAt": "0001-01-01T00:00:00Z",
                     "StartedAt": "0001-01-01T00:00:00Z"}}
    assert status_text(rec) == "Exited (3)"
    rec["State"]["Status"] = "created"
    assert status_text(rec) == "Created"
