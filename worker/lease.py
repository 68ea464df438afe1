"""Keeps a claimed suggestion's lease alive from a heartbeat thread while the metric runs.

If a heartbeat is refused (the lease expired and the suggestion went to another worker, or the
suggestion was deleted), `lost` is set so a command evaluation can be stopped early; the
observation would be refused anyway.
"""

from __future__ import annotations

import logging
import threading

from coordinator.settings import Timing
from coordinator.store import Store

log = logging.getLogger(__name__)


class Lease:
    def __init__(self, store: Store, experiment_id: str, suggestion_id: str, epoch: int,
                 timing: Timing) -> None:
        self.store = store
        self.experiment_id = experiment_id
        self.suggestion_id = suggestion_id
        self.epoch = epoch
        self.timing = timing
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True,
                                        name=f"lease-{suggestion_id}")

    def __enter__(self) -> Lease:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _beat(self) -> None:
        while not self._stop.wait(self.timing.heartbeat_interval):
            try:
                alive = self.store.heartbeat(self.experiment_id, self.suggestion_id, self.epoch,
                                             self.timing.lease_ttl_ms)
            except Exception as exc:  # Redis down: keep trying, the client retries with backoff
                log.warning("heartbeat for suggestion %s failed: %s", self.suggestion_id, exc)
                continue
            if not alive:
                log.warning("lost the lease on suggestion %s (epoch %s)", self.suggestion_id,
                            self.epoch)
                self.lost.set()
                return

    def release(self) -> bool:
        """Hands the suggestion back at once (graceful shutdown)."""
        return self.store.release(self.experiment_id, self.suggestion_id, self.epoch)
