"""OCI hooks: run each with the container state as JSON on stdin.

Where they run (runtime-spec "Lifecycle"): prestart/createRuntime/poststart/
poststop in the runtime's namespaces (the parent), createContainer and
startContainer inside the container (the init, before pivot_root and just
before exec respectively).
"""
from __future__ import annotations

from dockyard.runtime import jsonio

from dockyard.errors import DockyardError


class HookError(DockyardError):
    """A hook failed, timed out or could not be started."""


def run(hooks: list[dict] | None, state: dict, kind: str) -> None:
    """Run ``hooks`` in order; the first failure raises HookError naming the hook."""
    if not hooks:
        return
    import subprocess  # only paid for when a config has hooks
    data = jsonio.dumps(state).encode()
    for i, hook in enumerate(hooks):
        args = hook.get("args") or [hook["path"]]
        env = dict(e.split("=", 1) for e in hook.get("env") or [])
        try:
            proc = subprocess.run(args, executable=hook["path"], input=data, env=env,
                                  capture_output=True, timeout=hook.get("timeout"))
        except subprocess.TimeoutExpired:
            raise HookError(f"{kind} hook #{i} ({hook['path']}) timed out") from None
        except OSError as e:
            raise HookError(f"{kind} hook #{i} ({hook['path']}): {e.strerror}") from None
        if proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).decode(errors="replace").strip()
            raise HookError(f"{kind} hook #{i} ({hook['path']}) exited with status "
                            f"{proc.returncode}: {detail}")
