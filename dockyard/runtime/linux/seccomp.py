"""linux.seccomp → a BPF filter, built and loaded with libseccomp (via ctypes).

Semantics follow runc: unknown syscall names are skipped (the profile lists
syscalls of every architecture), a rule whose action equals the default action
is redundant and skipped, and several conditions on the same argument index
become separate rules (libseccomp ANDs conditions, so same-index conditions
would never match together; runc splits them the same way).
"""
from __future__ import annotations

import ctypes
import os

from dockyard.errors import InvalidArgument
from dockyard.runtime import syscalls as sc

_ACT = {
    "SCMP_ACT_KILL": 0x00000000, "SCMP_ACT_KILL_THREAD": 0x00000000,
    "SCMP_ACT_KILL_PROCESS": 0x80000000, "SCMP_ACT_TRAP": 0x00030000,
    "SCMP_ACT_ERRNO": 0x00050000, "SCMP_ACT_TRACE": 0x7FF00000,
    "SCMP_ACT_LOG": 0x7FFC0000, "SCMP_ACT_ALLOW": 0x7FFF0000,
}
OPS = {"SCMP_CMP_NE": 1, "SCMP_CMP_LT": 2, "SCMP_CMP_LE": 3, "SCMP_CMP_EQ": 4,
       "SCMP_CMP_GE": 5, "SCMP_CMP_GT": 6, "SCMP_CMP_MASKED_EQ": 7}
ACTIONS = sorted(_ACT)
_FLTATR_CTL_NNP = 3
_SOCK_FILTER_SIZE = 8  # struct sock_filter: u16 code, u8 jt, u8 jf, u32 k
_EPERM = 1


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


def action(name: str, errno_ret: int | None, field: str) -> int:
    """The libseccomp action value for an OCI action name."""
    if name not in _ACT:
        raise InvalidArgument(f"config.json: {field}: unknown seccomp action {name!r}")
    value = _ACT[name]
    if name == "SCMP_ACT_ERRNO":
        value |= (_EPERM if errno_ret is None else errno_ret) & 0xFFFF
    elif name == "SCMP_ACT_TRACE":
        value |= (_EPERM if errno_ret is None else errno_ret) & 0xFFFF
    return value


def split_args(args: list[dict]) -> list[list[dict]]:
    """Group conditions into rules: one rule per repeated argument index."""
    by_index: dict[int, list[dict]] = {}
    for a in args:
        by_index.setdefault(a["index"], []).append(a)
    if all(len(v) == 1 for v in by_index.values()):
        return [args] if args else [[]]
    return [[a] for a in args]


def check(profile: dict) -> None:
    """Validate a linux.seccomp object before any process is created."""
    action(profile.get("defaultAction", ""), profile.get("defaultErrnoRet"),
           "linux.seccomp.defaultAction")
    for i, rule in enumerate(profile.get("syscalls") or []):
        field = f"linux.seccomp.syscalls[{i}]"
        action(rule.get("action", ""), rule.get("errnoRet"), f"{field}.action")
        for j, a in enumerate(rule.get("args") or []):
            if a.get("op") not in OPS:
                raise InvalidArgument(f"config.json: {field}.args[{j}].op: "
                                      f"unknown operator {a.get('op')!r}")


