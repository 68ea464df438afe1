"""What every fault-injection case asserts at the end: nothing lost, nothing counted twice.

Read straight from the store (no process state), so it holds after any crash or restart.
"""

from __future__ import annotations

from collections import Counter

from coordinator.service.experiments import Service


def assert_invariants(service: Service, experiment_id: str, budget: int) -> None:
    """Every suggestion closed or deleted and none open; exactly one observation per closed
    suggestion; as many observations as the budget; failed ones carry their reason."""
    store = service.store
    assert store.open_ids(experiment_id) == [], "open suggestions left behind"
    suggestions = store.suggestions(experiment_id, store.suggestion_ids(experiment_id))
    states = Counter(s.state for s in suggestions)
    assert set(states) <= {"closed", "deleted"}, f"suggestions not closed: {dict(states)}"
    observations = store.observations(experiment_id)
    per_suggestion = Counter(o.suggestion for o in observations if o.suggestion)
    twice = {sid: n for sid, n in per_suggestion.items() if n > 1}
    assert not twice, f"suggestions observed more than once: {twice}"
    closed = {s.id: s for s in suggestions if s.state == "closed"}
    assert set(per_suggestion) == set(closed), (
        f"closed without observation: {sorted(set(closed) - set(per_suggestion))}; "
        f"observed but not closed: {sorted(set(per_suggestion) - set(closed))}")
    for sid, suggestion in closed.items():
        recorded = [o.id for o in observations if o.suggestion == sid]
        assert suggestion.observation == recorded[0], f"suggestion {sid} points elsewhere"
    assert len(observations) == budget, f"{len(observations)} observations, budget {budget}"
    counts = store.counts(experiment_id)
    assert counts.observations == budget, f"counter says {counts.observations}"
    assert counts.failed == sum(o.failed for o in observations), "failed counter drifted"
    unexplained = [o.id for o in observations if o.failed and not o.reason]
    assert not unexplained, f"failed observations without a reason: {unexplained}"
