"""Port publishing with kernel NAT (iptables, nf_tables backend) and host-port reservation.

Mechanism (why: the kernel forwards at full speed, no proxy process per port):

* nat ``<P>`` (jumped from PREROUTING and OUTPUT for local destinations): one DNAT rule
  per published port, tagged ``--comment dy:<container id>``. OUTPUT makes it work
  for connections from the host itself, including to 127.0.0.1.
* nat ``<P>-POSTROUTING``: per bridge, MASQUERADE of 127.0.0.0/8 sources going into the
  bridge (with ``route_localnet=1`` on the bridge this is what makes localhost work),
  of DNAT'd connections from the bridge itself (hairpin: a container reaching a
  published port) and, unless the network is internal, outbound NAT for the subnet.
* filter ``<P>-FORWARD`` (first rule of FORWARD): accepts traffic between containers
  of a bridge, replies and published (DNAT'd) connections into a bridge, outbound
  traffic unless internal, and drops the rest into a bridge (isolation).

Every change is one ``iptables-restore --noflush`` batch. Dockyard's rules live only in
its own chains, so :func:`base_batch` (which re-declares, i.e. flushes, them) rebuilds the
exact state from the database on daemon start.

Host ports are reserved separately (:mod:`dockyard.network.ports`).
"""
from __future__ import annotations

import subprocess
import threading
from dataclasses import dataclass

from dockyard.errors import Unavailable


@dataclass(frozen=True)
class Mapping:
    """One active publication: host ``ip:port`` → container ``ip:port``."""

    container_id: str
    proto: str
    host_ip: str
    host_port: int
    container_ip: str
    container_port: int


@dataclass(frozen=True)
class BridgeNet:
    """What the chains need to know about one bridge network."""

    bridge: str
    subnet: str
    internal: bool


def dnat_rule(chain: str, m: Mapping) -> str:
    """The DNAT rule for one mapping (without the -A/-D verb)."""
    dest = "" if m.host_ip in ("", "0.0.0.0") else f"-d {m.host_ip}/32 "
    return (f"{chain} {dest}-p {m.proto} -m {m.proto} --dport {m.host_port} "
            f"-m comment --comment dy:{m.container_id[:12]} "
            f"-j DNAT --to-destination {m.container_ip}:{m.container_port}")


def mapping_batch(chain: str, mappings: list[Mapping], verb: str = "-A") -> str:
    """One restore batch adding (``-A``) or deleting (``-D``) the mappings' DNAT rules."""
    lines = ["*nat"] + [f"{verb} {dnat_rule(chain, m)}" for m in mappings] + ["COMMIT", ""]
    return "\n".join(lines)


def _bridge_rules(chain: str, nets: list[BridgeNet]) -> tuple[list[str], list[str]]:
    post, fwd = [], []
    for n in nets:
        post.append(f"-A {chain}-POSTROUTING -s 127.0.0.0/8 -o {n.bridge} -j MASQUERADE")
        post.append(f"-A {chain}-POSTROUTING -s {n.subnet} -o {n.bridge} "
                    f"-m conntrack --ctstate DNAT -j MASQUERADE")
        if not n.internal:
            post.append(f"-A {chain}-POSTROUTING -s {n.subnet} ! -o {n.bridge} -j MASQUERADE")
        fwd.append(f"-A {chain}-FORWARD -o {n.bridge} -m conntrack "
                   f"--ctstate RELATED,ESTABLISHED,DNAT -j ACCEPT")
        fwd.append(f"-A {chain}-FORWARD -i {n.bridge} -o {n.bridge} -j ACCEPT")
    fwd += [f"-A {chain}-FORWARD -o {n.bridge} -j DROP" for n in nets]
    fwd += [f"-A {chain}-FORWARD -i {n.bridge} -j {'DROP' if n.internal else 'ACCEPT'}"
            for n in nets]
    return post, fwd


def base_batch(chain: str, nets: list[BridgeNet], mappings: list[Mapping],
               jumps_present: set[str]) -> str:
    """A batch that (re)declares dockyard's chains — flushing them — fills them from
    scratch, and adds the jumps from the built-in chains that are missing."""
    post, fwd = _bridge_rules(chain, nets)
    nat = [f":{chain} - [0:0]", f":{chain}-POSTROUTING - [0:0]"]
    for builtin, rule in jump_rules(chain)["nat"]:
        if f"nat {builtin}" not in jumps_present:
            nat.append(f"-I {builtin} 1 {rule}")
    nat += [f"-A {dnat_rule(chain, m)}" for m in mappings] + post
    filt = [f":{chain}-FORWARD - [0:0]"]
    if "filter FORWARD" not in jumps_present:
        filt.append(f"-I FORWARD 1 -j {chain}-FORWARD")
    return "\n".join(["*nat", *nat, "COMMIT", "*filter", *filt, *fwd, "COMMIT", ""])


def jump_rules(chain: str) -> dict[str, list[tuple[str, str]]]:
    """The jumps into dockyard's chains, per table: (built-in chain, rule)."""
    local = f"-m addrtype --dst-type LOCAL -j {chain}"
    return {"nat": [("PREROUTING", local), ("OUTPUT", local),
                    ("POSTROUTING", f"-j {chain}-POSTROUTING")],
            "filter": [("FORWARD", f"-j {chain}-FORWARD")]}


