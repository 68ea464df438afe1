"""Training runs that belong to a project and no experiment (`sigopt.create_run`, `sigopt run`,
`sigopt.upload_runs`): one hash per project, run id -> TrainingRun JSON, and one index run id ->
"<client>/<project>" so `/v1/training_runs/{id}` finds them as it finds experiments' runs.

Ids come from the store's one allocator, so a run id names one run whichever home it has.
Changes go through update_run.lua, the same compare-and-set and run state machine as an
experiment's runs (the script takes the runs hash as its key).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, cast

from coordinator.errors import RunStateRefused, TrainingRunNotFound
from coordinator.state import keys, scripts
from coordinator.state.states import RunState, UpdateRunReply
from coordinator.state.store import RunUpdate, Store
from coordinator.state.together import together


class ProjectRuns:
    def __init__(self, store: Store) -> None:
        self.redis: Any = store.redis
        self._update = self.redis.register_script(scripts.source("update_run"))

    def add(self, client: str, project_id: str, runs: Sequence[tuple[str, str]]) -> None:
        """(run id, record) pairs, stored together or not at all (a batch upload is whole)."""
        pipe = together(self.redis)
        pipe.hset(keys.project_runs(client, project_id), mapping=dict(runs))
        pipe.hset(keys.RUN_PROJECT, mapping={run_id: f"{client}/{project_id}"
                                             for run_id, _ in runs})
        pipe.execute()

    def home(self, run_id: str) -> tuple[str, str] | None:
        """(client, project) of a project run; None for any other id."""
        where = self.redis.hget(keys.RUN_PROJECT, run_id)
        if not where:
            return None
        client, _, project_id = cast(str, where).rpartition("/")
        return client, project_id

    def run(self, client: str, project_id: str, run_id: str) -> str | None:
        return cast(str | None, self.redis.hget(keys.project_runs(client, project_id), run_id))

    def runs(self, client: str, project_id: str) -> list[str]:
        return list(self.redis.hvals(keys.project_runs(client, project_id)))

    def update(self, client: str, project_id: str, run_id: str,
               change: Callable[[str], str]) -> RunUpdate:
        """As Store.update_run: `change(old) -> new`, again until nobody wrote in between."""
        key = keys.project_runs(client, project_id)
        while True:
            old = self.run(client, project_id, run_id)
            if old is None:
                raise TrainingRunNotFound(f"training run {run_id} not found")
            new = change(old)
            result = self._update(keys=[key], args=[run_id, old, new])
            reply = UpdateRunReply(result[0])
            if reply is UpdateRunReply.OK:
                return RunUpdate(old, new, RunState(result[1]), RunState(result[2]))
            if reply is UpdateRunReply.UNKNOWN:
                raise TrainingRunNotFound(f"training run {run_id} not found")
            if reply is UpdateRunReply.REFUSED:
                raise RunStateRefused(
                    f"training run {run_id}: its state cannot change from "
                    f"{json.loads(old).get('state')!r} to {json.loads(new).get('state')!r} (a "
                    f"finished run stays finished, and only a completed one may still fail)")
