"""The running summary (state/summary.py, prelude.lua's `summarize`): kept inside every
observe, it must always equal what a full read of every observation gives
(optimizer.best_observations and a count), through ties, thresholds, failures, partial runs,
updates, deletes and changed thresholds."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from coordinator.service import views
from coordinator.spec.experiment import ExperimentSpec
from coordinator.state import keys, scripts, summary
from coordinator.state.records import MetricValue, ObservationRecord
from tests.unit.conftest import make_spec

SPECS = {
    "one metric": dict(metrics=[{"name": "score", "objective": "maximize"}]),
    "minimized with a constraint": dict(metrics=[
        {"name": "loss", "objective": "minimize"},
        {"name": "size", "objective": "minimize", "strategy": "constraint", "threshold": 2},
        {"name": "note", "objective": "maximize", "strategy": "store"}]),
    "two optimized, one thresholded": dict(metrics=[
        {"name": "acc", "objective": "maximize", "threshold": 1},
        {"name": "cost", "objective": "minimize"}]),
}
REASONS = ["out of memory | frame 1", "out of memory | frame 2", "nan loss", ""]


def random_record(rng: random.Random, spec: ExperimentSpec, oid: str) -> ObservationRecord:
    failed = rng.random() < 0.2
    values = tuple(MetricValue(m.name, float(rng.choice([0, 1, 2, 3])))
                   for m in spec.metrics if rng.random() < 0.95)
    return ObservationRecord(
        id=oid, experiment="", suggestion=None, assignments={"x": rng.random()},
        values=() if failed else values, failed=failed,
        reason=rng.choice(REASONS) if failed else "",
        stopped=not failed and rng.random() < 0.1,
        task={"name": "cheap", "cost": 0.5} if rng.random() < 0.1 else None)


def expected(spec: ExperimentSpec, records: list[ObservationRecord]) -> summary.Summary:
    """A rebuild, in chunks of 5 as the store reads them (chunk sizes must not matter)."""
    ordered = sorted(records, key=lambda o: int(o.id))
    return summary.of(rebuilt(spec, ordered))


def rebuilt(spec: ExperimentSpec, ordered: list[ObservationRecord]) -> dict:
    return summary.rebuild(spec, (ordered[i:i + 5] for i in range(0, len(ordered), 5)))


def check(service, experiment, records: list[ObservationRecord]) -> None:
    stored = service.store.observations(experiment.id)
    assert service.store.summary(experiment.id, experiment.spec) == \
        expected(experiment.spec, stored)
    k = keys.ExperimentKeys(experiment.id)
    assert {"recent": service.store.redis.lrange(k.recent, 0, -1),
            "improvements": service.store.redis.lrange(k.improvements, 0, -1)} == \
        {key: rebuilt(experiment.spec, stored)[key] for key in ("recent", "improvements")}
    assert [o.id for o in views.best(service, experiment)] == \
        [o.id for o in views.best(service, experiment, stored)]
    assert service.store.failure_reasons(experiment.id, top=10) == \
        views.failure_reasons(stored, top=10)
    assert len(stored) == len(records)


@pytest.mark.parametrize("name", sorted(SPECS))
@pytest.mark.parametrize("seed", range(4))
def test_the_running_summary_equals_a_full_read(service, name, seed):
    rng = random.Random(seed)
    experiment = service.create_experiment(make_spec(**SPECS[name]))
    records: list[ObservationRecord] = []
    for _ in range(6):
        # ids allocated in order, recorded out of order: ties go to the smallest id
        batch = [replace(random_record(rng, experiment.spec, oid), experiment=experiment.id)
                 for oid in service.store.allocate_ids(8)]
        rng.shuffle(batch)
        for record in batch:
            service.store.observe_assignments(record)
        records += batch
        check(service, experiment, records)

    best = views.best(service, experiment)
    if best:  # deleting the best makes the summary stale; the next read rebuilds it
        service.store.delete_observations(experiment.id, best[0].id)
        records = [o for o in records if o.id != best[0].id]
        check(service, experiment, records)
    victim = records[0]
    service.store.update_observation(experiment.id, victim.id,
                                     lambda o: replace(o, failed=True, values=(),
                                                       reason="changed its mind"))
    check(service, experiment, records)
    more = replace(random_record(rng, experiment.spec, service.store.allocate_ids()[0]),
                   experiment=experiment.id)
    service.store.observe_assignments(more)  # incremental again after the rebuild
    check(service, experiment, records + [more])


def test_a_changed_threshold_rebuilds_the_summary(service):
    spec = make_spec(metrics=[{"name": "score", "objective": "maximize", "threshold": 0}])
    experiment = service.create_experiment(spec)
    for oid, value in zip(service.store.allocate_ids(3), (1.0, 5.0, 3.0), strict=True):
        service.store.observe_assignments(ObservationRecord(
            id=oid, experiment=experiment.id, suggestion=None, assignments={"x": value / 10},
            values=(MetricValue("score", value),)))
    assert views.status(service, experiment.id).best_value == 5.0
    changed = make_spec(metrics=[{"name": "score", "objective": "minimize", "threshold": 4}])
    service.store.update_spec(experiment.id, changed)
    assert views.status(service, experiment.id).best_value == 1.0


def test_observations_arriving_during_a_rebuild_are_not_lost(service, monkeypatch):
    experiment = service.create_experiment(make_spec())
    service.store.redis.hset(f"celeriac:{{exp:{experiment.id}}}:meta", "summary", "0")
    ids = iter(service.store.allocate_ids(2))
    real = service.store.observation_chunks

    def chunks_then_one_more(experiment_id, size=2000):
        yield from real(experiment_id, size)
        oid = next(ids, None)
        if oid is not None:  # the first two rebuilds each race a new observation
            service.store.observe_assignments(ObservationRecord(
                id=oid, experiment=experiment.id, suggestion=None, assignments={"x": 0.5},
                values=(MetricValue("score", float(oid)),)))

    monkeypatch.setattr(service.store, "observation_chunks", chunks_then_one_more)
    found = service.store.summary(experiment.id, experiment.spec)
    stored = service.store.observations(experiment.id)
    assert found == expected(experiment.spec, stored)
    assert found.observations == 2
    monkeypatch.undo()  # the third rebuild raced nothing: it was stored, and it reads back
    assert service.store.summary(experiment.id, experiment.spec) == found


def test_the_window_lists_are_capped_alike_in_lua_and_python():
    prelude = scripts.text(scripts.PRELUDE)
    assert f"local RECENT, IMPROVEMENTS = {summary.RECENT}, {summary.IMPROVEMENTS}" in prelude


def test_a_long_experiments_window_holds_the_latest_and_every_improvement(service):
    experiment = service.create_experiment(make_spec())
    values = [float(i % 7) + i / 10_000 for i in range(2300)]  # improves now and then
    for oid, value in zip(service.store.allocate_ids(len(values)), values, strict=True):
        service.store.observe_assignments(ObservationRecord(
            id=oid, experiment=experiment.id, suggestion=None, assignments={"x": 0.5},
            values=(MetricValue("score", value),)))
    service.store.summary(experiment.id, experiment.spec)
    window = service.store.window_ids(experiment.id)
    stored = service.store.observations(experiment.id)
    assert [o.id for o in stored[-summary.RECENT:]] == window[-summary.RECENT:]
    best, steps = None, []
    for o in stored:
        if best is None or o.values[0].value > best:
            best = o.values[0].value
            steps.append(o.id)
    assert set(steps) <= set(window) and len(window) < len(stored)
