"""Container lifecycle states and the transitions allowed between them (youki's state.rs).

::

    created ──start──► running ──exit──► exited ──start──► running
       │                 │  ▲                │
       │               pause│resume          └──rm──► (removed)
       │                 ▼  │
       │               paused
       └──rm──► (removed)      running/exited ──(restart policy)──► restarting ──► running

An illegal request (stop a stopped container, rm a running one without force) raises
:class:`~dockyard.errors.Conflict` with docker's message, which the API maps to 409.
"""
from __future__ import annotations

import enum

from dockyard.errors import Conflict


class State(str, enum.Enum):
    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    RESTARTING = "restarting"
    EXITED = "exited"
    DEAD = "dead"
    REMOVING = "removing"


# from-state → states it may move to
TRANSITIONS: dict[State, frozenset[State]] = {
    State.CREATED: frozenset({State.RUNNING, State.EXITED, State.DEAD, State.REMOVING}),
    State.RUNNING: frozenset({State.PAUSED, State.EXITED, State.RESTARTING, State.RUNNING,
                              State.DEAD}),
    State.PAUSED: frozenset({State.RUNNING, State.EXITED, State.DEAD}),
    State.RESTARTING: frozenset({State.RUNNING, State.EXITED, State.DEAD, State.RESTARTING}),
    State.EXITED: frozenset({State.RUNNING, State.RESTARTING, State.REMOVING, State.DEAD,
                             State.EXITED}),
    State.DEAD: frozenset({State.REMOVING}),
    State.REMOVING: frozenset({State.DEAD}),
}


def can_transition(src: State, dst: State) -> bool:
    return dst in TRANSITIONS[src]


def check_transition(src: State, dst: State, name: str) -> None:
    """Raise Conflict (docker's wording where it has one) unless ``src → dst`` is allowed."""
    if can_transition(src, dst):
        return
    raise Conflict(_message(src, dst, name))


def _message(src: State, dst: State, name: str) -> str:
    if src == State.PAUSED:
        return (f"cannot {_verb(dst)} container {name}: container is paused, "
                "unpause the container before stopping or killing")
    if dst == State.REMOVING and src in (State.RUNNING, State.RESTARTING):
        return (f"cannot remove container \"{name}\": container is {src.value}: "
                "stop the container before removing or force remove")
    if dst == State.PAUSED:
        return f"container {name} is not running"
    if src == State.REMOVING:
        return f"removal of container {name} is already in progress"
    return f"cannot move container {name} from {src.value} to {dst.value}"


def _verb(dst: State) -> str:
    return {State.EXITED: "stop", State.RUNNING: "start"}.get(dst, "change")


def is_running(s: State) -> bool:
    """Running in docker's sense: State.Running is true while running, paused, restarting."""
    return s in (State.RUNNING, State.PAUSED, State.RESTARTING)
