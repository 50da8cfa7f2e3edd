"""dockyardd: the API daemon.

    dockyardd [--host unix:///run/dockyard/dockyard.sock] [--data-root /var/lib/dockyard]
              [--exec-root /run/dockyard] [--runtime dockyard|runc] [--debug]

It serves the Engine API until SIGTERM/SIGINT. Containers live in the supervisor, not
here, so stopping or killing dockyardd leaves them running (docker's live-restore).
A TCP listener (``--host tcp://…``) refuses to start without ``--tlsverify``.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import ssl
import sys
import threading

DEFAULT_HOST = "unix:///run/dockyard/dockyard.sock"
DEFAULT_DATA_ROOT = "/var/lib/dockyard"
DEFAULT_EXEC_ROOT = "/run/dockyard"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="dockyardd", description="dockyard's Engine API daemon")
    p.add_argument("-H", "--host", action="append", default=None,
                   help="socket to listen on: unix:///path or tcp://ADDR:PORT (repeatable)")
    p.add_argument("--data-root", default=os.environ.get("DOCKYARD_DATA_ROOT", DEFAULT_DATA_ROOT))
    p.add_argument("--exec-root", default=os.environ.get("DOCKYARD_EXEC_ROOT", DEFAULT_EXEC_ROOT))
    p.add_argument("--runtime", default=os.environ.get("DOCKYARD_RUNTIME", "dockyard"),
                   help="OCI runtime: dockyard (in-process) or a runc-compatible binary name/path")
    p.add_argument("--group", default="dockyard", help="group owning the unix socket")
    p.add_argument("--insecure-registry", action="append", default=[], metavar="HOST[:PORT]",
                   help="registry reached over plain HTTP or unverified TLS (repeatable; "
                        "loopback always is)")
    p.add_argument("--tlsverify", action="store_true", help="require TLS client certificates (TCP)")
    p.add_argument("--tlscacert"), p.add_argument("--tlscert"), p.add_argument("--tlskey")
    p.add_argument("--log-file", help="log to this file instead of stderr")
    p.add_argument("-D", "--debug", action="store_true")
    return p.parse_args(argv)


def _tls_socket(addr: str, args) -> socket.socket:
    if not (args.tlsverify and args.tlscacert and args.tlscert and args.tlskey):
        raise SystemExit(f"dockyardd: refusing to listen on tcp://{addr} without "
                         "--tlsverify --tlscacert --tlscert --tlskey (anyone could become root)")
    host, _, port = addr.rpartition(":")
    raw = socket.create_server((host or "127.0.0.1", int(port)), reuse_port=False)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=args.tlscacert)
    ctx.load_cert_chain(args.tlscert, args.tlskey)
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx.wrap_socket(raw, server_side=True)


def open_listeners(args) -> list[socket.socket]:
    from dockyard.api.server import listen_unix
    socks = []
    for host in args.host or [DEFAULT_HOST]:
        if host.startswith("unix://"):
            socks.append(listen_unix(host[len("unix://"):], group=args.group))
        elif host.startswith("tcp://"):
            socks.append(_tls_socket(host[len("tcp://"):], args))
        else:
            raise SystemExit(f"dockyardd: unsupported --host {host!r}: use unix:// or tcp://")
    return socks


def lock_roots(*roots: str) -> list[int]:
    """Hold an exclusive lock on each root for the daemon's lifetime: two daemons on one
    data root (or one exec root, where the supervisor lives) would corrupt each other's
    state. Raises DockyardError naming the root and the other daemon's pid."""
    import fcntl
    from dockyard.errors import DockyardError
    fds = []
    for root in roots:
        os.makedirs(root, mode=0o711, exist_ok=True)
        fd = os.open(os.path.join(root, "dockyardd.pid"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC,
                     0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            for held in fds:
                os.close(held)
            raise DockyardError(f"{root} is in use by another dockyardd (pid {other}); "
                                "give this one its own --data-root and --exec-root") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        fds.append(fd)
    return fds


def setup_logging(args) -> None:
    level = logging.DEBUG if args.debug else logging.INFO
    if args.log_file:
        os.makedirs(os.path.dirname(os.path.abspath(args.log_file)), exist_ok=True)
    handler = logging.FileHandler(args.log_file) if args.log_file else logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("pyroute2", "asyncio"):  # their debug output drowns ours
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args)
    from dockyard.api.router import MAX_VERSION
    from dockyard.api.server import APIServer
    from dockyard.engine import Engine
    from dockyard.errors import DockyardError

    try:
        lock_roots(args.data_root, args.exec_root)
    except DockyardError as e:
        print(f"dockyardd: {e}", file=sys.stderr)
        return 1
    engine = Engine(args.data_root, args.exec_root)
    engine.runtime_name = args.runtime
    engine.insecure_registries = tuple(args.insecure_registry)
    engine.debug = args.debug
    try:
        socks = open_listeners(args)
    except DockyardError as e:
        print(f"dockyardd: {e}", file=sys.stderr)
        return 1
    engine.start()
    servers = [APIServer(engine, s, MAX_VERSION) for s in socks]
    stop = threading.Event()

    def _on_signal(signum, frame):
        stop.set()
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    for srv in servers:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    logging.getLogger("dockyard").info("dockyardd listening on %s (data root %s)",
                                       ", ".join(args.host or [DEFAULT_HOST]), args.data_root)
    stop.wait()
    for srv in servers:
        srv.shutdown()
    for host in args.host or [DEFAULT_HOST]:
        if host.startswith("unix://"):
            try:
                os.unlink(host[len("unix://"):])
            except FileNotFoundError:
                pass
    engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
