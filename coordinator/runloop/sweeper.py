"""The sweeper: open suggestions whose lease ran out, or whose task was never claimed, are sent
again; after max_attempts they are closed as failed observations.

All decisions are made inside sweep.lua against the Redis server clock, so any number of
sweepers (inside `coordinator run`, or `coordinator sweep`) can run at once: the first moves the
deadline and the others see nothing to do. A sweeper killed between the script and the publish
loses nothing either: the script set a claim deadline, so the next sweep re-sends it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from coordinator.infra import interrupts
from coordinator.infra.timing import Timing
from coordinator.service.experiments import Service
from coordinator.state.records import Experiment
from coordinator.state.states import SweepReply

log = logging.getLogger(__name__)

Send = Callable[[str, str], None]


@dataclass
class SweepResult:
    requeued: list[str] = field(default_factory=list)
    redispatched: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class Sweeper:
    def __init__(self, service: Service, send: Send, timing: Timing) -> None:
        self.service = service
        self.send = send
        self.timing = timing

    def sweep(self, experiment: Experiment) -> SweepResult:
        result = SweepResult()
        store = self.service.store
        for sid in store.expired_leases(experiment.id):
            suggestion = store.suggestion(experiment.id, sid)
            if suggestion is None:
                continue
            reason = (f"lease expired {suggestion.attempts} time(s) (worker "
                      f"{suggestion.owner or 'unknown'} died or hung); gave up after "
                      f"max_attempts={experiment.spec.max_attempts}")
            failure = self.service.new_observation(experiment, suggestion, {}, failed=True,
                                                   reason=reason)
            with interrupts.deferred():  # a requeued suggestion always has its task sent
                outcome = store.sweep_one(experiment.id, sid, failure,
                                          experiment.spec.max_attempts, self.timing.claim_ms)
                if outcome.sends_again:
                    (result.requeued if outcome is SweepReply.REQUEUED
                     else result.redispatched).append(sid)
                    log.info("suggestion %s of experiment %s: %s", sid, experiment.id,
                             outcome.lower())
                    self._send(experiment, sid)
            if outcome is SweepReply.FAILED:
                result.failed.append(sid)
                log.warning("suggestion %s of experiment %s: %s", sid, experiment.id, reason)
        return result

    def _send(self, experiment: Experiment, sid: str) -> None:
        """A failed publish (Redis going away) must not stop the sweep of the others: the
        suggestion already has a claim deadline, so a later sweep sends it again."""
        try:
            self.send(experiment.id, sid)
        except Exception as exc:
            log.warning("suggestion %s of experiment %s: sending failed (%s); a later sweep "
                        "sends it again", sid, experiment.id, exc)