class Filter:
    """A libseccomp filter context built from a linux.seccomp object."""

    def __init__(self, profile: dict):
        self.lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
        self.lib.seccomp_init.restype = ctypes.c_void_p
        self.lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
        self.default = action(profile["defaultAction"], profile.get("defaultErrnoRet"),
                              "linux.seccomp.defaultAction")
        self.ctx = ctypes.c_void_p(self.lib.seccomp_init(ctypes.c_uint32(self.default)))
        if not self.ctx:
            raise OSError(0, "seccomp_init: failed", None)
        # no_new_privs is the config's business, not libseccomp's
        self._call("seccomp_attr_set", self.ctx, ctypes.c_int(_FLTATR_CTL_NNP),
                   ctypes.c_uint32(0))
        for arch in profile.get("architectures") or []:
            self._add_arch(arch)
        for i, rule in enumerate(profile.get("syscalls") or []):
            self._add_rule(rule, f"linux.seccomp.syscalls[{i}]")

    def _call(self, name: str, *args) -> int:
        ret = getattr(self.lib, name)(*args)
        if ret < 0 and ret != -17:  # -EEXIST: arch already present / duplicate rule
            raise OSError(-ret, f"{name}: failed", None)
        return ret

    def _add_arch(self, arch: str) -> None:
        name = arch.removeprefix("SCMP_ARCH_").lower().encode()
        token = self.lib.seccomp_arch_resolve_name(ctypes.c_char_p(name))
        if token == 0:
            raise InvalidArgument(f"config.json: linux.seccomp.architectures: unknown {arch!r}")
        self._call("seccomp_arch_add", self.ctx, ctypes.c_uint32(token))

    def _add_rule(self, rule: dict, field: str) -> None:
        act = action(rule["action"], rule.get("errnoRet"), f"{field}.action")
        if act == self.default:
            return
        for name in rule.get("names") or []:
            nr = self.lib.seccomp_syscall_resolve_name(name.encode())
            if nr < 0:
                continue  # a syscall this architecture does not have
            for conds in split_args(rule.get("args") or []):
                self._add(act, nr, conds)

    def _add(self, act: int, nr: int, conds: list[dict]) -> None:
        arr = (_ArgCmp * max(len(conds), 1))()
        for k, c in enumerate(conds):
            arr[k] = _ArgCmp(c["index"], OPS[c["op"]], c.get("value", 0), c.get("valueTwo", 0))
        self._call("seccomp_rule_add_array", self.ctx, ctypes.c_uint32(act), ctypes.c_int(nr),
                   ctypes.c_uint(len(conds)), arr)

    def export(self) -> bytes:
        """The BPF program libseccomp generates for this filter (what
        ``seccomp_load`` would install: same code path, no attributes set but
        no_new_privs, which is off here); the context is released."""
        fd = os.memfd_create("dockyard-seccomp", os.MFD_CLOEXEC)
        try:
            self._call("seccomp_export_bpf", self.ctx, ctypes.c_int(fd))
            size = os.lseek(fd, 0, os.SEEK_END)
            return os.pread(fd, size, 0)
        finally:
            os.close(fd)
            self.release()

    def release(self) -> None:
        if self.ctx:
            self.lib.seccomp_release(self.ctx)
            self.ctx = ctypes.c_void_p(None)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class Program:
    """A compiled filter (BPF bytes) ready to load in a forked child.

    Generating the BPF (libseccomp's part of ``seccomp_load``) took ~11 ms for
    docker's default profile when every container's init did it; a Program is
    generated once per profile in the runtime and loaded with one prctl.
    """

    def __init__(self, bpf: bytes):
        if not bpf or len(bpf) % _SOCK_FILTER_SIZE or len(bpf) // _SOCK_FILTER_SIZE > 0xFFFF:
            raise ValueError(f"seccomp: bad BPF program of {len(bpf)} bytes")
        self.bpf = bpf
        self._buf = ctypes.create_string_buffer(bpf, len(bpf))
        self._fprog = _SockFprog(len(bpf) // _SOCK_FILTER_SIZE, ctypes.addressof(self._buf))

    @classmethod
    def compile(cls, profile: dict) -> "Program":
        return cls(Filter(profile).export())

    def load(self) -> None:
        """Install the filter on this process (irreversible; needs no_new_privs
        or CAP_SYS_ADMIN, like seccomp_load)."""
        sc.get().prctl(sc.PR_SET_SECCOMP, sc.SECCOMP_MODE_FILTER,
                       ctypes.addressof(self._fprog))
