"""Every state and every Lua reply as an enum: the one vocabulary of the store and its callers.

States are stored in Redis as these strings (a suggestion hash's `state`, an experiment meta's
`state`, a training run JSON's `state`) and Lua scripts answer with the reply strings. Both are
`StrEnum`s, so a member equals the string Redis holds; callers compare members, never literals.
tests/unit/test_state_machine.py parses `lua/*.lua` and checks both directions: every state
literal in a script is a member here, and every reply enum is exactly the `Returns` line of its
script's header.
"""

from __future__ import annotations

from enum import StrEnum


class SuggestionState(StrEnum):
    """Internally an open suggestion is queued or running; SigOpt only sees open or closed."""

    QUEUED = "queued"  # created, not claimed (or handed back, or requeued by the sweeper)
    RUNNING = "running"  # claimed by a worker that holds a lease
    CLOSED = "closed"  # has its one observation
    DELETED = "deleted"  # deleted while open; gone from listings

    @property
    def is_open(self) -> bool:
        return self in (SuggestionState.QUEUED, SuggestionState.RUNNING)

    @property
    def is_finished(self) -> bool:
        return not self.is_open


class ExperimentState(StrEnum):
    """Stored: active or deleted. FINISHED is never stored but derived (`experiment_state`), so
    it cannot go stale when a budget is raised or an observation arrives."""

    ACTIVE = "active"
    FINISHED = "finished"  # active with its budget spent; still accepts suggestions (SigOpt)
    DELETED = "deleted"

    @property
    def is_open(self) -> bool:
        return self is ExperimentState.ACTIVE

    @property
    def is_finished(self) -> bool:
        return not self.is_open

    @property
    def sigopt(self) -> str:
        """What the SigOpt API shows: its experiments are only active or deleted, and a client
        stops by comparing observation_count with observation_budget itself."""
        return "deleted" if self is ExperimentState.DELETED else "active"


def experiment_state(stored: ExperimentState, observations: int,
                     budget: int | None) -> ExperimentState:
    """The one rule for an experiment's state as people see it (`coordinator status`, the
    dashboard): an active experiment whose budget is spent is finished."""
    if stored is ExperimentState.ACTIVE and budget is not None and observations >= budget:
        return ExperimentState.FINISHED
    return stored


class RunState(StrEnum):
    """A training run of an AI experiment (SigOpt's TrainingRun.state)."""

    ACTIVE = "active"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def is_open(self) -> bool:
        return self is RunState.ACTIVE

    @property
    def is_finished(self) -> bool:
        return not self.is_open

    def finishes_at(self, new: RunState) -> bool:
        """Moving from this state to `new` ends the run: the moment its observation is due."""
        return self.is_open and new.is_finished


# One enum per Lua script: the first element of the script's reply. ---------------------------


class TakeReply(StrEnum):  # take_suggestion.lua
    OK = "OK"
    EMPTY = "EMPTY"  # backlog empty and no fallback given
    DUPLICATE = "DUPLICATE"  # the fallback equals an open suggestion
    FULL = "FULL"  # the bandwidth or the budget is taken up (bounded takes only)
    NO_EXPERIMENT = "NO_EXPERIMENT"


class ClaimReply(StrEnum):  # claim.lua
    OK = "OK"
    UNKNOWN = "UNKNOWN"
    CLOSED = "CLOSED"
    DELETED = "DELETED"
    BUSY = "BUSY"  # running under another claim (a duplicated or redelivered message)


class HeartbeatReply(StrEnum):  # heartbeat.lua
    OK = "OK"
    LOST = "LOST"  # not the lease holder any more: stop


class ObserveReply(StrEnum):  # observe.lua
    OK = "OK"
    UNKNOWN = "UNKNOWN"
    CLOSED = "CLOSED"  # it already has its observation
    DELETED = "DELETED"
    STALE = "STALE"  # the epoch is not the current claim's: a zombie's late result


class SweepReply(StrEnum):  # sweep.lua
    REQUEUED = "REQUEUED"  # lease expired, attempts left: queued again
    REDISPATCH = "REDISPATCH"  # dispatched but never claimed: send again
    FAILED = "FAILED"  # attempts used up: closed with a failed observation
    SKIP = "SKIP"  # nothing to do (not expired, or no longer open)

    @property
    def sends_again(self) -> bool:
        """The sweeper must publish the suggestion's task again."""
        return self in (SweepReply.REQUEUED, SweepReply.REDISPATCH)


class ReleaseReply(StrEnum):  # release.lua
    OK = "OK"
    LOST = "LOST"  # not the lease holder any more


class DeleteReply(StrEnum):  # delete_suggestion.lua
    OK = "OK"
    NOT_OPEN = "NOT_OPEN"  # unknown, closed or already deleted


class ObservationDeleteReply(StrEnum):  # delete_observations.lua
    OK = "OK"
    NOT_FOUND = "NOT_FOUND"


class ObservationUpdateReply(StrEnum):  # update_observation.lua
    OK = "OK"
    NOT_FOUND = "NOT_FOUND"
    CHANGED = "CHANGED"  # another writer changed it since it was read


class SummaryReply(StrEnum):  # store_summary.lua
    OK = "OK"
    CHANGED = "CHANGED"  # an observation was recorded, changed or deleted during the rebuild


class ObserveAssignmentsReply(StrEnum):  # observe_assignments.lua
    OK = "OK"
    NO_EXPERIMENT = "NO_EXPERIMENT"


class ReleaseLockReply(StrEnum):  # release_lock.lua
    OK = "OK"
    NOT_HELD = "NOT_HELD"  # expired, or taken by another holder


class UpdateRunReply(StrEnum):  # update_run.lua
    OK = "OK"
    UNKNOWN = "UNKNOWN"
    CHANGED = "CHANGED"  # another writer changed the run since it was read: read it again
    REFUSED = "REFUSED"  # the change of state is not an edge of the run state machine


class ReportReply(StrEnum):  # report.lua
    CONTINUE = "CONTINUE"
    STOP = "STOP"  # the scheduler stopped it: end early, the observation is marked stopped
    DONE = "DONE"  # it reached max_resource or max_checkpoints: end, it is complete
    BACKWARD = "BACKWARD"  # the step is not above the last one reported
    UNKNOWN = "UNKNOWN"
    CLOSED = "CLOSED"
    DELETED = "DELETED"
    STALE = "STALE"  # not the current claim's epoch: a zombie's report

    @property
    def goes_on(self) -> bool:
        return self is ReportReply.CONTINUE


class CheckpointReply(StrEnum):  # checkpoint.lua
    OK = "OK"
    UNKNOWN = "UNKNOWN"
    CLOSED = "CLOSED"
    DELETED = "DELETED"
    STALE = "STALE"
