"""``run``/``create`` flags → the ``POST /containers/create`` body (docker CLI's semantics).

Bad values raise CommandError with docker's text and status 125.
"""
from __future__ import annotations

from dockyard import getenv
from dockyard.cli.flags import REMAINDER


def _bad(flag: str, value: str, why: str):
    from dockyard.cli.main import CommandError
    return CommandError(f"invalid argument \"{value}\" for \"{flag}\" flag: {why}\n"
                        "See 'dockyard run --help'.", 125)


def add_options(p) -> None:
    # docker's -h is --hostname; --help stays
    p.conflict_handler = p._optionals.conflict_handler = "resolve"
    a = p.add_argument
    a("-i", "--interactive", action="store_true", help="Keep STDIN open even if not attached")
    a("-t", "--tty", action="store_true", help="Allocate a pseudo-TTY")
    a("--name", help="Assign a name to the container")
    a("-e", "--env", action="append", default=[], help="Set environment variables")
    a("--env-file", action="append", default=[], help="Read in a file of environment variables")
    a("-w", "--workdir", help="Working directory inside the container")
    a("-u", "--user", help="Username or UID (format: <name|uid>[:<group|gid>])")
    a("--entrypoint", help="Overwrite the default ENTRYPOINT of the image")
    a("-h", "--hostname", help="Container host name")
    a("-l", "--label", action="append", default=[], help="Set meta data on a container")
    a("-v", "--volume", action="append", default=[], help="Bind mount a volume")
    a("--mount", action="append", default=[], help="Attach a filesystem mount to the container")
    a("--tmpfs", action="append", default=[], help="Mount a tmpfs directory")
    a("--read-only", action="store_true", help="Mount the container's root filesystem as read only")
    a("-m", "--memory", help="Memory limit")
    a("--memory-swap", help="Swap limit equal to memory plus swap: '-1' to enable unlimited swap")
    a("--cpus", help="Number of CPUs")
    a("--cpuset-cpus", help="CPUs in which to allow execution (0-3, 0,1)")
    a("--cpuset-mems", help="MEMs in which to allow execution (0-3, 0,1)")
    a("-c", "--cpu-shares", type=int, help="CPU shares (relative weight)")
    a("--cpu-period", type=int, help="Limit CPU CFS (Completely Fair Scheduler) period")
    a("--cpu-quota", type=int, help="Limit CPU CFS (Completely Fair Scheduler) quota")
    a("--memory-reservation", help="Memory soft limit")
    a("--blkio-weight", type=int, help="Block IO (relative weight), between 10 and 1000")
    a("--ulimit", action="append", default=[], help="Ulimit options")
    a("--sysctl", action="append", default=[], help="Sysctl options")
    a("--shm-size", help="Size of /dev/shm")
    a("--group-add", action="append", default=[], help="Add additional groups to join")
    a("--oom-score-adj", type=int, help="Tune host's OOM preferences (-1000 to 1000)")
    a("--oom-kill-disable", action="store_true", help="Disable OOM Killer")
    a("--device", action="append", default=[], help="Add a host device to the container")
    a("--pid", help="PID namespace to use")
    a("--ipc", help="IPC mode to use")
    a("--uts", help="UTS namespace to use")
    a("--label-file", action="append", default=[], help="Read in a line delimited file of labels")
    a("--cidfile", help="Write the container ID to the file")
    a("-a", "--attach", action="append", default=[], help="Attach to STDIN, STDOUT or STDERR")
    a("--sig-proxy", default="true", help="Proxy received signals to the process")
    a("--volumes-from", action="append", default=[],
      help="Mount volumes from the specified container(s)")
    a("--dns-search", action="append", default=[], help="Set custom DNS search domains")
    a("--dns-option", action="append", default=[], help="Set DNS options")
    a("--pids-limit", type=int, help="Tune container pids limit (set -1 for unlimited)")
    a("--restart", default="no", help="Restart policy to apply when a container exits")
    a("--stop-signal", help="Signal to stop the container")
    a("--stop-timeout", type=int, help="Timeout (in seconds) to stop a container")
    a("--cap-add", action="append", default=[], help="Add Linux capabilities")
    a("--security-opt", action="append", default=[],
      help="Security options (no-new-privileges, seccomp=unconfined)")
    a("--cap-drop", action="append", default=[], help="Drop Linux capabilities")
    a("--privileged", action="store_true", help="Give extended privileges to this container")
    a("--init", action="store_true", help="Run an init inside the container")
    a("--health-cmd", help="Command to run to check health")
    a("--health-interval", help="Time between running the check (ms|s|m|h)")
    a("--health-timeout", help="Maximum time to allow one check to run (ms|s|m|h)")
    a("--health-retries", type=int, help="Consecutive failures needed to report unhealthy")
    a("--health-start-period", help="Start period for the container to initialize")
    a("--no-healthcheck", action="store_true", help="Disable any container-specified HEALTHCHECK")
    a("-p", "--publish", action="append", default=[], help="Publish a container's port(s)")
    a("-P", "--publish-all", action="store_true", help="Publish all exposed ports to random ports")
    a("--expose", action="append", default=[], help="Expose a port or a range of ports")
    a("--network", "--net", default="default", help="Connect a container to a network")
    a("--network-alias", action="append", default=[], help="Add network-scoped alias")
    a("--ip", help="IPv4 address")
    a("--dns", action="append", default=[], help="Set custom DNS servers")
    a("--add-host", action="append", default=[], help="Add a custom host-to-IP mapping")
    a("--log-driver", default="json-file", help="Logging driver for the container")
    a("--log-opt", action="append", default=[], help="Log driver options")
    a("--platform", help="Set platform if server is multi-platform capable")
    a("--pull", default="missing", choices=["always", "missing", "never"],
      help="Pull image before running")
    a("-q", "--quiet", action="store_true", help="Suppress the pull output")
    a("image", metavar="IMAGE")
    a("command", nargs=REMAINDER, metavar="COMMAND")


