"""Signal names and numbers (Linux), without :mod:`signal`'s enum start-up cost."""
from __future__ import annotations

from dockyard.errors import InvalidArgument

SIGKILL = 9
SIGTERM = 15
NUMBERS = {
    "HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "IOT": 6, "BUS": 7,
    "FPE": 8, "KILL": 9, "USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14,
    "TERM": 15, "STKFLT": 16, "CHLD": 17, "CLD": 17, "CONT": 18, "STOP": 19, "TSTP": 20,
    "TTIN": 21, "TTOU": 22, "URG": 23, "XCPU": 24, "XFSZ": 25, "VTALRM": 26, "PROF": 27,
    "WINCH": 28, "IO": 29, "POLL": 29, "PWR": 30, "SYS": 31, "RTMIN": 34, "RTMAX": 64,
}
# what ``run`` passes on to the container (runc forwards every catchable signal)
FORWARDED = (1, 2, 3, 10, 12, 15, 28)


def parse(sig: int | str) -> int:
    """``9``, ``"9"``, ``"KILL"``, ``"SIGKILL"`` or ``"SIGRTMIN+3"`` → a number.

    Raises:
        InvalidArgument: not a signal (``unknown signal "FOO"``).
    """
    number = None
    if isinstance(sig, int) and not isinstance(sig, bool):
        number = sig
    elif isinstance(sig, str) and sig.isdigit():
        number = int(sig)
    elif isinstance(sig, str):
        name = sig.upper().removeprefix("SIG")
        base, plus, offset = name.partition("+")
        base, minus, back = base.partition("-") if not plus else (base, "", "")
        number = NUMBERS.get(base)
        if number is not None and plus and offset.isdigit() and base == "RTMIN":
            number += int(offset)
        elif number is not None and minus and back.isdigit() and base == "RTMAX":
            number -= int(back)
        elif plus or minus:
            number = None
    if number is None or not 0 < number <= 64:
        raise InvalidArgument(f"unknown signal {sig!r}")
    return number
