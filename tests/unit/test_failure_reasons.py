"""The failure reasons `run`, `status` and `best` show: distinct reasons with counts, the
traceback frames left out so one bug counts once."""

from __future__ import annotations

from coordinator.service.views import failure_reasons
from coordinator.state.records import ObservationRecord


def record(i: int, reason: str = "", failed: bool = True) -> ObservationRecord:
    return ObservationRecord(id=str(i), experiment="1", suggestion=str(i), assignments={},
                             failed=failed, reason=reason)


def test_reasons_are_counted_by_their_first_part_most_frequent_first():
    records = [record(1, "KeyError: 'lr' | File train.py, line 3"),
               record(2, "KeyError: 'lr' | File train.py, line 3, in other frames"),
               record(3, "command exited with status 2"),
               record(4, "KeyError: 'lr' | ..."),
               record(5, failed=False), record(6, "")]
    assert failure_reasons(records) == [("KeyError: 'lr'", 3),
                                        ("command exited with status 2", 1),
                                        ("no reason recorded", 1)]
    assert failure_reasons(records, top=1) == [("KeyError: 'lr'", 3)]
    assert failure_reasons([record(1, failed=False)]) == []
