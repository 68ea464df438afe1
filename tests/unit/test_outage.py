"""RedisWait: the one place that waits out a Redis outage (coordinator/infra/outage.py)."""

from __future__ import annotations

import pytest
import redis
from kombu.exceptions import OperationalError

from coordinator.errors import InvalidInput, RedisFull, RedisUnavailable
from coordinator.infra.outage import PATIENCE_ENV, RedisWait, explain, patience

URL = "redis://:secret@db.internal:6379/0"


def failing(times: int, error: Exception):
    calls = []

    def step() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise error
        return "done"
    return step, calls


def test_a_step_is_run_again_with_doubling_pauses_up_to_ten_seconds_and_the_wait_is_shown():
    pauses: list[float] = []
    lines: list[str] = []
    wait = RedisWait(URL, on_wait=lines.append, patience_s=600, sleep=pauses.append)
    step, calls = failing(7, redis.ConnectionError("Error 111 connecting"))
    assert wait.call(step) == "done" and len(calls) == 8
    assert pauses == [0.5, 1, 2, 4, 8, 10, 10]
    assert lines[0].startswith("waiting for Redis at redis://***@db.internal:6379/0 (down for ")
    assert "secret" not in "".join(lines) and lines[-1].endswith("s") and "is back" in lines[-1]


def test_kombu_publish_errors_and_timeouts_are_outages_too():
    wait = RedisWait(URL, on_wait=lambda _: None, patience_s=600, sleep=lambda _: None)
    for error in (OperationalError("publish"), redis.TimeoutError("slow"), OSError("reset")):
        step, _ = failing(2, error)
        assert wait.call(step) == "done"


def test_past_its_patience_the_wait_ends_in_one_line_naming_redis_and_the_setting():
    wait = RedisWait(URL, on_wait=lambda _: None, patience_s=0, sleep=lambda _: None)
    step, _ = failing(100, redis.ConnectionError("Error 111 connecting"))
    with pytest.raises(RedisUnavailable) as caught:
        wait.call(step)
    assert "lost the connection to Redis at redis://***@db.internal:6379/0" in str(caught.value)
    assert PATIENCE_ENV in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("error", [
    redis.OutOfMemoryError("command not allowed when used memory > 'maxmemory'."),
    redis.ResponseError("Error running script (call to f_1): @user_script:1: -OOM command not "
                        "allowed when used memory > 'maxmemory'.")])
def test_a_full_redis_is_not_waited_for_but_named_with_what_to_do(error):
    wait = RedisWait(URL, on_wait=lambda _: None, patience_s=600, sleep=lambda _: None)
    step, calls = failing(1, error)
    with pytest.raises(RedisFull) as caught:
        wait.call(step)
    assert len(calls) == 1
    assert "out of memory" in str(caught.value) and "maxmemory" in str(caught.value)
    assert isinstance(explain(error), RedisFull)


def test_wrong_credentials_and_other_errors_pass_through_at_once():
    wait = RedisWait(URL, on_wait=lambda _: None, patience_s=600, sleep=lambda _: None)
    for error in (redis.AuthenticationError("WRONGPASS"), redis.ResponseError("WRONGTYPE"),
                  ValueError("bug")):
        step, calls = failing(1, error)
        with pytest.raises(type(error)):
            wait.call(step)
        assert len(calls) == 1
    assert explain(ValueError("bug")) is None


def test_the_patience_comes_from_the_environment_and_is_checked(monkeypatch):
    monkeypatch.setenv(PATIENCE_ENV, "42")
    assert patience() == 42
    monkeypatch.setenv(PATIENCE_ENV, "soon")
    with pytest.raises(InvalidInput, match=PATIENCE_ENV):
        patience()
    monkeypatch.delenv(PATIENCE_ENV)
    assert patience() == 600


def test_sweep_forever_rides_out_an_outage_and_a_single_sweep_does_not(monkeypatch):
    from types import SimpleNamespace

    from coordinator.cli import experiments

    monkeypatch.setattr(experiments.time, "sleep", lambda _: None)
    done = SimpleNamespace(requeued=[], redispatched=[], failed=[])

    class Sweeper:
        def __init__(self, *steps):
            self.steps = list(steps)

        def sweep(self, _experiment):
            step = self.steps.pop(0)
            if isinstance(step, BaseException):
                raise step
            return step

    lines: list[str] = []
    wait = RedisWait(URL, on_wait=lines.append, patience_s=600, sleep=lambda _: None)
    away = redis.ConnectionError("Connection refused")
    sweeper = Sweeper(done, away, away, done, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        experiments._sweep_rounds(sweeper, None, wait, 0.0)
    assert ["waiting for Redis" in line for line in lines] == [True, True, False]
    assert "is back" in lines[-1]
    assert not sweeper.steps
    with pytest.raises(redis.ConnectionError):
        experiments._sweep_rounds(Sweeper(away), None, None, 0.0)
