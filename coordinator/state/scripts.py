"""The Lua scripts, the state machines they implement and the replies they give.

`TRANSITIONS` is the table a unit test checks every script against, in both directions: each
script moves a suggestion (or a training run) only along the edges listed for it (`None` is
"does not exist yet"), and every edge listed actually happens. `REPLIES` names the enum of each
script's reply, which the same test checks against the script's `Returns` header lines.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from pathlib import Path

from coordinator.state.states import (
    CheckpointReply,
    ClaimReply,
    DeleteReply,
    HeartbeatReply,
    ObservationDeleteReply,
    ObservationUpdateReply,
    ObserveAssignmentsReply,
    ObserveReply,
    ReleaseLockReply,
    ReleaseReply,
    ReportReply,
    RunState,
    SuggestionState,
    SummaryReply,
    SweepReply,
    TakeReply,
    UpdateRunReply,
)

LUA_DIR = Path(__file__).parent / "lua"
PRELUDE = "prelude"

QUEUED, RUNNING = SuggestionState.QUEUED, SuggestionState.RUNNING
CLOSED, DELETED = SuggestionState.CLOSED, SuggestionState.DELETED
ACTIVE, COMPLETED, FAILED = RunState.ACTIVE, RunState.COMPLETED, RunState.FAILED

Edge = tuple[SuggestionState | None, SuggestionState] | tuple[RunState, RunState]

TRANSITIONS: dict[str, set[Edge]] = {
    "take_suggestion": {(None, QUEUED)},
    "claim": {(QUEUED, RUNNING)},
    "heartbeat": {(RUNNING, RUNNING)},
    "observe": {(QUEUED, CLOSED), (RUNNING, CLOSED)},
    "sweep": {(RUNNING, QUEUED), (RUNNING, CLOSED), (QUEUED, QUEUED)},
    "release": {(RUNNING, QUEUED)},
    "delete_suggestion": {(QUEUED, DELETED), (RUNNING, DELETED), (CLOSED, DELETED)},
    "report": {(RUNNING, RUNNING), (QUEUED, QUEUED)},
    "checkpoint": {(RUNNING, RUNNING)},
    "update_run": {(ACTIVE, ACTIVE), (ACTIVE, COMPLETED), (ACTIVE, FAILED),
                   (COMPLETED, COMPLETED), (COMPLETED, FAILED), (FAILED, FAILED)},
}

# rate_limit.lua is the one script left out: it answers numbers (a token bucket), no literal.
UNTYPED = ("rate_limit",)
REPLIES: dict[str, type[StrEnum]] = {
    "take_suggestion": TakeReply,
    "claim": ClaimReply,
    "heartbeat": HeartbeatReply,
    "observe": ObserveReply,
    "sweep": SweepReply,
    "release": ReleaseReply,
    "delete_suggestion": DeleteReply,
    "update_run": UpdateRunReply,
    "observe_assignments": ObserveAssignmentsReply,
    "delete_observations": ObservationDeleteReply,
    "update_observation": ObservationUpdateReply,
    "release_lock": ReleaseLockReply,
    "report": ReportReply,
    "checkpoint": CheckpointReply,
    "store_summary": SummaryReply,
}


@cache
def text(name: str) -> str:
    """The script's own file, header included, as written."""
    return (LUA_DIR / f"{name}.lua").read_text()


def with_prelude(body: str) -> str:
    """What Redis runs for a script body: the shared prelude, then the body."""
    return f"{text(PRELUDE)}\n{body}"


@cache
def source(name: str) -> str:
    return with_prelude(text(name))
