"""Keeps a claimed suggestion's lease alive from a heartbeat thread while the metric runs.

If a heartbeat is refused (the lease expired and the suggestion went to another worker, or the
suggestion was deleted), `lost` is set so a command evaluation can be stopped early; the
observation would be refused anyway.

A worker told to stop asks every lease of its process to hand back (`request_hand_back`, safe
from a signal handler: it only sets events); the task then releases the suggestion at once
(`release`) instead of letting the lease run out, so it runs again elsewhere within a sweep.
"""

from __future__ import annotations

import logging
import threading
import time

from coordinator.infra.timing import Timing
from coordinator.state.states import HeartbeatReply, ReleaseReply
from coordinator.state.store import Store

log = logging.getLogger(__name__)


class HandedBack(BaseException):
    """Raised into a Python metric to stop it when the worker shuts down. A BaseException so
    that the user's `except Exception` and our own failure handling let it through."""


class Lease:
    def __init__(self, store: Store, experiment_id: str, suggestion_id: str, epoch: int,
                 timing: Timing, interruptible: bool = False) -> None:
        self.store = store
        self.experiment_id = experiment_id
        self.suggestion_id = suggestion_id
        self.epoch = epoch
        self.timing = timing
        self.interruptible = interruptible  # a Python metric in this thread: raise HandedBack
        self.lost = threading.Event()  # also the evaluation's cancel event
        self.handing_back = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True,
                                        name=f"lease-{suggestion_id}")

    def __enter__(self) -> Lease:
        ACTIVE.add(self)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        ACTIVE.discard(self)
        self._stop.set()
        self._thread.join(timeout=5)

    def _beat(self) -> None:
        """Redis away is no reason to stop the evaluation: the heartbeat says so once, keeps
        trying, and says when it is back. Whether the result still counts is decided when it
        is observed (the epoch), not here."""
        failing_since = 0.0
        while not self._stop.wait(self.timing.heartbeat_interval):
            try:
                reply = self.store.heartbeat(self.experiment_id, self.suggestion_id, self.epoch,
                                             self.timing.lease_ttl_ms)
            except Exception as exc:  # Redis down: keep trying, the client retries with backoff
                if not failing_since:
                    failing_since = time.monotonic()
                    log.warning("heartbeat for suggestion %s failed (%s): the evaluation goes "
                                "on, and its result is recorded if its lease is still current "
                                "when Redis is back", self.suggestion_id, exc)
                continue
            if self._stop.is_set():
                return  # the evaluation ended while this heartbeat waited for Redis
            if failing_since:
                log.warning("heartbeat for suggestion %s: Redis is back after %.0f s (%s)",
                            self.suggestion_id, time.monotonic() - failing_since, reply)
                failing_since = 0.0
            if reply is HeartbeatReply.LOST:
                if not self.handing_back.is_set():
                    log.warning("lost the lease on suggestion %s (epoch %s)",
                                self.suggestion_id, self.epoch)
                self.lost.set()
                return

    def request_hand_back(self) -> bool:
        """Marks the lease for hand-back and cancels a command evaluation. Only sets events, so
        it is safe inside a signal handler; returns False when already requested."""
        if self.handing_back.is_set():
            return False
        self.handing_back.set()
        self.lost.set()
        return True

    def release(self) -> bool:
        """Hands the suggestion back at once (graceful shutdown); False if no longer ours."""
        self._stop.set()
        try:
            reply = self.store.release(self.experiment_id, self.suggestion_id, self.epoch)
        except Exception as exc:  # Redis down: the sweeper recovers it when the lease runs out
            log.warning("could not hand back suggestion %s: %s", self.suggestion_id, exc)
            return False
        released = reply is ReleaseReply.OK
        log.warning("handed suggestion %s of experiment %s back (worker shutting down): %s",
                    self.suggestion_id, self.experiment_id,
                    "it runs again elsewhere" if released else "it was no longer ours")
        return released


ACTIVE: set[Lease] = set()  # leases held by this process; read by the shutdown handlers
