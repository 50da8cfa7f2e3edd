"""What a container's /etc/hosts and /etc/resolv.conf should say (the engine writes them)."""
from __future__ import annotations

from dockyard.network.dns import upstream_servers

HOSTS_HEADER = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback",
                "fe00::\tip6-localnet", "ff00::\tip6-mcastprefix", "ff02::1\tip6-allnodes",
                "ff02::2\tip6-allrouters"]
FALLBACK_DNS = ["8.8.8.8", "8.8.4.4"]  # docker's, when the host has only loopback servers


def container_files(hostname: str, name: str, ip: str | None, embedded_dns: str | None,
                    host_mode: bool, own_dns: list[str] | None = None) -> dict:
    """``EtcHosts`` lines and ``DNS``/``DNSSearch``/``DNSOptions`` for one container:
    user networks use the embedded DNS, else the container's own ``--dns``, host mode the host's servers as they are,
    everything else the host's servers minus loopback ones (unreachable from a netns)."""
    search, options = host_resolv_extras()
    if embedded_dns:
        dns = [embedded_dns]  # it forwards to own_dns itself
    elif own_dns:
        dns = list(own_dns)
    elif host_mode:
        dns = host_nameservers()
    else:
        dns = upstream_servers() or FALLBACK_DNS
    names = " ".join(dict.fromkeys(n for n in (hostname, name) if n))
    hosts = HOSTS_HEADER + ([f"{ip}\t{names}"] if ip and names else [])
    return {"EtcHosts": hosts, "DNS": dns, "DNSSearch": search, "DNSOptions": options}


def read_resolv() -> list[list[str]]:
    try:
        with open("/etc/resolv.conf") as f:
            return [line.split() for line in f if line.strip() and not line.startswith("#")]
    except OSError:
        return []


def host_resolv_extras() -> tuple[list[str], list[str]]:
    search, options = [], []
    for words in read_resolv():
        if words[0] in ("search", "domain"):
            search = words[1:]
        elif words[0] == "options":
            options += words[1:]
    return search, options


def host_nameservers() -> list[str]:
    return [w[1] for w in read_resolv() if w[0] == "nameserver" and len(w) > 1]
