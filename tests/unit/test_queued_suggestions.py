"""Queued suggestions on fakeredis: handed out first, once each, by the one atomic take."""

from __future__ import annotations

import pytest

from coordinator.errors import InvalidInput, NotFound
from coordinator.service.experiments import Service, create_manual_suggestion
from coordinator.service.queued import dequeue, enqueue, queued, queued_one
from coordinator.state.states import TakeReply
from coordinator.state.store import Taken
from tests.unit.conftest import make_spec

pytestmark = pytest.mark.timeout(60)

POINT = {"x": 0.5, "n": 2, "kind": "a"}


def test_queued_points_come_before_the_backlog_once_each_with_their_metadata(service: Service):
    experiment = service.create_experiment(make_spec())
    point = POINT
    open_one = service.create_suggestion(experiment.id)
    enqueue(service, experiment, point, {"why": "baseline"})
    enqueue(service, experiment, {**point, "n": 3})
    assert [q.assignments["n"] for q in queued(service, experiment.id)] == [2, 3]
    first = service.create_suggestion(experiment.id, metadata={"who": "api"})
    second = service.create_suggestion(experiment.id, metadata={"who": "api"})
    third = service.create_suggestion(experiment.id)
    assert first.assignments == point and first.metadata == {"why": "baseline"}
    assert second.assignments == {**point, "n": 3} and second.metadata == {"who": "api"}
    assert third.strategy != "queued" and queued(service, experiment.id) == []
    # a queued point equal to an open one is handed out anyway: the user asked for it
    enqueue(service, experiment, open_one.assignments)
    again = service.create_suggestion(experiment.id)
    assert again.assignments == open_one.assignments and again.id != open_one.id


def test_a_manual_suggestion_leaves_the_queue_alone(service: Service):
    experiment = service.create_experiment(make_spec())
    enqueue(service, experiment, POINT)
    manual = create_manual_suggestion(service, experiment.id, {**POINT, "n": 9})
    assert manual.assignments["n"] == 9 and len(queued(service, experiment.id)) == 1


def test_a_full_bandwidth_takes_nothing_from_the_queue(service: Service):
    experiment = service.create_experiment(make_spec(parallel_bandwidth=1))
    service.create_suggestion(experiment.id)
    enqueue(service, experiment, POINT)
    taken: Taken = service.suggester.take(experiment.id, experiment.spec, bounded=True)
    assert taken.status is TakeReply.FULL
    assert [q.assignments for q in queued(service, experiment.id)] == [POINT]


def test_bad_points_and_unknown_ids_are_refused_by_name(service: Service):
    experiment = service.create_experiment(make_spec())
    with pytest.raises(InvalidInput, match=r"^assignments\.n: 99 is outside \[1, 50\]$"):
        enqueue(service, experiment, {**POINT, "n": 99})
    with pytest.raises(InvalidInput, match="too large"):
        enqueue(service, experiment, {**POINT, "n": 10 ** 400})
    item = enqueue(service, experiment, POINT, {"why": "x"})
    assert queued_one(service, experiment.id, item.id) == item
    for bad in ("nope", "999", item.id + "0"):
        with pytest.raises(NotFound):
            queued_one(service, experiment.id, bad)
    dequeue(service, experiment.id, item.id)
    with pytest.raises(NotFound):
        dequeue(service, experiment.id, item.id)


def test_the_optimizer_counts_queued_points_as_open_and_never_proposes_them_again(
        service: Service):
    experiment = service.create_experiment(make_spec(parameters=[
        {"name": "kind", "type": "categorical", "categorical_values": ["a", "b", "c"]}]))
    enqueue(service, experiment, {"kind": "b"})
    proposals = service.suggester.compute(experiment.id, experiment.spec, 3)
    assert sorted(p.assignments["kind"] for p in proposals) == ["a", "c"]
