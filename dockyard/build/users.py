"""``--chown=user:group`` → numeric ids, looked up in the image's own /etc files."""
from __future__ import annotations


from dockyard.build.copier import Owner, resolve_in_root
from dockyard.errors import InvalidArgument


def _lookup(root: str, path: str, name: str) -> tuple[int, int] | None:
    """(id, primary gid or -1) of ``name`` in /etc/passwd or /etc/group of ``root``."""
    try:
        with open(resolve_in_root(root, path), encoding="utf-8", errors="replace") as f:
            for line in f:
                fields = line.rstrip("\n").split(":")
                if len(fields) >= 3 and fields[0] == name:
                    gid = int(fields[3]) if path.endswith("passwd") and len(fields) > 3 else -1
                    return int(fields[2]), gid
    except (FileNotFoundError, NotADirectoryError, ValueError):
        return None
    return None


def resolve_owner(root: str, spec: str) -> Owner:
    """Numeric owner for ``user[:group]``; a bare user id is also the group id (docker)."""
    user, _, group = spec.partition(":")
    if user.isdigit():
        uid, gid = int(user), int(user)
    else:
        found = _lookup(root, "/etc/passwd", user)
        if found is None:
            raise InvalidArgument(f"--chown={spec}: unable to find user {user}: no matching entries in passwd file")
        uid, gid = found
    if group:
        if group.isdigit():
            gid = int(group)
        else:
            found = _lookup(root, "/etc/group", group)
            if found is None:
                raise InvalidArgument(f"--chown={spec}: unable to find group {group}: no matching entries in group file")
            gid = found[0]
    return Owner(uid, gid)
