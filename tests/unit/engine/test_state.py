import pytest

from dockyard.engine.state import State, can_transition, check_transition, is_running
from dockyard.errors import Conflict


def test_allowed_and_illegal_transitions():
    assert can_transition(State.CREATED, State.RUNNING)
    assert can_transition(State.RUNNING, State.PAUSED)
    assert not can_transition(State.PAUSED, State.REMOVING)
    assert not can_transition(State.DEAD, State.RUNNING)


def test_rm_running_message_is_dockers():
    with pytest.raises(Conflict, match="container is running: stop the container before "
                                       "removing or force remove"):
        check_transition(State.RUNNING, State.REMOVING, "web")


def test_running_in_dockers_sense():
    assert is_running(State.PAUSED) and is_running(State.RESTARTING)
    assert not is_running(State.EXITED)
