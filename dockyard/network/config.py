"""Names and address pools of one dockyard instance's networking.

The daemon on the default exec root uses the bridge ``dockyard0`` and the iptables
chains ``DOCKYARD*``. Any other exec root (a test daemon, a second instance) gets
names derived from a hash of its exec root, so instances never touch each other's
bridges or rules. Environment variables override: ``DOCKYARD_BRIDGE``,
``DOCKYARD_BRIDGE_SUBNET``, ``DOCKYARD_IPTABLES_CHAIN``.
"""
from __future__ import annotations

import hashlib
import ipaddress
import os
from dataclasses import dataclass, field

DEFAULT_EXEC_ROOT = "/run/dockyard"
# (pool, prefix): the default bridge takes the first /16 not overlapping a host route
# (other dockyard instances' bridges included); user networks take /24s
BRIDGE_POOLS = (("172.28.0.0/16", 16), ("172.27.0.0/16", 16), ("10.192.0.0/11", 16))
USER_POOLS = (("10.224.0.0/12", 24), ("172.26.0.0/16", 24))


def _pools(pools) -> list[tuple[ipaddress.IPv4Network, int]]:
    return [(ipaddress.ip_network(net), size) for net, size in pools]


@dataclass
class NetConfig:
    bridge: str = "dockyard0"
    chain: str = "DOCKYARD"
    bridge_subnet: str | None = None  # None: pick from bridge_pools
    bridge_pools: list = field(default_factory=lambda: _pools(BRIDGE_POOLS))
    user_pools: list = field(default_factory=lambda: _pools(USER_POOLS))
    user_bridge_prefix: str = "dy-"

    @classmethod
    def for_exec_root(cls, exec_root: str, env: dict | None = None) -> "NetConfig":
        env = os.environ if env is None else env
        cfg = cls()
        if os.path.abspath(exec_root) != DEFAULT_EXEC_ROOT:
            tag = hashlib.sha256(os.path.abspath(exec_root).encode()).hexdigest()[:6]
            cfg.bridge, cfg.chain, cfg.user_bridge_prefix = f"dy{tag}0", f"DY{tag}", f"d{tag[:5]}-"
        cfg.bridge = env.get("DOCKYARD_BRIDGE", cfg.bridge)
        cfg.chain = env.get("DOCKYARD_IPTABLES_CHAIN", cfg.chain)
        cfg.bridge_subnet = env.get("DOCKYARD_BRIDGE_SUBNET") or None
        return cfg

    def user_bridge(self, network_id: str) -> str:
        """Bridge name of a user network (≤ 15 characters, the kernel's limit)."""
        return (self.user_bridge_prefix + network_id)[:15]


def host_subnets(path: str = "/proc/net/route") -> list[tuple[str, ipaddress.IPv4Network]]:
    """(interface, subnet) of the host's IPv4 routes except the default route."""
    out = []
    try:
        with open(path) as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        return out
    for line in lines:
        words = line.split()
        if len(words) < 8 or words[1] == "00000000":
            continue
        dest = ipaddress.IPv4Address(bytes.fromhex(words[1])[::-1])
        mask = ipaddress.IPv4Address(bytes.fromhex(words[7])[::-1])
        out.append((words[0], ipaddress.ip_network(f"{dest}/{mask}", strict=False)))
    return out
