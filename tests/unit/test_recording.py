"""A finished evaluation's result waits out a Redis outage; the heartbeat rides one out too."""

from __future__ import annotations

import logging
import time
from types import SimpleNamespace

import pytest
import redis

from coordinator.infra.timing import Timing
from coordinator.state.records import ObservationRecord
from coordinator.state.states import HeartbeatReply, ObserveReply
from worker import recording
from worker.lease import Lease

pytestmark = pytest.mark.timeout(30)
URL = "redis://:secret@10.0.0.5:6379/0"


class FlakyService:
    """Refuses `down` calls with a connection error, then observes as `replies` say."""

    def __init__(self, down: int, replies: list[ObserveReply], recorded: str = "") -> None:
        self.down = down
        self.replies = replies
        self.observed: list[str] = []
        self.store = SimpleNamespace(suggestion=lambda *_: SimpleNamespace(observation=recorded))

    def observe(self, observation: ObservationRecord, epoch: int) -> ObserveReply:
        self.observed.append(observation.id)
        if self.down:
            self.down -= 1
            raise redis.ConnectionError("Error 111 connecting to 10.0.0.5:6379")
        return self.replies.pop(0)


def builder():
    made = iter(range(1, 100))
    return lambda: ObservationRecord(id=str(next(made)), experiment="1", suggestion="7",
                                     assignments={})


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    monkeypatch.setattr(recording, "FIRST_PAUSE", 0.01)
    monkeypatch.setattr(recording, "LONGEST_PAUSE", 0.02)


def test_a_result_is_recorded_once_redis_is_back_with_one_line_while_waiting(caplog):
    service = FlakyService(down=3, replies=[ObserveReply.OK])
    with caplog.at_level(logging.WARNING, logger="worker.recording"):
        observation, status = recording.record(service, builder(), 4, URL)  # type: ignore[arg-type]
    assert status is ObserveReply.OK and observation is not None and observation.id == "4"
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and "keeping the result and retrying" in lines[0]
    assert "redis://***@10.0.0.5:6379/0" in lines[0] and "secret" not in lines[0]
    assert lines[1].startswith("Redis is back: recorded the result of suggestion 7")


def test_an_attempt_whose_reply_was_lost_but_was_recorded_counts_as_ours():
    service = FlakyService(down=1, replies=[ObserveReply.CLOSED], recorded="1")
    assert recording.record(service, builder(), 4, URL)[1] is ObserveReply.OK  # type: ignore[arg-type]


def test_a_late_result_whose_lease_was_claimed_again_meanwhile_is_refused():
    service = FlakyService(down=2, replies=[ObserveReply.STALE])
    assert recording.record(service, builder(), 4, URL)[1] is ObserveReply.STALE  # type: ignore[arg-type]


def test_redis_away_past_the_patience_gives_up_with_one_error(monkeypatch, caplog):
    monkeypatch.setenv(recording.PATIENCE_ENV, "0.1")
    service = FlakyService(down=10_000, replies=[])
    started = time.monotonic()
    assert recording.record(service, builder(), 4, URL) == (None, None)  # type: ignore[arg-type]
    assert time.monotonic() - started < 2
    assert [r.levelname for r in caplog.records].count("ERROR") == 1


def test_a_refused_password_is_not_waited_out():
    class Refusing(FlakyService):
        def observe(self, observation, epoch):
            raise redis.AuthenticationError("invalid username-password pair")
    with pytest.raises(redis.AuthenticationError):
        recording.record(Refusing(0, []), builder(), 4, URL)  # type: ignore[arg-type]


def test_the_heartbeat_keeps_the_evaluation_going_while_redis_is_away(caplog):
    calls: list[int] = []

    class Store:
        def heartbeat(self, *_):
            calls.append(1)
            if len(calls) <= 3:
                raise redis.ConnectionError("Connection refused")
            return HeartbeatReply.OK

    lease = Lease(Store(), "1", "7", 4, Timing(lease_ttl=0.3))  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, logger="worker.lease"), lease:
        deadline = time.monotonic() + 5
        while len(calls) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert not lease.lost.is_set()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and "the evaluation goes on" in lines[0]
    assert "Redis is back" in lines[1]