_MULT = {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3, "t": 1024 ** 4, "p": 1024 ** 5}
_UNITS = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9, "m": 6e10, "h": 3.6e12}


def _number(v: str, i: int) -> int:
    """End of the decimal number (``12`` or ``1.5``) starting at ``v[i]``; ``i`` if none."""
    j = i
    while j < len(v) and v[j] in "0123456789":
        j += 1
    if j == i:
        return i
    if j + 1 < len(v) and v[j] == "." and v[j + 1] in "0123456789":
        j += 1
        while j < len(v) and v[j] in "0123456789":
            j += 1
    return j


def ram_size(flag: str, v: str) -> int:
    """docker's units.RAMInBytes: 512m, 1g, 1024, 1.5GiB (binary units, any case)."""
    s = v.strip()
    end = _number(s, 0)
    unit = s[end:].lstrip().lower()
    if unit.endswith("ib"):
        unit = unit[:-2]
    elif unit.endswith("b"):
        unit = unit[:-1]
    if end == 0 or unit not in _MULT:
        raise _bad(flag, v, f"invalid size: '{v}'")
    return int(float(s[:end]) * _MULT[unit])


def duration_ns(flag: str, v: str | None) -> int:
    """Go's time.ParseDuration for unsigned values: ``1h30m``, ``500ms``, ``1.5s``."""
    if not v:
        return 0
    total, pos = 0.0, 0
    while pos < len(v):
        end = _number(v, pos)
        unit = v[end:end + 2] if v[end:end + 2] in ("ns", "us", "ms") else v[end:end + 1]
        if end == pos or unit not in _UNITS:
            raise _bad(flag, v, f"time: invalid duration \"{v}\"")
        total += float(v[pos:end]) * _UNITS[unit]
        pos = end + len(unit)
    return int(total)


def env_list(args) -> list[str]:
    out = _line_files(args.env_file) + args.env
    # KEY without "=" takes the value from our environment (dropped when unset), as docker
    passed = [(e, getenv(e)) for e in out if "=" not in e]
    values = {e: v for e, v in passed if v is not None}
    return [e if "=" in e else f"{e}={values[e]}" for e in out if "=" in e or e in values]


def labels(args) -> dict:
    """--label-file lines (blank and # lines skipped), then -l, as docker reads them."""
    return dict((lbl.split("=", 1) + [""])[:2]
                for lbl in _line_files(args.label_file) + args.label)


def _line_files(paths: list[str]) -> list[str]:
    """The lines of --env-file/--label-file files, blank and # lines skipped."""
    out: list[str] = []
    for path in paths:
        try:
            with open(path) as f:
                lines = f.read().splitlines()
        except OSError as e:
            from dockyard.cli.main import CommandError
            raise CommandError(f"open {path}: {e.strerror.lower()}", 125) from None
        out += [ln for ln in (x.strip() for x in lines) if ln and not ln.startswith("#")]
    return out