def present_jumps(chain: str, saved: str) -> set[str]:
    """Which jumps already exist in ``iptables-save`` output: {"nat PREROUTING", …}."""
    found, table = set(), ""
    for line in saved.splitlines():
        if line.startswith("*"):
            table = line[1:]
        words = line.split()
        if len(words) > 2 and words[0] == "-A" and words[-1] in (chain, f"{chain}-POSTROUTING",
                                                                  f"{chain}-FORWARD"):
            found.add(f"{table} {words[1]}")
    return found


def _restore_cmd() -> list[str]:
    return ["iptables-restore", "--noflush", "--wait"]


def _popen() -> subprocess.Popen:
    try:
        return subprocess.Popen(_restore_cmd(), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
    except FileNotFoundError:
        raise Unavailable("port publishing needs iptables-restore (Debian package iptables)") from None


class _Standby:
    """One iptables-restore started ahead of need, idle on its stdin.

    Starting the process (fork/exec from the big daemon, loading iptables and its
    extensions) is most of what a one-rule batch costs; a standby process has done all
    that and only parses, reads the kernel's ruleset and commits once the batch arrives
    (it reads the ruleset only then, so it never acts on a stale view). It is refilled
    off the critical path (:func:`keep_standby`); idle, it holds nothing, and EOF on its
    stdin (:func:`drop_standby`, or the daemon dying) makes it exit without a change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self.wanted = False  # set by the first real use: unit tests that stub the
                             # batches never start a process
        self.usable: bool | None = None  # nf_tables backend? (checked once)

    def take(self) -> subprocess.Popen | None:
        with self._lock:
            self.wanted = True
            proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is not None:  # died meanwhile (killed?)
            _close(proc)
            return None
        return proc

    def fill(self) -> None:
        with self._lock:
            if self._proc is not None or not self.wanted:
                return
        if self.usable is None:
            self.usable = _nft_backend()
        if not self.usable:
            return
        proc = _popen()
        with self._lock:
            if self._proc is None:
                self._proc, proc = proc, None
        if proc is not None:  # another thread filled it meanwhile
            _close(proc)

    def drop(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None:
            _close(proc)


def _nft_backend() -> bool:
    """Only the nf_tables backend is safe to keep waiting: the legacy one takes the
    xtables lock when it starts, so an idle one would block every other iptables call."""
    try:
        out = subprocess.run([_restore_cmd()[0], "--version"], capture_output=True, text=True,
                             timeout=30, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "nf_tables" in out


def _close(proc: subprocess.Popen) -> None:
    """EOF to an unused process (it exits without applying anything) and reap it."""
    try:
        proc.stdin.close()
    except OSError:
        pass
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    proc.stderr.close()


_standby = _Standby()


def keep_standby() -> None:
    """Have an idle iptables-restore ready for the next batch (call it off the critical
    path: it forks). Does nothing until a batch was really applied in this process."""
    _standby.fill()


def drop_standby() -> None:
    """Stop the idle iptables-restore (daemon stop): it exits without a change."""
    _standby.drop()


def _spawn(batch: str) -> subprocess.Popen:
    data = batch.encode()
    proc = _standby.take()
    if proc is not None:
        try:
            proc.stdin.write(data)
            proc.stdin.close()
            return proc
        except OSError:  # it died between the check and the write
            _close(proc)
    proc = _popen()
    proc.stdin.write(data)
    proc.stdin.close()
    return proc


def _reap(proc: subprocess.Popen) -> None:
    err = proc.stderr.read()
    proc.stderr.close()
    if proc.wait(timeout=30):
        raise OSError(f"iptables-restore failed: {err.decode(errors='replace').strip()}")


def run_restore(batch: str) -> None:
    """Apply a batch with ``iptables-restore --noflush`` (one process, one transaction)."""
    _reap(_spawn(batch))


class Pending:
    """An iptables-restore running in the background (None: nothing to apply)."""

    def __init__(self, proc: subprocess.Popen | None) -> None:
        self.proc = proc
        self.done = proc is None
        self.error: OSError | None = None

    def wait(self) -> None:
        """Block until applied; raise its error."""
        if not self.done:
            self.done = True
            try:
                _reap(self.proc)
            except OSError as e:
                self.error = e
        if self.error:
            raise self.error

    def undo(self, reverse_batch: str) -> None:
        """Rollback: once it has finished, remove what it added (if it succeeded)."""
        try:
            self.wait()
        except OSError:
            return
        if self.proc is not None:
            run_restore(reverse_batch)


def start_restore(batch: str) -> Pending:
    """Start applying ``batch`` without waiting (see :class:`Pending`)."""
    return Pending(_spawn(batch))


def save() -> str:
    """Current nat and filter rules (``iptables-save``)."""
    out = []
    for table in ("nat", "filter"):
        proc = subprocess.run(["iptables-save", "-t", table], capture_output=True, check=False)
        out.append(proc.stdout.decode(errors="replace"))
    return "".join(out)


def remove_chains(chain: str) -> None:
    """Delete dockyard's jumps and chains entirely (daemon stop with nothing running)."""
    saved = save()
    lines = {"nat": [], "filter": []}
    for table, jumps in jump_rules(chain).items():
        for builtin, rule in jumps:
            if f"{table} {builtin}" in present_jumps(chain, saved):
                lines[table].append(f"-D {builtin} {rule}")
    declared = {"nat": [chain, f"{chain}-POSTROUTING"], "filter": [f"{chain}-FORWARD"]}
    for table, chains in declared.items():
        for name in chains:
            if f":{name} " in saved:
                lines[table] += [f":{name} - [0:0]", f"-X {name}"]
    batch = []
    for table, body in lines.items():
        if body:
            batch += [f"*{table}", *body, "COMMIT"]
    if batch:
        run_restore("\n".join(batch + [""]))
