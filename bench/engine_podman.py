"""podman 4.3 under test, with runc, on the suite's own storage, run root and network.

The machine notes say podman needs ``default_ulimits = []`` (CAP_SYS_RESOURCE is not in
the bounding set) and ``runtime = "runc"`` (crun refuses hybrid cgroups). The suite
writes its own containers.conf (CONTAINERS_CONF) rather than touching /etc, and makes
a bridge network of its own (the default one, which has no DNS: no aardvark-dns process skews the figures).
"""
from __future__ import annotations

import os

from bench import hostenv
from bench.engines import Engine

NETWORK = "dybench"

CONF = """\
[containers]
default_ulimits = []
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{run}/events.log"
tmp_dir = "{run}/libpod"

[network]
network_backend = "netavark"
network_config_dir = "{data}/networks"
default_network = "{network}"
default_subnet = "{subnet}"
"""


class PodmanEngine(Engine):
    name = "podman"
    registry_flags = ["--tls-verify=false"]
    rm_flags = ["-f", "-t", "0"]

    def __init__(self, opts=None) -> None:
        super().__init__(opts)
        self.conf = os.path.join(self.data, "containers.conf")
        self.subnet = ""
        self.bridge = ""
        self.env["CONTAINERS_CONF"] = self.conf

    def missing(self) -> str | None:
        for path in ("/usr/bin/podman", "/usr/bin/conmon", "/usr/sbin/runc"):
            if not os.path.exists(path):
                return f"{path} not installed (use --install-peers)"
        return None

    def cli(self) -> list[str]:
        return ["/usr/bin/podman", "--root", os.path.join(self.data, "storage"),
                "--runroot", os.path.join(self.run_dir, "storage"), "--storage-driver", "overlay"]

    def start(self) -> None:
        self.wipe()
        os.makedirs(os.path.join(self.data, "networks"), exist_ok=True)
        os.makedirs(self.run_dir, exist_ok=True)
        self.subnet = hostenv.free_subnet([f"172.31.{n}" for n in range(230, 240)])
        with open(self.conf, "w") as f:
            f.write(CONF.format(run=self.run_dir, data=self.data, network=NETWORK,
                                subnet=f"{self.subnet}.0/24"))
        # podman synthesizes its default network from containers.conf (DNS off for it).
        self.bridge = self.quiet("network", "inspect", "-f", "{{.NetworkInterface}}",
                                 NETWORK, check=True).stdout.strip()
        self.quiet("info", check=True)

    def stop(self) -> list[str]:
        self.remove_all_containers()
        leftovers = [f"process {p}" for p in self.daemon_pids()]
        hostenv.terminate(self.daemon_pids())
        self.quiet("network", "rm", "-f", NETWORK)
        if self.bridge and hostenv.link_exists(self.bridge):
            leftovers.append(f"bridge {self.bridge}")
            hostenv.delete_link(self.bridge)
        tokens = ([self.bridge] if self.bridge else []) + ([f"{self.subnet}.0/24"] if self.subnet else [])
        # netavark keeps its top-level chains; remove them unless another podman's
        # containers (conmon processes) still need them.
        shared = [] if hostenv.pids_matching(["/usr/bin/conmon"]) else ["NETAVARK"]
        hostenv.drop_firewall(tokens + shared, shared)  # netavark keeps these by design
        self.quiet("system", "reset", "--force", timeout=120)
        self.wipe()
        return leftovers
