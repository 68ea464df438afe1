"""Queued suggestions: points the user asked to have evaluated next, before the optimizer's.

One sorted set per experiment (`ExperimentKeys.queue`), scored by the queued suggestion's id so
the oldest comes first; each member carries the whole record,
`qid<TAB>created-ms<TAB>assignments-json<TAB>metadata-json`. Every write here is then one
command (ZADD to queue one, ZREMRANGEBYSCORE to drop one), atomic without a script; handing one
out is take_suggestion.lua, which pops it in the same step that creates the suggestion, so each
queued suggestion is handed out exactly once however many takers race for it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from coordinator.state import keys


@dataclass(frozen=True)
class QueuedSuggestion:
    id: str
    experiment: str
    assignments: dict[str, Any]  # canonical (the space's key), so typed as the parameters
    metadata: dict[str, Any] = field(default_factory=dict)
    created: int = 0  # epoch milliseconds

    def member(self, key: str) -> str:
        """The set member; `key` is the space's canonical JSON of the assignments."""
        return f"{self.id}\t{self.created}\t{key}\t{json.dumps(self.metadata, sort_keys=True)}"

    @classmethod
    def from_member(cls, experiment_id: str, member: str) -> QueuedSuggestion:
        qid, created, assignments, metadata = member.split("\t", 3)
        return cls(qid, experiment_id, json.loads(assignments), json.loads(metadata),
                   int(created))


class Queue:
    def __init__(self, client: Any) -> None:
        self.redis = client

    def add(self, experiment_id: str, queued_id: str, key: str, metadata: dict[str, Any]
            ) -> QueuedSuggestion:
        item = QueuedSuggestion(queued_id, str(experiment_id), json.loads(key), dict(metadata),
                                int(time.time() * 1000))
        self.redis.zadd(keys.ExperimentKeys(experiment_id).queue,
                        {item.member(key): int(queued_id)})
        return item

    def items(self, experiment_id: str) -> list[QueuedSuggestion]:
        """Oldest first: the order they are handed out in."""
        members = self.redis.zrange(keys.ExperimentKeys(experiment_id).queue, 0, -1)
        return [QueuedSuggestion.from_member(str(experiment_id), m) for m in members]

    def size(self, experiment_id: str) -> int:
        return int(self.redis.zcard(keys.ExperimentKeys(experiment_id).queue))

    def get(self, experiment_id: str, queued_id: str) -> QueuedSuggestion | None:
        found = self.redis.zrangebyscore(keys.ExperimentKeys(experiment_id).queue,
                                         int(queued_id), int(queued_id))
        return QueuedSuggestion.from_member(str(experiment_id), found[0]) if found else None

    def remove(self, experiment_id: str, queued_id: str) -> bool:
        """False when it is not queued (unknown, deleted, or handed out already)."""
        return bool(self.redis.zremrangebyscore(keys.ExperimentKeys(experiment_id).queue,
                                                int(queued_id), int(queued_id)))

    def clear(self, experiment_id: str) -> int:
        return int(self.redis.zremrangebyrank(keys.ExperimentKeys(experiment_id).queue, 0, -1))
