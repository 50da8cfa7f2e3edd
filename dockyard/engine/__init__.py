"""The engine: services over store, image, build, registry, network and runtime.

``Engine(data_root, exec_root)`` composes the services as lazy attributes, so an
API request that only lists images never imports the network or build code::

    engine = Engine("/var/lib/dockyard", "/run/dockyard")
    engine.images.list()

A service is ``XService(engine)`` and reaches the others through ``engine``.
"""
from __future__ import annotations

import importlib
import logging
import os
import threading
from functools import cached_property

# attribute → (module, class); each service module is owned by its area.
SERVICES = {
    "images": ("dockyard.engine.images", "ImageService"),
    "containers": ("dockyard.engine.containers", "ContainerService"),
    "volumes": ("dockyard.engine.volumes", "VolumeService"),
    "networks": ("dockyard.network.service", "NetworkService"),
    "builds": ("dockyard.build.service", "BuildService"),
    "registry": ("dockyard.registry.service", "RegistryService"),
    "events": ("dockyard.engine.events", "EventService"),
}


class Engine:
    """Root object of one dockyard instance (one data root, one exec root)."""

    def __init__(self, data_root: str = "/var/lib/dockyard", exec_root: str = "/run/dockyard"):
        self.data_root = os.path.abspath(data_root)
        self.exec_root = os.path.abspath(exec_root)
        os.makedirs(self.data_root, mode=0o711, exist_ok=True)
        os.makedirs(self.exec_root, mode=0o711, exist_ok=True)
        self._lock = threading.RLock()
        self._services: dict[str, object] = {}

    @cached_property
    def content(self):
        from dockyard.store.content import ContentStore
        return ContentStore(os.path.join(self.data_root, "content"))

    @cached_property
    def meta(self):
        from dockyard.store.metadata import Metadata
        return Metadata(os.path.join(self.data_root, "metadata.db"))

    @cached_property
    def snapshots(self):
        from dockyard.store.snapshots import Snapshotter
        return Snapshotter(os.path.join(self.data_root, "snapshots"))

    def __getattr__(self, name: str):
        spec = SERVICES.get(name)
        if spec is None:
            raise AttributeError(name)
        with self._lock:
            svc = self._services.get(name)
            if svc is None:
                cls = getattr(importlib.import_module(spec[0]), spec[1])
                svc = self._services[name] = cls(self)
            return svc

    def loaded(self, name: str):
        """The service ``name`` if something already created it, else None (no import)."""
        return self._services.get(name)

    # networks before containers: a container restarted at recovery needs its network
    RECOVERY_ORDER = ("images", "volumes", "networks", "containers", "builds", "registry",
                      "events")

    def start(self) -> None:
        """Start-up recovery: each service may define ``recover()``, run in RECOVERY_ORDER."""
        for name in self.RECOVERY_ORDER:
            try:
                svc = getattr(self, name)
            except ImportError:
                continue
            recover = getattr(svc, "recover", None)
            if recover:
                try:
                    recover()
                except Exception:  # one service's recovery must not keep the API down
                    logging.getLogger("dockyard.engine").exception("%s: recover failed", name)

    def close(self) -> None:
        for svc in list(self._services.values()):
            close = getattr(svc, "close", None)
            if close:
                close()
        if "snapshots" in self.__dict__:  # created (cached_property): finish its deletes
            self.snapshots.close()
