"""Remove every kernel object of one dockyard instance's networking, by name.

For test harnesses and crash recovery when the instance's database is gone (its data
root deleted): the bridge and user bridges named after the exec root, its iptables
chains and jumps, and the netns files under ``<exec_root>/netns``. Veths go with
their namespaces. Never touches another instance (all names derive from the exec root).
"""
from __future__ import annotations

import os

from dockyard.network import netns, portmap
from dockyard.network.config import NetConfig


def purge(exec_root: str) -> list[str]:
    """Delete what the instance at ``exec_root`` may have left; returns what was removed."""
    cfg = NetConfig.for_exec_root(exec_root)
    removed = []
    netns_dir = os.path.join(exec_root, "netns")
    for entry in os.listdir(netns_dir) if os.path.isdir(netns_dir) else []:
        netns.remove(os.path.join(netns_dir, entry))
        removed.append(f"netns {entry}")
    from dockyard.network.bridge import Links
    links = Links()
    try:
        for name in links.names():
            if name == cfg.bridge or name.startswith(cfg.user_bridge_prefix):
                links.delete(name)
                removed.append(f"link {name}")
    finally:
        links.close()
    if cfg.chain in portmap.save():
        portmap.remove_chains(cfg.chain)
        removed.append(f"iptables chains {cfg.chain}*")
    return removed