def attach_streams(args) -> set[str]:
    """The streams ``run`` attaches: ``-a`` as given, else stdout and stderr (and stdin
    with -i); none with -d, where -a is docker's conflict."""
    wanted = {a.lower() for a in args.attach}
    bad = wanted - {"stdin", "stdout", "stderr"}
    if bad:
        raise _bad("-a, --attach", sorted(bad)[0],
                   "valid streams are STDIN, STDOUT and STDERR")
    if args.detach:
        if wanted and getattr(args, "_verb", "run") == "run":
            from dockyard.cli.main import CommandError
            raise CommandError("Conflicting options: -a and -d", 125)
        return set()
    if not wanted:
        wanted = {"stdout", "stderr"}
    if args.interactive:
        wanted.add("stdin")
    return wanted


def restart(v: str) -> dict:
    name, _, count = v.partition(":")
    if name not in ("no", "always", "on-failure", "unless-stopped") or \
            (count and (name != "on-failure" or not count.isdigit())):
        raise _bad("--restart", v, "invalid restart policy format")
    return {"Name": name, "MaximumRetryCount": int(count or 0)}


def ulimit(v: str) -> dict:
    """docker's ``--ulimit name=soft[:hard]``."""
    name, eq, limits = v.partition("=")
    soft, _, hard = limits.partition(":")
    try:
        s = int(soft)
        h = int(hard) if hard else s
    except ValueError:
        raise _bad("--ulimit", v, f"invalid ulimit argument: {v}") from None
    if not eq or not name:
        raise _bad("--ulimit", v, f"invalid ulimit argument: {v}")
    return {"Name": name, "Soft": s, "Hard": h}


def sysctl(v: str) -> tuple[str, str]:
    from dockyard.engine.host_options import namespaced_sysctl
    key, eq, value = v.partition("=")
    if not eq or not key or not namespaced_sysctl(key):
        raise _bad("--sysctl", v, f"sysctl '{v}' is not allowed")
    return key, value


def device(v: str) -> dict:
    """docker's ``--device HOST[:CONTAINER][:PERMISSIONS]``."""
    parts = v.split(":")
    if len(parts) == 2 and set(parts[1]) <= set("rwm") and parts[1]:
        parts = [parts[0], parts[0], parts[1]]
    if not 1 <= len(parts) <= 3 or not parts[0]:
        raise _bad("--device", v, f"bad format for path: {v}")
    host = parts[0]
    return {"PathOnHost": host, "PathInContainer": parts[1] if len(parts) > 1 and parts[1]
            else host, "CgroupPermissions": parts[2] if len(parts) > 2 else "rwm"}


def mount_spec(v: str) -> dict:
    """``--mount type=bind,source=/a,target=/b,readonly``."""
    out: dict = {"Type": "volume"}
    for part in v.split(","):
        k, eq, val = part.partition("=")
        k = k.strip().lower()
        if k == "type":
            out["Type"] = val
        elif k in ("source", "src"):
            out["Source"] = val
        elif k in ("target", "destination", "dst"):
            out["Target"] = val
        elif k in ("readonly", "ro"):
            out["ReadOnly"] = val.lower() not in ("0", "false") if eq else True
        elif k == "tmpfs-size":
            out.setdefault("TmpfsOptions", {})["SizeBytes"] = ram_size("--mount", val)
        elif k == "tmpfs-mode":
            out.setdefault("TmpfsOptions", {})["Mode"] = int(val, 8)
        else:
            raise _bad("--mount", v, f"unexpected key '{k}' in '{part}'")
    if "Target" not in out:
        raise _bad("--mount", v, "target is required")
    return out


def ports(args) -> tuple[dict, dict]:
    exposed, bindings = {}, {}
    if args.publish:
        from dockyard.errors import InvalidArgument
        from dockyard.network.portspec import parse_publish
        for spec in args.publish:
            try:
                e, b = parse_publish(spec)
            except InvalidArgument as err:
                raise _bad("-p, --publish", spec, str(err)) from None
            exposed.update(e)
            for k, lst in b.items():
                bindings.setdefault(k, []).extend(lst)
    for spec in args.expose:
        port, _, proto = spec.partition("/")
        if not port.replace("-", "").isdigit():
            raise _bad("--expose", spec, f"invalid range format for --expose: {spec}")
        exposed[f"{port}/{proto or 'tcp'}"] = {}
    return exposed, bindings


