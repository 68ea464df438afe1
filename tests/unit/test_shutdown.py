"""The pool child's shutdown handler: hand back what runs, stop the metric, never Redis I/O."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from coordinator.infra.timing import Timing
from worker import shutdown
from worker.lease import ACTIVE, HandedBack, Lease


@pytest.fixture
def lease() -> Iterator[Lease]:
    held = Lease(None, "1", "2", 1, Timing(), interruptible=True)  # type: ignore[arg-type]
    ACTIVE.add(held)
    yield held
    ACTIVE.discard(held)


def test_a_python_metric_is_interrupted_and_its_lease_marked_for_hand_back(lease):
    with pytest.raises(HandedBack):
        shutdown.on_child_signal(shutdown.HAND_BACK_SIGNAL, None)
    assert lease.handing_back.is_set() and lease.lost.is_set()


def test_a_command_metric_is_cancelled_through_the_lease_without_raising(lease):
    lease.interruptible = False
    shutdown.on_child_signal(signal.SIGTERM, None)
    assert lease.handing_back.is_set() and lease.lost.is_set()


def test_a_second_signal_while_handing_back_does_not_raise_again(lease):
    with pytest.raises(HandedBack):
        shutdown.on_child_signal(signal.SIGTERM, None)
    shutdown.on_child_signal(shutdown.HAND_BACK_SIGNAL, None)


def test_the_hand_back_signal_leaves_an_idle_process_alone():
    assert not ACTIVE
    shutdown.on_child_signal(shutdown.HAND_BACK_SIGNAL, None)
