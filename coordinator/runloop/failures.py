"""A broken evaluation (a missing module, a KeyError, a missing script) fails every suggestion
within a second; without a pause it spends the whole budget on the same traceback.

`FailureStreak` watches the observations this run sees arrive, in order: once
`pause_after_failures` of them in a row failed for one reason (the reason's headline, so the
frames and stderr tail of one bug count once), the run stops dispatching and ends with that
reason. Only observations arriving during this run count, so `coordinator run ID` after the fix
continues where it paused.
"""

from __future__ import annotations

from collections.abc import Iterable

from coordinator.service.experiments import Service
from coordinator.state.records import reason_headline

Event = tuple[str, dict[str, str]]


class FailureStreak:
    def __init__(self, service: Service, experiment_id: str, limit: int) -> None:
        self.service, self.experiment_id, self.limit = service, experiment_id, limit
        self.headline = ""
        self.count = 0
        self.reason = ""  # set once the streak reached the limit: why the run paused

    def see(self, events: Iterable[Event]) -> str:
        """Takes the loop's events; returns the pause reason once there is one, else ""."""
        if self.limit <= 0 or self.reason:
            return self.reason
        for _, fields in events:
            if fields.get("type") != "observed":
                continue
            if fields.get("failed") != "1":
                self.headline, self.count = "", 0
                continue
            observation = self.service.observation(self.experiment_id, fields.get("oid", ""))
            headline = reason_headline(observation.reason if observation else "") \
                or "no reason recorded"
            if headline == self.headline:
                self.count += 1
            else:
                self.headline, self.count = headline, 1
            if self.count >= self.limit:
                self.reason = headline
                break
        return self.reason

    def message(self) -> str:
        return (f"paused: the last {self.count} evaluations failed for the same reason: "
                f"{self.reason}. Fix the evaluation, then `coordinator run {self.experiment_id}`"
                f" continues (pause_after_failures: 0 in the config never pauses)")
