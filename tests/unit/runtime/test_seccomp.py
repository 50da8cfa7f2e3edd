"""seccomp: rule shaping and docker's default profile semantics."""
from __future__ import annotations

import pytest

from dockyard.errors import InvalidArgument
from dockyard.runtime.linux import seccomp
from dockyard.runtime.seccomp_default import default_profile


def allowed(profile: dict) -> set[str]:
    return {n for r in profile["syscalls"] if r["action"] == "SCMP_ACT_ALLOW"
            and not r.get("args") for n in r["names"]}


def test_split_args_same_index_becomes_separate_rules():
    a = {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}
    b = {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}
    c = {"index": 1, "value": 3, "op": "SCMP_CMP_EQ"}
    assert seccomp.split_args([a, c]) == [[a, c]]
    assert seccomp.split_args([a, b]) == [[a], [b]]
    assert seccomp.split_args([]) == [[]]


def test_actions():
    assert seccomp.action("SCMP_ACT_ERRNO", None, "f") == 0x00050001
    assert seccomp.action("SCMP_ACT_ERRNO", 38, "f") == 0x00050026
    assert seccomp.action("SCMP_ACT_ALLOW", None, "f") == 0x7FFF0000
    with pytest.raises(InvalidArgument, match="unknown seccomp action"):
        seccomp.action("SCMP_ACT_NOPE", None, "linux.seccomp.defaultAction")


def test_check_names_bad_operator():
    with pytest.raises(InvalidArgument, match=r"syscalls\[0\].args\[0\].op"):
        seccomp.check({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "op": "X"}]}]})


def test_default_profile_gates_namespace_syscalls_on_sys_admin():
    plain = default_profile()
    assert plain["defaultAction"] == "SCMP_ACT_ERRNO" and plain["defaultErrnoRet"] == 1
    assert "SCMP_ARCH_X86_64" in plain["architectures"] or "SCMP_ARCH_AARCH64" in \
        plain["architectures"]
    for name in ("mount", "unshare", "setns", "umount2", "sethostname"):
        assert name not in allowed(plain)
    assert {"read", "write", "execve", "ptrace"} <= allowed(plain)
    admin = default_profile(["CAP_SYS_ADMIN"])
    assert {"mount", "unshare", "setns"} <= allowed(admin)


def test_default_profile_clone_and_socket_rules():
    rules = default_profile()["syscalls"]
    clone = [r for r in rules if r["names"] == ["clone"]]
    assert clone and clone[0]["args"][0]["op"] == "SCMP_CMP_MASKED_EQ"
    socket = [r for r in rules if r["names"] == ["socket"] and r.get("args")]
    assert any(a["value"] == 40 and a["op"] == "SCMP_CMP_NE" for r in socket
               for a in r["args"])
    assert "chroot" in allowed(default_profile())  # CAP_SYS_CHROOT is a docker default
    assert "chroot" not in allowed(default_profile([]))


def test_default_profile_compiles():
    seccomp.Filter(default_profile())  # libseccomp accepts every rule


def test_program_is_libseccomp_bpf_loaded_by_one_prctl():
    """The BPF is generated once (in the runtime) and loaded in the child with
    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &sock_fprog)."""
    import ctypes

    from dockyard.runtime import syscalls as sc
    prog = seccomp.Program.compile(default_profile())
    assert len(prog.bpf) % 8 == 0 and len(prog.bpf) > 8 * 50
    # the program ends in the default action (EPERM) after docker's allow list
    assert prog.bpf == seccomp.Program.compile(default_profile()).bpf  # deterministic

    calls = []

    class Fake:
        def prctl(self, *args):
            calls.append(args)
    previous = sc.use(Fake())
    try:
        prog.load()
    finally:
        sc.use(previous)
    (option, mode, addr), = calls
    assert (option, mode) == (sc.PR_SET_SECCOMP, sc.SECCOMP_MODE_FILTER)
    fprog = seccomp._SockFprog.from_address(addr)
    assert fprog.len == len(prog.bpf) // 8
    assert ctypes.string_at(fprog.filter, len(prog.bpf)) == prog.bpf


def test_program_refuses_a_truncated_program():
    with pytest.raises(ValueError):
        seccomp.Program(b"\0" * 12)
    with pytest.raises(ValueError):
        seccomp.Program(b"")


def test_compiled_programs_are_cached_per_profile():
    from dockyard.runtime.process import setup
    a = setup._filter_for(default_profile())
    assert setup._filter_for(default_profile()) is a
    assert setup._filter_for(default_profile([])) is not a  # another profile, another key