def build_body(args) -> dict:
    """The create body from parsed flags."""
    exposed, bindings = ports(args)
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    streams = attach_streams(args)
    body = {
        "Hostname": args.hostname or "", "User": args.user or "",
        "AttachStdin": "stdin" in streams, "AttachStdout": "stdout" in streams,
        "AttachStderr": "stderr" in streams, "Tty": args.tty, "OpenStdin": args.interactive,
        "StdinOnce": args.interactive and not args.detach, "Env": env_list(args),
        "Cmd": cmd or None, "Image": args.image, "WorkingDir": args.workdir or "",
        "Entrypoint": ([args.entrypoint] if args.entrypoint else [""])
        if args.entrypoint is not None else None,
        "Labels": labels(args),
        "ExposedPorts": exposed, "StopSignal": args.stop_signal,
        "StopTimeout": args.stop_timeout, "Healthcheck": healthcheck(args),
        "HostConfig": host_config(args, bindings),
        "NetworkingConfig": {"EndpointsConfig": {args.network: {
            "Aliases": args.network_alias or None,
            **({"IPAMConfig": {"IPv4Address": args.ip}} if args.ip else {})}}},
    }
    return {k: v for k, v in body.items() if v is not None or k in ("Cmd", "Entrypoint")}


def host_config(args, bindings: dict) -> dict:
    hc = {"Binds": args.volume or None, "Mounts": [mount_spec(m) for m in args.mount] or None,
          "Tmpfs": {t.split(":", 1)[0]: (t.split(":", 1) + [""])[1] for t in args.tmpfs} or None,
          "ReadonlyRootfs": args.read_only, "Privileged": args.privileged,
          "CapAdd": args.cap_add or None, "CapDrop": args.cap_drop or None,
          "SecurityOpt": args.security_opt or None,
          "RestartPolicy": restart(args.restart), "AutoRemove": args.rm,
          "NetworkMode": args.network, "PortBindings": bindings,
          "PublishAllPorts": args.publish_all, "Dns": args.dns or None,
          "ExtraHosts": args.add_host or None, "Init": args.init or None,
          "LogConfig": {"Type": args.log_driver,
                        "Config": dict((o.split("=", 1) + [""])[:2] for o in args.log_opt)}}
    if args.memory:
        hc["Memory"] = ram_size("-m, --memory", args.memory)
    if args.memory_swap:
        hc["MemorySwap"] = -1 if args.memory_swap == "-1" else ram_size("--memory-swap",
                                                                        args.memory_swap)
    if args.cpus:
        try:
            hc["NanoCpus"] = int(float(args.cpus) * 1e9)
        except ValueError:
            raise _bad("--cpus", args.cpus, "failed to parse as a rational number") from None
    # flags whose value goes to HostConfig as it is
    for flag, key in (("cpuset_cpus", "CpusetCpus"), ("cpuset_mems", "CpusetMems"),
                      ("cpu_period", "CpuPeriod"), ("cpu_quota", "CpuQuota"),
                      ("blkio_weight", "BlkioWeight"), ("group_add", "GroupAdd"),
                      ("oom_score_adj", "OomScoreAdj"), ("oom_kill_disable", "OomKillDisable"),
                      ("volumes_from", "VolumesFrom"), ("dns_search", "DnsSearch"),
                      ("dns_option", "DnsOptions"), ("pid", "PidMode"), ("ipc", "IpcMode"),
                      ("uts", "UTSMode"), ("cpu_shares", "CpuShares"),
                      ("pids_limit", "PidsLimit")):
        if getattr(args, flag):
            hc[key] = getattr(args, flag)
    if args.memory_reservation:
        hc["MemoryReservation"] = ram_size("--memory-reservation", args.memory_reservation)
    if args.ulimit:
        hc["Ulimits"] = [ulimit(u) for u in args.ulimit]
    if args.sysctl:
        hc["Sysctls"] = dict(sysctl(s) for s in args.sysctl)
    if args.shm_size:
        hc["ShmSize"] = ram_size("--shm-size", args.shm_size)
    if args.device:
        hc["Devices"] = [device(d) for d in args.device]
    return hc


def healthcheck(args) -> dict | None:
    if args.no_healthcheck:
        return {"Test": ["NONE"]}
    if not (args.health_cmd or args.health_interval or args.health_retries):
        return None
    return {"Test": ["CMD-SHELL", args.health_cmd] if args.health_cmd else [],
            "Interval": duration_ns("--health-interval", args.health_interval),
            "Timeout": duration_ns("--health-timeout", args.health_timeout),
            "StartPeriod": duration_ns("--health-start-period", args.health_start_period),
            "Retries": args.health_retries or 0}


def quote_cmd(cmd: list[str]) -> str:
    import shlex
    return " ".join(shlex.quote(c) for c in cmd)
