"""The network service's tables in the metadata database.

* ``net_networks``: one row per network (builtin bridge/host/none and user networks);
  ``last_ip`` makes address picking round-robin across restarts; ``ipam`` holds the
  optional ``ip_range`` addresses are handed out from and the reserved ``aux`` addresses.
* ``net_attachments``: the networks a container is configured to join beyond the one
  in its create request (``network connect`` on a container that is not running).
* ``net_sandboxes``: a container whose networking is set up (its netns, mode, names);
  it exists from setup_container to teardown_container.
* ``net_endpoints``: a live attachment of a sandbox to a network; the UNIQUE
  (network_id, ip) constraint is the IPAM lease: an address is never handed out twice.
* ``net_ports``: published ports of live sandboxes (restored on daemon start).
* ``net_dns``: a live sandbox's own ``--dns`` servers (the embedded DNS forwards to them).

The order of writes makes crashes recoverable: rows are written before the kernel
objects they name are created, and removed after those are gone, so recover() can
always find and remove leftovers from the database.
"""
from __future__ import annotations

import json
import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS net_networks (
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, driver TEXT NOT NULL,
  bridge TEXT, subnet TEXT, gateway TEXT, internal INTEGER NOT NULL DEFAULT 0,
  builtin INTEGER NOT NULL DEFAULT 0, attachable INTEGER NOT NULL DEFAULT 0,
  created TEXT NOT NULL, last_ip TEXT, labels TEXT NOT NULL DEFAULT '{}',
  options TEXT NOT NULL DEFAULT '{}', ipam TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS net_attachments (
  container_id TEXT NOT NULL, network_id TEXT NOT NULL, config TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (container_id, network_id));
CREATE TABLE IF NOT EXISTS net_sandboxes (
  container_id TEXT PRIMARY KEY, name TEXT NOT NULL, hostname TEXT NOT NULL,
  mode TEXT NOT NULL, netns TEXT);
CREATE TABLE IF NOT EXISTS net_endpoints (
  container_id TEXT NOT NULL, network_id TEXT NOT NULL, endpoint_id TEXT NOT NULL,
  ifname TEXT NOT NULL, host_veth TEXT NOT NULL, ip TEXT NOT NULL, mac TEXT NOT NULL,
  aliases TEXT NOT NULL DEFAULT '[]', ipam_ip TEXT,
  PRIMARY KEY (container_id, network_id), UNIQUE (network_id, ip));
CREATE TABLE IF NOT EXISTS net_dns (
  container_id TEXT PRIMARY KEY, servers TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS net_ports (
  container_id TEXT NOT NULL, proto TEXT NOT NULL, host_ip TEXT NOT NULL,
  host_port INTEGER NOT NULL, container_ip TEXT NOT NULL, container_port INTEGER NOT NULL,
  PRIMARY KEY (proto, host_ip, host_port));
"""


def row_dict(row: sqlite3.Row | None) -> dict | None:
    """A row as a dict with JSON columns decoded."""
    if row is None:
        return None
    out = dict(row)
    for key in ("labels", "options", "aliases", "config", "ipam"):
        if key in out and isinstance(out[key], str):
            out[key] = json.loads(out[key])
    return out


class NetStore:
    """Typed queries over the network tables."""

    def __init__(self, meta) -> None:
        self.meta = meta
        meta.ensure_schema("network", SCHEMA)
        cols = {r[1] for r in meta.query("PRAGMA table_info(net_networks)")}
        if "ipam" not in cols:  # a store made before ip ranges
            with meta.tx() as db:
                db.execute("ALTER TABLE net_networks ADD COLUMN ipam TEXT NOT NULL DEFAULT '{}'")

    # networks ------------------------------------------------------------
    def networks(self) -> list[dict]:
        return [row_dict(r) for r in self.meta.query("SELECT * FROM net_networks ORDER BY created")]

    def network(self, ref: str) -> dict | None:
        """By exact name, exact id, or unique id prefix."""
        rows = self.meta.query("SELECT * FROM net_networks WHERE name = ? OR id = ?", (ref, ref))
        if not rows and len(ref) >= 1:
            rows = self.meta.query("SELECT * FROM net_networks WHERE id LIKE ?", (ref + "%",))
            rows = rows if len(rows) == 1 else []
        return row_dict(rows[0]) if rows else None

    def by_name(self, name: str) -> dict | None:
        return row_dict(self.meta.query_one("SELECT * FROM net_networks WHERE name = ?", (name,)))

    def add_network(self, rec: dict) -> None:
        rec = dict(rec, labels=json.dumps(rec.get("labels") or {}),
                   options=json.dumps(rec.get("options") or {}),
                   ipam=json.dumps(rec.get("ipam") or {}))
        cols = ", ".join(rec)
        with self.meta.tx() as db:
            db.execute(f"INSERT INTO net_networks ({cols}) VALUES ({', '.join('?' * len(rec))})",
                       tuple(rec.values()))

    def delete_network(self, network_id: str) -> None:
        with self.meta.tx() as db:
            db.execute("DELETE FROM net_attachments WHERE network_id = ?", (network_id,))
            db.execute("DELETE FROM net_networks WHERE id = ?", (network_id,))

    # sandboxes and endpoints ----------------------------------------------
    def sandbox(self, container_id: str) -> dict | None:
        return row_dict(self.meta.query_one(
            "SELECT * FROM net_sandboxes WHERE container_id = ?", (container_id,)))

    def sandboxes(self) -> list[dict]:
        return [row_dict(r) for r in self.meta.query("SELECT * FROM net_sandboxes")]

    def endpoints(self, container_id: str | None = None, network_id: str | None = None) -> list[dict]:
        sql, args = "SELECT * FROM net_endpoints WHERE 1", []
        if container_id:
            sql, args = sql + " AND container_id = ?", args + [container_id]
        if network_id:
            sql, args = sql + " AND network_id = ?", args + [network_id]
        return [row_dict(r) for r in self.meta.query(sql + " ORDER BY rowid", args)]

    def used_ips(self, network_id: str) -> set[str]:
        return {r[0] for r in self.meta.query(
            "SELECT ip FROM net_endpoints WHERE network_id = ?", (network_id,))}

    # ports ----------------------------------------------------------------
    def ports(self, container_id: str | None = None) -> list[dict]:
        if container_id:
            rows = self.meta.query("SELECT * FROM net_ports WHERE container_id = ?", (container_id,))
        else:
            rows = self.meta.query("SELECT * FROM net_ports")
        return [dict(r) for r in rows]

    # attachments ------------------------------------------------------------
    def attachments(self, container_id: str) -> dict[str, dict]:
        rows = self.meta.query("SELECT network_id, config FROM net_attachments "
                               "WHERE container_id = ?", (container_id,))
        return {r[0]: json.loads(r[1]) for r in rows}
