"""The Lua scripts and the one state machine they implement.

`TRANSITIONS` is the table a unit test checks every script against: each script may only move a
suggestion along the edges listed for it (`None` is "does not exist yet").
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

LUA_DIR = Path(__file__).parent / "lua"

QUEUED, RUNNING, CLOSED, DELETED = "queued", "running", "closed", "deleted"
OPEN_STATES = (QUEUED, RUNNING)

TRANSITIONS: dict[str, set[tuple[str | None, str]]] = {
    "take_suggestion": {(None, QUEUED)},
    "claim": {(QUEUED, RUNNING)},
    "heartbeat": {(RUNNING, RUNNING)},
    "observe": {(QUEUED, CLOSED), (RUNNING, CLOSED)},
    "sweep": {(RUNNING, QUEUED), (RUNNING, CLOSED), (QUEUED, QUEUED)},
    "release": {(RUNNING, QUEUED)},
    "delete_suggestion": {(QUEUED, DELETED), (RUNNING, DELETED)},
}


@cache
def source(name: str) -> str:
    return (LUA_DIR / f"{name}.lua").read_text()
