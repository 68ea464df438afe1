"""The store: one Python method per Lua script, plus the plain reads.

This is the only module that talks to Redis about experiments; every state change of a
suggestion or a training run is one atomic script from `coordinator/state/lua/`. Each script's
reply leaves here as its enum from `states.py`, or, when it is an error for every caller (an
experiment or run that does not exist, a run state change off the state machine), as the domain
error from `coordinator/errors.py`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import redis

from coordinator.errors import (
    ExperimentNotFound,
    NotFound,
    RunStateRefused,
    TrainingRunNotFound,
)
from coordinator.spec.early_stopping import EarlyStopping
from coordinator.spec.experiment import ExperimentSpec
from coordinator.state import keys, scripts, summary
from coordinator.state.records import ObservationRecord, Report, Suggestion
from coordinator.state.replication import Replication
from coordinator.state.states import (
    CheckpointReply,
    ClaimReply,
    DeleteReply,
    ExperimentState,
    HeartbeatReply,
    ObservationDeleteReply,
    ObservationUpdateReply,
    ObserveAssignmentsReply,
    ObserveReply,
    ReleaseLockReply,
    ReleaseReply,
    ReportReply,
    RunState,
    SweepReply,
    TakeReply,
    UpdateRunReply,
)
from coordinator.state.together import together

Limit = tuple[int, int]  # (most open suggestions, most open + observed); 0: no limit
NO_LIMIT: Limit = (0, 0)


@dataclass(frozen=True)
class Taken:
    """Result of take_suggestion: OK with the new suggestion, or EMPTY / DUPLICATE / FULL (an
    unknown or deleted experiment raises ExperimentNotFound instead)."""

    status: TakeReply
    suggestion_id: str | None = None
    assignments: dict[str, Any] | None = None
    strategy: str = ""
    metadata: dict[str, Any] | None = None  # as stored: a queued suggestion's own, if any


@dataclass(frozen=True)
class Claim:
    status: ClaimReply
    epoch: int = 0
    attempts: int = 0
    assignments: dict[str, Any] | None = None
    checkpoint: str = ""  # the latest checkpoint of an earlier attempt, to resume from
    checkpoint_step: float | None = None


@dataclass(frozen=True)
class Decision:
    """report.lua's answer: go on, or why not (a STOP is the scheduler's, a DONE is the end)."""

    status: ReportReply
    reason: str = ""


@dataclass(frozen=True)
class RunUpdate:
    """A training run as it was and as it is now, after one update_run transition."""

    old: str
    new: str
    old_state: RunState
    new_state: RunState

    @property
    def finishes(self) -> bool:
        """This update ended the run: the moment its observation is due."""
        return self.old_state.finishes_at(self.new_state)


@dataclass(frozen=True)
class Counts:
    observations: int
    failed: int
    open: int
    backlog: int


class Store:
    def __init__(self, client: redis.Redis) -> None:
        # Clients are made with decode_responses=True, so replies are str; redis-py's type hints
        # cannot express that (every reply is `bytes | str`), hence Any here.
        self.redis: Any = client
        self._scripts = {name: client.register_script(scripts.source(name))
                         for name in (*scripts.REPLIES, *scripts.UNTYPED)}
        self.replication = Replication.for_client(client)

    def _run(self, name: str, keys_: Sequence[str], args: Sequence[Any]) -> Any:
        return self._scripts[name](keys=list(keys_), args=list(args))

    def _run_durable(self, name: str, keys_: Sequence[str], args: Sequence[Any]) -> Any:
        """_run, then WAIT on the same connection for the replicas (state.replication)."""
        wanted = self.replication
        if not wanted.waiting():
            return self._run(name, keys_, args)
        pipe = self.redis.pipeline(transaction=False)
        self._scripts[name](keys=list(keys_), args=list(args), client=pipe)
        pipe.execute_command("WAIT", wanted.replicas, wanted.timeout_ms)
        result, acknowledged = pipe.execute()
        wanted.record(int(acknowledged))
        return result

    # ids and experiments -------------------------------------------------------------------

    def allocate_ids(self, count: int = 1) -> list[str]:
        """Ids unique across every process and machine sharing this Redis (digit strings)."""
        last = int(self.redis.incrby(keys.IDS, count))
        return [str(i) for i in range(last - count + 1, last + 1)]

    def create_experiment(self, spec: ExperimentSpec, owner: str = "") -> str:
        """Experiments have their own counter, so a user's are numbered 1, 2, 3. An id already
        taken (by a Redis whose experiments came from the shared counter of old) is skipped."""
        while True:
            experiment_id = str(self.redis.incr(keys.EXPERIMENT_IDS))
            k = keys.ExperimentKeys(experiment_id)
            if not self.redis.exists(k.meta):
                break
        pipe = together(self.redis)  # record, then index (state/together.py)
        pipe.hset(k.meta, mapping={
            "id": experiment_id, "spec": spec.to_json(), "state": ExperimentState.ACTIVE,
            "created": int(time.time()), "owner": owner,
            "observation_count": 0, "failed_count": 0,
            # the running summary of no observations (state/summary.py), valid from the start
            "summary": "1", "goals": summary.goals(spec), "stopped_count": 0,
        })
        pipe.zadd(keys.EXPERIMENTS, {experiment_id: int(experiment_id)})
        pipe.execute()
        return experiment_id

    def experiment_meta(self, experiment_id: str) -> dict[str, str]:
        return cast(dict[str, str], self.redis.hgetall(keys.ExperimentKeys(experiment_id).meta))

    def set_meta(self, experiment_id: str, **fields: Any) -> None:
        self.redis.hset(keys.ExperimentKeys(experiment_id).meta, mapping=fields)

    def experiment_ids(self) -> list[str]:
        return list(self.redis.zrange(keys.EXPERIMENTS, 0, -1))

    def update_spec(self, experiment_id: str, spec: ExperimentSpec) -> None:
        """Stores a changed spec (budget, name, bandwidth, metadata) and tells every process
        following the experiment's events (a running `coordinator run` reads it again)."""
        k = keys.ExperimentKeys(experiment_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(k.meta, mapping={"spec": spec.to_json(), "updated": int(time.time())})
        pipe.xadd(k.events, {"type": "updated"}, maxlen=EVENTS_MAXLEN, approximate=True)
        pipe.execute()

    def restore_experiment(self, experiment_id: str) -> None:
        """Unarchives a deleted experiment: it takes suggestions again."""
        k = keys.ExperimentKeys(experiment_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(k.meta, "state", ExperimentState.ACTIVE)
        pipe.xadd(k.events, {"type": "updated"}, maxlen=EVENTS_MAXLEN, approximate=True)
        pipe.execute()

    def delete_experiment(self, experiment_id: str) -> None:
        """Marks it deleted (no more suggestions) and drops its ready backlog."""
        k = keys.ExperimentKeys(experiment_id)
        self.redis.hset(k.meta, "state", ExperimentState.DELETED)
        self.redis.delete(k.backlog)

    def counts(self, experiment_id: str) -> Counts:
        k = keys.ExperimentKeys(experiment_id)
        pipe = self.redis.pipeline(transaction=False)
        pipe.hmget(k.meta, "observation_count", "failed_count")
        pipe.zcard(k.open)
        pipe.llen(k.backlog)
        (observed, failed), open_count, backlog = pipe.execute()
        return Counts(int(observed or 0), int(failed or 0), int(open_count), int(backlog))

    # suggestion transitions -----------------------------------------------------------------

    def take_suggestion(self, experiment_id: str, suggestion_id: str, fallback: str = "",
                        metadata: dict[str, Any] | None = None, claim_ms: int = 0,
                        limit: Limit = NO_LIMIT) -> Taken:
        """The oldest queued suggestion first (coordinator/state/queue.py), then the backlog."""
        k = keys.ExperimentKeys(experiment_id)
        return self._take(k, k.backlog, suggestion_id, fallback, metadata, claim_ms, limit,
                          k.queue)

    def _take(self, k: keys.ExperimentKeys, backlog: str, suggestion_id: str, entry: str,
              metadata: dict[str, Any] | None, claim_ms: int, limit: Limit = NO_LIMIT,
              queue: str | None = None) -> Taken:
        result = self._run("take_suggestion",
                           [k.meta, backlog, k.suggestion(suggestion_id), k.suggestions,
                            k.open, k.open_points, k.leases, k.events,
                            queue or k.no_backlog],
                           [suggestion_id, entry, json.dumps(metadata or {}), claim_ms, *limit])
        reply = TakeReply(result[0])
        if reply is TakeReply.NO_EXPERIMENT:
            raise _no_experiment(k.experiment_id)
        if reply is not TakeReply.OK:
            return Taken(reply)
        return Taken(reply, suggestion_id, json.loads(result[1]), result[2],
                     json.loads(result[3]))

    def claim(self, experiment_id: str, suggestion_id: str, owner: str, ttl_ms: int) -> Claim:
        k = keys.ExperimentKeys(experiment_id)
        result = self._run("claim", [k.suggestion(suggestion_id), k.leases, k.events],
                           [suggestion_id, owner, ttl_ms])
        reply = ClaimReply(result[0])
        if reply is not ClaimReply.OK:
            return Claim(reply)
        return Claim(reply, int(result[1]), int(result[2]), json.loads(result[3]),
                     result[4] or "", float(result[5]) if result[5] else None)

    def report(self, experiment_id: str, suggestion_id: str, epoch: int | None,
               report: Report, early_stopping: EarlyStopping | None,
               resource_budget: float | None = None) -> Decision:
        """Records one intermediate result and returns the scheduler's decision (report.lua).
        `epoch` None is the HTTP API's report on any open suggestion."""
        k = keys.ExperimentKeys(experiment_id)
        step = step_text(report.step)
        plan: dict[str, Any] = {"kind": "none", "scores": [], "milestones": []}
        rung_keys: list[str] = []
        if early_stopping is not None:
            bracket = early_stopping.bracket_of(suggestion_id)
            plan = early_stopping.plan(bracket, report.values)
            if early_stopping.ranks_rungs:
                rung_keys = [k.rung(bracket, i) for i in range(len(plan["milestones"]))]
            elif early_stopping.scheduler == "median":
                rung_keys = [k.at_step(step)]
        plan["resource_budget"] = resource_budget
        result = self._run("report",
                           [k.meta, k.suggestion(suggestion_id), k.curve(suggestion_id),
                            k.events, *rung_keys],
                           [suggestion_id, "" if epoch is None else epoch, step,
                            report.to_json(), json.dumps(plan, allow_nan=False)])
        return Decision(ReportReply(result[0]), result[1] if len(result) > 1 else "")

    def record_checkpoint(self, experiment_id: str, suggestion_id: str, epoch: int,
                          step: float, location: str) -> tuple[CheckpointReply, str]:
        """Fenced like observe: OK with the location it replaces ("" for the first)."""
        k = keys.ExperimentKeys(experiment_id)
        result = self._run("checkpoint", [k.suggestion(suggestion_id), k.events],
                           [suggestion_id, epoch, step_text(step), location])
        reply = CheckpointReply(result[0])
        return reply, (result[1] if reply is CheckpointReply.OK else "")

    def curve(self, experiment_id: str, suggestion_id: str) -> list[Report]:
        """One run's reports, by step."""
        return self.curves(experiment_id, [suggestion_id]).get(suggestion_id, [])

    def curves(self, experiment_id: str, suggestion_ids: Iterable[str]
               ) -> dict[str, list[Report]]:
        """The learning curves of several runs, each by step; runs that never reported are
        left out."""
        k = keys.ExperimentKeys(experiment_id)
        sids = list(suggestion_ids)
        pipe = self.redis.pipeline(transaction=False)
        for sid in sids:
            pipe.hvals(k.curve(sid))
        found: dict[str, list[Report]] = {}
        for sid, texts in zip(sids, pipe.execute(), strict=True):
            if texts:
                found[sid] = sorted((Report.from_json(t) for t in texts), key=lambda r: r.step)
        return found

    def resource_spent(self, experiment_id: str) -> float:
        spent = self.redis.hget(keys.ExperimentKeys(experiment_id).meta, "resource_spent")
        return float(spent or 0)

    def heartbeat(self, experiment_id: str, suggestion_id: str, epoch: int, ttl_ms: int
                  ) -> HeartbeatReply:
        k = keys.ExperimentKeys(experiment_id)
        result = self._run("heartbeat", [k.suggestion(suggestion_id), k.leases],
                           [suggestion_id, epoch, ttl_ms])
        return HeartbeatReply(result[0])

    def observe(self, observation: ObservationRecord, epoch: int | None = None) -> ObserveReply:
        """OK, or why the observation is refused: a worker (with its epoch) is told and moves
        on; the service turns a refusal of the HTTP API's observation into an error."""
        assert observation.suggestion is not None
        k = keys.ExperimentKeys(observation.experiment)
        sid = observation.suggestion
        result = self._run_durable("observe",
                                   [k.meta, k.suggestion(sid), k.leases, k.open, k.open_points,
                                    k.observations, k.events, *k.summary_keys],
                                   [sid, observation.id, "" if epoch is None else epoch,
                                    observation.to_json(), int(observation.failed),
                                    summary.headline(observation)])
        reply = ObserveReply(result[0])
        if reply is ObserveReply.CLOSED and \
                self.redis.hget(k.suggestion(sid), "observation") == observation.id:
            return ObserveReply.OK  # a retry after a lost reply: the first attempt recorded it
        return reply

    def sweep_one(self, experiment_id: str, suggestion_id: str, failure: ObservationRecord,
                  max_attempts: int, claim_ms: int) -> SweepReply:
        k = keys.ExperimentKeys(experiment_id)
        result = self._run("sweep",
                           [k.meta, k.suggestion(suggestion_id), k.leases, k.open, k.open_points,
                            k.observations, k.events, *k.summary_keys],
                           [suggestion_id, failure.id, max_attempts, claim_ms, failure.to_json(),
                            summary.headline(failure)])
        return SweepReply(result[0])

    def release(self, experiment_id: str, suggestion_id: str, epoch: int) -> ReleaseReply:
        k = keys.ExperimentKeys(experiment_id)
        result = self._run("release", [k.suggestion(suggestion_id), k.leases, k.events],
                           [suggestion_id, epoch])
        return ReleaseReply(result[0])

    def delete_suggestion(self, experiment_id: str, suggestion_id: str,
                          closed_too: bool = False) -> bool:
        """False when it was not open (unknown, already deleted, or closed and not
        `closed_too`); a closed suggestion's observation stays."""
        k = keys.ExperimentKeys(experiment_id)
        result = self._run("delete_suggestion",
                           [k.suggestion(suggestion_id), k.suggestions, k.open,
                            k.open_points, k.leases, k.events],
                           [suggestion_id, "closed" if closed_too else ""])
        return DeleteReply(result[0]) is DeleteReply.OK

    def set_suggestion_metadata(self, experiment_id: str, suggestion_id: str,
                                metadata: dict[str, Any]) -> None:
        self.redis.hset(keys.ExperimentKeys(experiment_id).suggestion(suggestion_id),
                        "metadata", json.dumps(metadata, sort_keys=True))

    def delete_observations(self, experiment_id: str, observation_id: str = "") -> int:
        """One observation (its id) or, given "", every one; how many went. Raises NotFound
        for an unknown id."""
        k = keys.ExperimentKeys(experiment_id)
        result = self._run("delete_observations", [k.meta, k.observations, k.events],
                           [observation_id])
        if ObservationDeleteReply(result[0]) is ObservationDeleteReply.NOT_FOUND:
            raise NotFound(f"observation {observation_id!r} not found")
        return int(result[1])

    def update_observation(self, experiment_id: str, observation_id: str,
                           change: Callable[[ObservationRecord], ObservationRecord]
                           ) -> ObservationRecord:
        """`change(old) -> new`, compared and set (update_observation.lua): computed again
        if another writer changed the observation in between."""
        k = keys.ExperimentKeys(experiment_id)
        while True:
            old = self.redis.hget(k.observations, observation_id)
            if old is None:
                raise NotFound(f"observation {observation_id!r} not found")
            before = ObservationRecord.from_json(old)
            after = change(before)
            delta = int(after.failed) - int(before.failed)
            result = self._run("update_observation", [k.meta, k.observations, k.events],
                               [observation_id, old, after.to_json(), str(delta)])
            reply = ObservationUpdateReply(result[0])
            if reply is ObservationUpdateReply.OK:
                return after
            if reply is ObservationUpdateReply.NOT_FOUND:
                raise NotFound(f"observation {observation_id!r} not found")

    # reads ---------------------------------------------------------------------------------

    def suggestion(self, experiment_id: str, suggestion_id: str) -> Suggestion | None:
        data = self.redis.hgetall(keys.ExperimentKeys(experiment_id).suggestion(suggestion_id))
        return Suggestion.from_hash(experiment_id, data) if data else None

    def suggestions(self, experiment_id: str, suggestion_ids: Iterable[str]) -> list[Suggestion]:
        k = keys.ExperimentKeys(experiment_id)
        pipe = self.redis.pipeline(transaction=False)
        for sid in suggestion_ids:
            pipe.hgetall(k.suggestion(sid))
        return [Suggestion.from_hash(experiment_id, d) for d in pipe.execute() if d]

    def open_ids(self, experiment_id: str) -> list[str]:
        return list(self.redis.zrange(keys.ExperimentKeys(experiment_id).open, 0, -1))

    def suggestion_ids(self, experiment_id: str) -> list[str]:
        return list(self.redis.zrange(keys.ExperimentKeys(experiment_id).suggestions, 0, -1))

    def observations(self, experiment_id: str) -> list[ObservationRecord]:
        raw = self.redis.hgetall(keys.ExperimentKeys(experiment_id).observations)
        records = [ObservationRecord.from_json(text) for text in raw.values()]
        return sorted(records, key=lambda o: int(o.id))

    def observation_chunks(self, experiment_id: str, size: int = 2000) -> Iterator[list[str]]:
        """The stored JSON of every observation, oldest first, `size` at a time: only the ids
        are held whole (8 bytes each, sorted_observation_ids), then HMGET per chunk, so an
        export of a million observations holds 8 MB of ids and one chunk of records, not the
        records. An observation deleted meanwhile is skipped."""
        key = keys.ExperimentKeys(experiment_id).observations
        ordered = self.sorted_observation_ids(experiment_id)
        for start in range(0, len(ordered), size):
            texts = self.redis.hmget(key, [str(i) for i in ordered[start:start + size]])
            yield [text for text in texts if text is not None]

    def sorted_observation_ids(self, experiment_id: str) -> np.ndarray:
        """Every observation id of the experiment, ascending, as 64-bit integers (8 bytes
        each, where the reply's strings take about 60: they are dropped at once). HSCAN
        would send every record along, so the ids come in one HKEYS."""
        ids = self.redis.hkeys(keys.ExperimentKeys(experiment_id).observations)
        return np.sort(np.fromiter((int(oid) for oid in ids), dtype=np.int64, count=len(ids)))

    def observation_page(self, experiment_id: str, page: int, size: int
                         ) -> tuple[list[ObservationRecord], int]:
        """Page `page` (0 is the newest) of `size` observations, newest first, and how many
        there are: the ids only are read whole (8 bytes each), the records of the page
        alone."""
        key = keys.ExperimentKeys(experiment_id).observations
        ordered = self.sorted_observation_ids(experiment_id)[::-1]
        chosen = [str(i) for i in ordered[page * size:(page + 1) * size]]
        texts = self.redis.hmget(key, chosen) if chosen else []
        return [ObservationRecord.from_json(t) for t in texts if t], len(ordered)

    def observation_ids(self, experiment_id: str) -> list[str]:
        return list(self.redis.hkeys(keys.ExperimentKeys(experiment_id).observations))

    def observations_by_id(self, experiment_id: str, observation_ids: Sequence[str]
                           ) -> list[ObservationRecord]:
        if not observation_ids:
            return []
        texts = self.redis.hmget(keys.ExperimentKeys(experiment_id).observations,
                                 list(observation_ids))
        return [ObservationRecord.from_json(t) for t in texts if t]

    def observation(self, experiment_id: str, observation_id: str) -> ObservationRecord | None:
        text = self.redis.hget(keys.ExperimentKeys(experiment_id).observations, observation_id)
        return ObservationRecord.from_json(text) if text else None

    def summary(self, experiment_id: str, spec: ExperimentSpec,
                attempts: int = 3) -> summary.Summary:
        """The running summary (state/summary.py): a few keys, whatever the history's length.
        A stale one is rebuilt from every observation and stored; when observations keep
        arriving during `attempts` rebuilds, the last one answers without being stored."""
        k = keys.ExperimentKeys(experiment_id)
        wanted = summary.goals(spec)
        fallback = summary.Summary(0, 0, 0, (), "", "")
        for _ in range(attempts):
            pipe = self.redis.pipeline(transaction=True)
            pipe.hmget(k.meta, "summary", "goals", "revision", "observation_count",
                       "failed_count", "stopped_count", "first_observation", "last_observation")
            pipe.hkeys(k.front)
            (valid, stored, revision, count, failed, stopped, first, last), front = \
                pipe.execute()
            if valid == "1" and stored == wanted:
                return summary.Summary(int(count or 0), int(failed or 0), int(stopped or 0),
                                       tuple(sorted(front, key=int)), first or "", last or "")
            built = summary.rebuild(spec, ([ObservationRecord.from_json(t) for t in chunk]
                                           for chunk in self.observation_chunks(experiment_id)))
            fallback = summary.of(built)
            self._run("store_summary", [k.meta, *k.summary_keys],
                      [revision or "0", wanted, json.dumps(built, allow_nan=False)])
        return fallback

    def window_ids(self, experiment_id: str) -> list[str]:
        """The ids a long experiment's dashboard draws, oldest first: the latest
        observations, every one that improved the best so far, and the best (or the front),
        from the running summary (read `summary` first)."""
        k = keys.ExperimentKeys(experiment_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.lrange(k.recent, 0, -1)
        pipe.lrange(k.improvements, 0, -1)
        pipe.hkeys(k.front)
        recent, improvements, front = pipe.execute()
        return sorted({*recent, *improvements, *front}, key=int)

    def failure_reasons(self, experiment_id: str, top: int = 3) -> list[tuple[str, int]]:
        """The most frequent failure headlines with their counts, from the running summary
        (read `summary` first: a stale one holds no reasons until it is rebuilt)."""
        entries = self.redis.zrange(keys.ExperimentKeys(experiment_id).reasons, 0, top - 1,
                                    withscores=True)
        return [(headline, -int(score)) for headline, score in entries]

    def expired_leases(self, experiment_id: str, limit: int = 1000) -> list[str]:
        """Candidates for the sweeper; the sweep script re-checks each one atomically."""
        return list(self.redis.zrangebyscore(keys.ExperimentKeys(experiment_id).leases,
                                             "-inf", self.server_time_ms(), start=0, num=limit))

    def server_time_ms(self) -> int:
        seconds, micros = self.redis.time()
        return int(seconds * 1000 + micros // 1000)

    # backlog -------------------------------------------------------------------------------

    def replace_backlog(self, experiment_id: str, entries: Sequence[str]) -> None:
        k = keys.ExperimentKeys(experiment_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(k.backlog)
        if entries:
            pipe.rpush(k.backlog, *entries)
        pipe.execute()

    def backlog_entries(self, experiment_id: str) -> list[str]:
        return list(self.redis.lrange(keys.ExperimentKeys(experiment_id).backlog, 0, -1))

    def acquire_refill_lock(self, experiment_id: str, token: str, ttl_ms: int) -> bool:
        k = keys.ExperimentKeys(experiment_id)
        return bool(self.redis.set(k.refill_lock, token, nx=True, px=ttl_ms))

    def release_refill_lock(self, experiment_id: str, token: str) -> bool:
        """False when the lock was no longer this token's (it expired meanwhile)."""
        k = keys.ExperimentKeys(experiment_id)
        result = self._run("release_lock", [k.refill_lock], [token])
        return ReleaseLockReply(result[0]) is ReleaseLockReply.OK

    def spend_request(self, token_digest: str, rate: float, burst: int) -> float | None:
        """Takes one request from the token's bucket (rate_limit.lua), shared by every server
        on this Redis: None when it may go on, else the seconds until it may."""
        allowed, wait_ms, _left = self._run("rate_limit", [keys.rate_limit(token_digest)],
                                            [rate, burst, 1])
        return None if int(allowed) else int(wait_ms) / 1000

    # events --------------------------------------------------------------------------------

    def last_event_id(self, experiment_id: str) -> str:
        entries = self.redis.xrevrange(keys.ExperimentKeys(experiment_id).events, count=1)
        return entries[0][0] if entries else "0-0"

    def wait_for_events(self, experiment_id: str, after: str, timeout_ms: int
                        ) -> list[tuple[str, dict[str, str]]]:
        """Blocks until something happens to the experiment, or the timeout."""
        k = keys.ExperimentKeys(experiment_id)
        result = self.redis.xread({k.events: after}, block=timeout_ms, count=1000)
        return result[0][1] if result else []

    # HTTP API: observations without a suggestion, manual suggestions, projects, runs ---------

    def observe_assignments(self, observation: ObservationRecord) -> None:
        """Raises ExperimentNotFound when the experiment is unknown or deleted."""
        k = keys.ExperimentKeys(observation.experiment)
        result = self._run_durable("observe_assignments",
                                   [k.meta, k.observations, k.events, *k.summary_keys],
                                   [observation.id, observation.to_json(),
                                    int(observation.failed), summary.headline(observation)])
        if ObserveAssignmentsReply(result[0]) is ObserveAssignmentsReply.NO_EXPERIMENT:
            raise _no_experiment(observation.experiment)

    def take_manual_suggestion(self, experiment_id: str, suggestion_id: str, entry: str,
                               metadata: dict[str, Any] | None = None) -> Taken:
        """take_suggestion with the caller's assignments: the backlog and the queue are
        bypassed by passing a key that is never written, so the same script (and state machine
        edge) creates it."""
        k = keys.ExperimentKeys(experiment_id)
        return self._take(k, k.no_backlog, suggestion_id, entry, metadata, 0)

    def project(self, client: str, project_id: str) -> str | None:
        return cast(str | None, self.redis.hget(keys.PROJECTS, f"{client}/{project_id}"))

    def projects(self, client: str) -> list[str]:
        """The records of a client's projects (any order)."""
        prefix = f"{client}/"
        return [record for name, record in self.redis.hscan_iter(
            keys.PROJECTS, match=_glob_escape(prefix) + "*", count=500)
            if name.startswith(prefix)]

    def add_project(self, client: str, project_id: str, record: str) -> bool:
        """False when the project already exists."""
        return bool(self.redis.hsetnx(keys.PROJECTS, f"{client}/{project_id}", record))

    def add_run(self, experiment_id: str, run_id: str, record: str) -> None:
        k = keys.ExperimentKeys(experiment_id)
        pipe = together(self.redis)  # record, then index (state/together.py)
        pipe.hset(k.runs, run_id, record)
        pipe.hset(keys.RUN_EXPERIMENT, run_id, experiment_id)
        pipe.execute()

    def run_experiment(self, run_id: str) -> str | None:
        return cast(str | None, self.redis.hget(keys.RUN_EXPERIMENT, run_id))

    def run(self, experiment_id: str, run_id: str) -> str | None:
        return cast(str | None, self.redis.hget(keys.ExperimentKeys(experiment_id).runs, run_id))

    def runs(self, experiment_id: str) -> list[str]:
        return list(self.redis.hvals(keys.ExperimentKeys(experiment_id).runs))

    def update_run(self, experiment_id: str, run_id: str,
                   change: Callable[[str], str]) -> RunUpdate:
        """One transition of a training run (update_run.lua, a compare-and-set): `change(old)
        -> new` is computed again until no other writer changed the run in between. Raises
        TrainingRunNotFound, or RunStateRefused for a change of state that is not an edge."""
        key = keys.ExperimentKeys(experiment_id).runs
        while True:
            old = self.run(experiment_id, run_id)
            if old is None:
                raise _no_run(run_id)
            new = change(old)
            result = self._run("update_run", [key], [run_id, old, new])
            reply = UpdateRunReply(result[0])
            if reply is UpdateRunReply.OK:
                return RunUpdate(old, new, RunState(result[1]), RunState(result[2]))
            if reply is UpdateRunReply.UNKNOWN:
                raise _no_run(run_id)
            if reply is UpdateRunReply.REFUSED:
                raise RunStateRefused(
                    f"training run {run_id}: its state cannot change from "
                    f"{json.loads(old).get('state')!r} to {json.loads(new).get('state')!r} (a "
                    f"finished run stays finished, and only a completed one may still fail)")


EVENTS_MAXLEN = 10_000  # as prelude.lua's: each experiment's events stream keeps about this many


def _glob_escape(text: str) -> str:
    """`text` matched literally by a Redis MATCH pattern."""
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


def step_text(step: float) -> str:
    """One spelling per step (3, not 3.0), so equal steps share a curve field and a rung."""
    return str(int(step)) if float(step).is_integer() else repr(float(step))


def _no_experiment(experiment_id: str) -> ExperimentNotFound:
    return ExperimentNotFound(f"experiment {experiment_id} does not exist or was deleted")


def _no_run(run_id: str) -> TrainingRunNotFound:
    return TrainingRunNotFound(f"training run {run_id} not found")
