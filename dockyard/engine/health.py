"""Health checks (``HEALTHCHECK`` / ``--health-*``): docker's State.Health for a container.

One small thread per running container that has a check. Each probe is an exec through the
supervisor; its output (first 4 KiB) and exit code go into ``State.Health.Log`` (last 5).
Status: ``starting`` until the first success (failures in the start period do not count),
``healthy``, or ``unhealthy`` after ``Retries`` consecutive failures; each change emits a
``health_status: …`` event like docker's.
"""
from __future__ import annotations

import secrets
import threading
import time

from dockyard.supervisor import protocol as P
from dockyard.supervisor.logs import rfc3339nano

DEFAULT_INTERVAL = 30.0
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
MAX_OUTPUT = 4096


def probe_args(test: list[str] | None) -> list[str] | None:
    """The command of a Healthcheck.Test; None when there is no check."""
    if not test or test[0] == "NONE":
        return None
    if test[0] == "CMD-SHELL":
        return ["/bin/sh", "-c", " ".join(test[1:])]
    if test[0] == "CMD":
        return list(test[1:]) or None
    return list(test)


class HealthMonitor:
    def __init__(self, svc, cid: str):
        self.svc, self.cid = svc, cid
        self.stop = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._loop, name=f"health-{self.cid[:12]}", daemon=True).start()

    def _check(self) -> dict:
        return self.svc.get(self.cid)["Config"].get("Healthcheck") or {}

    def _loop(self) -> None:
        hc = self._check()
        args = probe_args(hc.get("Test"))
        if not args:
            return
        interval = (hc.get("Interval") or 0) / 1e9 or DEFAULT_INTERVAL
        timeout = (hc.get("Timeout") or 0) / 1e9 or DEFAULT_TIMEOUT
        retries = hc.get("Retries") or DEFAULT_RETRIES
        grace_until = time.monotonic() + (hc.get("StartPeriod") or 0) / 1e9
        self._record(status="starting")
        while not self.stop.wait(interval):
            if not self._running():
                return
            code, out, start, end = self._probe(args, timeout)
            self._result(code, out, start, end, retries, time.monotonic() < grace_until)

    def _running(self) -> bool:
        rec = self.svc._recs.get(self.cid)
        return bool(rec and rec["State"]["Status"] == "running")

    def _probe(self, args, timeout) -> tuple[int, str, str, str]:
        start = rfc3339nano()
        rec = self.svc.get(self.cid)
        proc = self.svc._exec_process(rec, {"Cmd": args}, tty=False)
        out, code = b"", -1
        try:
            _, stream = self.svc.sup.exec(self.cid, "health-" + secrets.token_hex(8), proc,
                                          tty=False, stdin=False, attach=True)
            stream.sock.settimeout(timeout)
            for sid, data in stream.frames():
                if sid == P.EXIT:
                    code = P.decode(data).get("exit_code", -1)
                elif len(out) < MAX_OUTPUT:
                    out += data
            stream.close()
        except Exception as e:  # noqa: BLE001 — a failed probe is an unhealthy result
            out += f"health check failed: {e}".encode()
        return code, out[:MAX_OUTPUT].decode(errors="replace"), start, rfc3339nano()

    def _result(self, code, out, start, end, retries, in_grace) -> None:
        rec = self.svc.get(self.cid)
        h = dict(rec["State"].get("Health") or {"Status": "starting", "FailingStreak": 0,
                                                 "Log": []})
        log = (h.get("Log") or [])[-4:] + [{"Start": start, "End": end, "ExitCode": code,
                                             "Output": out}]
        if code == 0:
            status, streak = "healthy", 0
        elif in_grace and h["Status"] == "starting":
            status, streak = "starting", h.get("FailingStreak", 0)
        else:
            streak = h.get("FailingStreak", 0) + 1
            status = "unhealthy" if streak >= retries else h["Status"]
        self._record(status=status, streak=streak, log=log)

    def _record(self, status: str, streak: int = 0, log: list | None = None) -> None:
        rec = self.svc.get(self.cid)
        old = (rec["State"].get("Health") or {}).get("Status")
        self.svc._set_state(rec, Health={"Status": status, "FailingStreak": streak,
                                         "Log": log or []})
        if old != status and status != "starting":
            self.svc._emit(f"health_status: {status}", rec)
