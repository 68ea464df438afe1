"""Records a finished evaluation's observation, waiting out a Redis outage.

An evaluation may have run for hours; if Redis is away at the moment it ends, the worker keeps
the result and tries again with backoff for up to CELERIAC_RESULT_PATIENCE seconds (default
600), logging one line while it waits. The fenced observe decides when Redis is back: if the
lease ran out meanwhile and the suggestion was requeued or re-claimed, the late result is
refused (STALE) and the suggestion's next run counts instead; if not, it is recorded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis

from coordinator.infra import outage
from coordinator.infra.connection import redact
from coordinator.service.experiments import Service
from coordinator.state.records import ObservationRecord
from coordinator.state.states import ObserveReply

log = logging.getLogger(__name__)

PATIENCE_ENV = "CELERIAC_RESULT_PATIENCE"
DEFAULT_PATIENCE = 600.0  # seconds a finished evaluation's result waits for Redis
FIRST_PAUSE, LONGEST_PAUSE = 0.5, 10.0  # backoff between attempts while Redis is away
TRANSIENT = (redis.ConnectionError, redis.TimeoutError)  # BusyLoadingError (LOADING) included


def patience() -> float:
    return outage.patience(PATIENCE_ENV, DEFAULT_PATIENCE)


def record(service: Service, build: Callable[[], ObservationRecord], epoch: int,
           redis_url: str) -> tuple[ObservationRecord | None, ObserveReply | None]:
    """Builds the observation (which reads Redis too) and observes it, retrying while Redis is
    unreachable. (None, None) when Redis stayed away past the patience: the lease then runs
    out and the sweeper runs the suggestion again."""
    deadline = time.monotonic() + patience()
    pause, waiting_since = FIRST_PAUSE, 0.0
    tried: list[str] = []  # ids of attempts whose reply may have been lost on the way back
    while True:
        observation: ObservationRecord | None = None
        try:
            observation = build()
            status = service.observe(observation, epoch=epoch)
            if status is ObserveReply.CLOSED and tried:
                status = _ours_after_all(service, observation, tried)
            if waiting_since:
                log.warning("Redis is back: recorded the result of suggestion %s after "
                            "waiting %.0f s (%s)", observation.suggestion,
                            time.monotonic() - waiting_since, status)
            return observation, status
        except redis.AuthenticationError:
            raise  # not an outage: the credentials changed; waiting would not help
        except TRANSIENT as exc:
            if observation is not None:
                tried.append(observation.id)
            now = time.monotonic()
            if now + pause > deadline:
                log.error("gave up recording a result after %.0f s: Redis at %s is still "
                          "unreachable (%s); the suggestion runs again once its lease runs out",
                          now - (waiting_since or now), redact(redis_url), exc)
                return None, None
            if not waiting_since:
                waiting_since = now
                log.warning("Redis at %s is unreachable (%s): keeping the result and retrying "
                            "for up to %.0f s (%s)", redact(redis_url), exc, deadline - now,
                            PATIENCE_ENV)
            time.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE)


def _ours_after_all(service: Service, observation: ObservationRecord, tried: list[str]
                    ) -> ObserveReply:
    """An attempt whose reply was lost may have been recorded: CLOSED by our own observation
    is OK (it is counted once either way)."""
    assert observation.suggestion is not None
    suggestion = service.store.suggestion(observation.experiment, observation.suggestion)
    if suggestion is not None and suggestion.observation in tried:
        return ObserveReply.OK
    return ObserveReply.CLOSED
