"""Build output in the classic builder's words and JSON-lines protocol.

The builder reports through an ``Output``; it turns each event into the dicts the
Engine API streams (``{"stream": ...}``, ``{"aux": {"ID": ...}}``, errors as
``{"errorDetail": {"message": m}, "error": m}``). With ``quiet`` only the final
image ID is streamed, as docker's ``q=1``.
"""
from __future__ import annotations

import codecs
from typing import Callable

from dockyard.oci.digest import short_id

Emit = Callable[[dict], None]


class Output:
    """Formats build progress; ``emit`` receives one JSON-able dict per message."""

    def __init__(self, emit: Emit, quiet: bool = False, explain: bool = False):
        self._emit = emit
        self.quiet = quiet
        self.explain_cache = explain
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

    def stream(self, text: str) -> None:
        if not self.quiet:
            self._emit({"stream": text})

    def note(self, text: str) -> None:
        self.stream(text.rstrip("\n") + "\n")

    def step(self, n: int, total: int, original: str) -> None:
        self.stream(f"Step {n}/{total} : {original}\n")

    def image(self, image_id: str) -> None:
        self.stream(f" ---> {short_id(image_id)}\n")

    def using_cache(self) -> None:
        self.stream(" ---> Using cache\n")

    def running_in(self, container_id: str) -> None:
        self.stream(f" ---> Running in {short_id(container_id)}\n")

    def removing(self, container_id: str) -> None:
        self.stream(f"Removing intermediate container {short_id(container_id)}\n")

    def run_output(self, data: bytes) -> None:
        """RUN output as it comes; a UTF-8 character split across reads stays whole."""
        text = self._decoder.decode(data)
        if text:
            self.stream(text)

    def cache_miss(self, reasons: list[str]) -> None:
        """``--explain-cache``: one line per changed input of a missed step."""
        if self.explain_cache:
            for r in reasons:
                self.stream(f" ---> cache miss: {r}\n")

    def built(self, image_id: str) -> None:
        self._emit({"aux": {"ID": image_id}})
        if self.quiet:
            self._emit({"stream": image_id + "\n"})
        self.stream(f"Successfully built {short_id(image_id)}\n")

    def tagged(self, ref: str) -> None:
        self.stream(f"Successfully tagged {ref}\n")

    def error(self, message: str, code: int | None = None) -> None:
        detail: dict = {"message": message}
        if code is not None:
            detail["code"] = code
        self._emit({"errorDetail": detail, "error": message})
