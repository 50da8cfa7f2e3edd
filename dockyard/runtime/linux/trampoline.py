"""A sealed in-memory exec trampoline (the CVE-2019-5736 defence).

The container process is started by a Python interpreter, a host binary. If
the runtime exec'd the container's program directly, a program that is a
``#!/proc/self/exe`` script would make the kernel run *the host interpreter*
inside the container, where the container could open it through
``/proc/<pid>/exe`` and overwrite it. runc answers this by running from a sealed
memfd copy of itself; a Python runtime cannot re-exec its interpreter cheaply,
so instead the last exec goes through this 48-byte static program, held in a
sealed (unwritable) memfd:

    trampoline \\x7f-marker PATH ARGV0 ARGS...   →   execve(PATH, [ARGV0, ARGS...], envp)

``/proc/self/exe`` of the trampoline is the sealed memfd, so a script naming
it as interpreter runs the trampoline again; without the marker in argv[0] it
exits 127 and nothing of the host is ever reachable.
"""
from __future__ import annotations

import os

from dockyard.runtime import syscalls as sc

MARKER = "\x7fdockyard-exec"
_BASE = 0x400000
_CODE = bytes.fromhex(
    "488b5c2408"      # mov rbx, [rsp+8]          argv[0]
    "803b7f"          # cmp byte [rbx], 0x7f      our marker?
    "751a"            # jne fail
    "488b7c2410"      # mov rdi, [rsp+16]         path = argv[1]
    "488d742418"      # lea rsi, [rsp+24]         argv = &argv[2]
    "488b0424"        # mov rax, [rsp]            argc
    "488d54c410"      # lea rdx, [rsp+rax*8+16]   envp
    "b83b000000"      # mov eax, 59               execve
    "0f05"            # syscall
    "bf7f000000"      # fail: mov edi, 127
    "b83c000000"      # mov eax, 60               exit
    "0f05"            # syscall
)


def elf() -> bytes:
    """The trampoline as a minimal x86_64 ELF executable."""
    entry = _BASE + 64 + 56
    size = 64 + 56 + len(_CODE)
    header = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8) + _le(
        (2, 2), (0x3E, 2), (1, 4), (entry, 8), (64, 8), (0, 8), (0, 4), (64, 2), (56, 2),
        (1, 2), (0, 2), (0, 2), (0, 2))
    phdr = _le((1, 4), (5, 4), (0, 8), (_BASE, 8), (_BASE, 8), (size, 8), (size, 8),
               (0x1000, 8))
    return header + phdr + _CODE


def _le(*fields: tuple[int, int]) -> bytes:
    """Little-endian (value, size) fields: struct.pack("<…") without struct."""
    return b"".join(value.to_bytes(size, "little") for value, size in fields)


def create() -> int | None:
    """A sealed, close-on-exec memfd holding the trampoline; None where unsupported."""
    if os.uname().machine != "x86_64" or not hasattr(os, "memfd_create"):
        return None
    try:
        fd = os.memfd_create("dockyard-exec", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    except OSError:
        return None
    try:
        os.write(fd, elf())
        sc.get().add_seals(fd, sc.F_SEAL_SEAL | sc.F_SEAL_SHRINK | sc.F_SEAL_GROW
                           | sc.F_SEAL_WRITE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def argv(path: str, args: list[str]) -> list[str]:
    """The trampoline's argv for running ``path`` with ``args``."""
    return [MARKER, path] + list(args)
