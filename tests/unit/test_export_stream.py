"""`coordinator export` streams: observations are read a chunk at a time in id order (ids
past 9 sort as numbers), and the pieces make exactly the whole document."""

from __future__ import annotations

import csv
import io
import json

from coordinator.service import views
from coordinator.service.experiments import observe_assignments
from coordinator.spec.config import validate_experiment
from coordinator.state.store import Store
from tests.unit.conftest import make_spec


def observed(service, count):
    experiment = service.create_experiment(make_spec(budget=count))
    for i in range(count):
        s = service.create_suggestion(experiment.id)
        service.observe(service.new_observation(experiment, s, {"score": (float(i), None)}))
    return experiment


def test_chunks_come_oldest_first_without_what_was_deleted(service):
    experiment = observed(service, 12)
    ids = sorted(service.store.observation_ids(experiment.id), key=int)
    service.delete_observations(experiment.id, ids[4])
    chunks = list(service.store.observation_chunks(experiment.id, size=5))
    assert [len(c) for c in chunks] == [5, 5, 1]
    seen = [json.loads(t)["id"] for c in chunks for t in c]
    assert seen == [i for i in ids if i != ids[4]]


def test_the_pieces_are_one_json_array_and_one_csv_with_one_header(service, monkeypatch):
    experiment = observed(service, 7)
    original = Store.observation_chunks
    monkeypatch.setattr(Store, "observation_chunks",
                        lambda self, eid, size=3: original(self, eid, size))
    pieces = list(views.export_stream(service, experiment.id, "json"))
    assert len(pieces) == 4  # three chunks and the closing bracket
    records = json.loads("".join(pieces))
    assert [r["values"][0]["value"] for r in records] == [float(i) for i in range(7)]
    text = "".join(views.export_stream(service, experiment.id, "csv"))
    assert text.count("id,suggestion") == 1
    assert [r["metric.score"] for r in csv.DictReader(io.StringIO(text))] == \
        [str(float(i)) for i in range(7)]


def test_an_experiment_without_observations_exports_an_empty_document(service):
    experiment = service.create_experiment(make_spec())
    assert views.export(service, experiment.id, "json") == "[]\n"
    assert views.export(service, experiment.id, "csv") == "id,suggestion\n"


def test_a_conditional_experiments_csv_has_every_parameter_whatever_the_first_observation(
        service):
    spec = validate_experiment({
        "name": "branches", "budget": 10, "evaluate": "m:f",
        "metrics": [{"name": "score"}],
        "conditionals": [{"name": "model", "values": ["svm", "tree"]}],
        "parameters": [{"name": "C", "type": "double", "bounds": {"min": 0.01, "max": 100},
                        "conditions": {"model": "svm"}},
                       {"name": "lr", "type": "double", "bounds": {"min": 0, "max": 1}}]})
    experiment = service.create_experiment(spec)
    for assignments in ({"model": "tree", "lr": 0.5}, {"model": "svm", "C": 3.0, "lr": 0.1}):
        observe_assignments(service, experiment, assignments, {"score": (1.0, None)})
    rows = list(csv.DictReader(io.StringIO(views.export(service, experiment.id, "csv"))))
    assert [(r["param.model"], r["param.C"], r["param.lr"]) for r in rows] == \
        [("tree", "", "0.5"), ("svm", "3.0", "0.1")]
