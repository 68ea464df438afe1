"""Ctrl-C while `coordinator run` dispatches: every open suggestion has its task published."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from coordinator.infra import interrupts
from coordinator.infra.timing import Timing
from coordinator.runloop.dispatch import Dispatcher
from tests.unit.conftest import make_spec


class InterruptedSender:
    """Publishes (records) each task, but Ctrl-C arrives while it does."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, experiment, suggestion_id: str) -> None:  # type: ignore[no-untyped-def]
        os.kill(os.getpid(), signal.SIGINT)
        self.sent.append(suggestion_id)

    def close(self) -> None:
        pass


def test_ctrl_c_between_taking_and_publishing_still_publishes_the_task(service):
    experiment = service.create_experiment(make_spec(parallel_bandwidth=3))
    sender = InterruptedSender()
    dispatcher = Dispatcher(service, sender, Timing())  # type: ignore[arg-type]
    with pytest.raises(KeyboardInterrupt):
        dispatcher.fill(experiment, service.store.counts(experiment.id))
    open_ids = set(service.store.open_ids(experiment.id))
    assert open_ids and open_ids == set(sender.sent)  # stopped after the first, which was sent
    assert len(sender.sent) == 1


def test_a_second_ctrl_c_interrupts_at_once():
    reached = []
    with pytest.raises(KeyboardInterrupt):
        with interrupts.deferred():
            os.kill(os.getpid(), signal.SIGINT)
            reached.append("after the first")
            os.kill(os.getpid(), signal.SIGINT)
            reached.append("after the second")
    assert reached == ["after the first"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_block_without_ctrl_c_runs_as_usual_and_off_the_main_thread_too():
    with interrupts.deferred():
        pass
    errors: list[BaseException] = []

    def body() -> None:
        try:
            with interrupts.deferred():  # signal.signal would raise here: it must not be called
                pass
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    thread = threading.Thread(target=body)
    thread.start()
    thread.join(5)
    assert not errors
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
