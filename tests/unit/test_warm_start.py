"""warm_start in a config: points to queue or an export to import, every problem named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from coordinator.errors import ConfigError
from coordinator.service.experiments import Service
from coordinator.service.views import export
from coordinator.service.warm_start import apply_warm_start
from coordinator.spec.config import parse_config_text, validate_experiment
from coordinator.spec.experiment import ExperimentSpec

pytestmark = pytest.mark.timeout(60)

BASE = {
    "name": "warm",
    "parameters": [{"name": "lr", "type": "double", "bounds": {"min": 0.001, "max": 1}},
                   {"name": "layers", "type": "int", "bounds": {"min": 1, "max": 8}},
                   {"name": "act", "type": "categorical", "categorical_values": ["relu", "tanh"]}],
    "metrics": [{"name": "accuracy"}],
    "budget": 10,
    "evaluate": "pkg.mod:fn",
}


def parse(warm: object, base_dir: Path | None = None) -> ExperimentSpec:
    text = yaml.safe_dump({**BASE, "warm_start": warm}).encode()
    return parse_config_text(text, "exp.yml", base_dir=base_dir or Path("."))


def problems_of(warm: object, base_dir: Path | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(warm, base_dir)
    return caught.value.problems


def test_a_list_of_points_is_kept_canonical_in_order():
    spec = parse([{"lr": 0.5, "layers": 2, "act": "relu"}, {"lr": 1, "layers": 8.0, "act": "tanh"}])
    assert spec.warm_start is not None
    assert spec.warm_start.points == ({"lr": 0.5, "layers": 2, "act": "relu"},
                                      {"lr": 1.0, "layers": 8, "act": "tanh"})
    assert isinstance(spec.warm_start.points[1]["layers"], int)


def test_every_bad_point_is_named_by_its_index_and_parameter():
    lines = problems_of([{"lr": 0.5, "layers": 2, "act": "relu"},
                         {"lr": 0.5, "layers": 2, "act": "gelu"},
                         {"lr": 5, "layers": 2, "act": "relu"},
                         {"lr": 0.5, "act": "relu"},
                         {"lr": 0.5, "layers": 2, "act": "relu", "dropout": 0.1},
                         "lr=0.5"])
    assert lines == ["warm_start[1].act: 'gelu' is not one of ['relu', 'tanh']",
                     "warm_start[2].lr: 5 is outside [0.001, 1]",
                     "warm_start[3].layers: missing from assignments",
                     "warm_start[4].dropout: not a parameter of this space",
                     "warm_start[5]: must be a mapping of keys to values, got 'lr=0.5'"]


def test_the_warm_start_is_not_stored_with_the_spec():
    spec = parse([{"lr": 0.5, "layers": 2, "act": "relu"}])
    assert "warm_start" not in json.loads(spec.to_json())
    assert ExperimentSpec.from_json(spec.to_json()).warm_start is None


def test_an_api_body_cannot_name_a_warm_start():
    with pytest.raises(ConfigError) as caught:
        validate_experiment({**BASE, "warm_start": {"observations": "/etc/passwd"}},
                            source="experiment")
    assert caught.value.problems[0].startswith("warm_start: only in a config file")


def test_unknown_keys_and_a_wrong_suffix_are_refused(tmp_path):
    assert problems_of({"observation": "a.csv"}, tmp_path)[0] == \
        "warm_start.observation: unknown key; did you mean 'observations'?"
    assert problems_of({"observations": "a.txt"}, tmp_path) == [
        "warm_start.observations: a.txt: give a .csv or .json file as `coordinator export` "
        "writes it"]
    assert "cannot read" in problems_of({"observations": "missing.csv"}, tmp_path)[0]


CSV = """id,suggestion,param.act,param.layers,param.lr,metric.accuracy,failed,reason
1,10,relu,2,0.5,0.9,False,
2,11,tanh,3,0.25,,True,boom
"""


def test_an_exported_csv_becomes_observations_relative_to_the_config(tmp_path):
    (tmp_path / "old.csv").write_text(CSV)
    start = parse({"observations": "old.csv"}, tmp_path).warm_start
    assert start is not None and start.source == "old.csv"
    first, second = start.observations
    assert first.assignments == {"lr": 0.5, "layers": 2, "act": "relu"}
    assert first.values == {"accuracy": (0.9, None)} and not first.failed
    assert second.failed and second.values == {}


def test_bad_csv_rows_are_named_by_line(tmp_path):
    (tmp_path / "old.csv").write_text(CSV + "3,12,relu,9,0.5,0.8,False,\n"
                                      "4,13,relu,2,0.5,,False,\n4,13,relu,2,0.5,1,maybe,\n")
    assert problems_of({"observations": "old.csv"}, tmp_path) == [
        "warm_start.observations: old.csv line 4: param.layers: 9 is outside [1, 8]",
        "warm_start.observations: old.csv line 5: metric.accuracy: needs a finite number "
        "unless the observation failed, got None",
        "warm_start.observations: old.csv line 6: failed: must be true or false, got 'maybe'"]


def test_an_exported_json_becomes_observations_with_their_stddev(tmp_path):
    records = [{"assignments": {"lr": 0.1, "layers": 1, "act": "tanh"}, "failed": False,
                "values": [{"name": "accuracy", "value": 0.7, "value_stddev": 0.01}]},
               {"assignments": {"lr": 0.1, "layers": 1, "act": "nope"}, "failed": False,
                "values": []}]
    (tmp_path / "old.json").write_text(json.dumps(records))
    lines = problems_of({"observations": "old.json"}, tmp_path)
    assert lines == ["warm_start.observations: old.json [1]: assignments.act: 'nope' is not "
                     "one of ['relu', 'tanh']"]
    (tmp_path / "old.json").write_text(json.dumps(records[:1]))
    start = parse({"observations": "old.json"}, tmp_path).warm_start
    assert start is not None
    assert start.observations[0].values == {"accuracy": (0.7, 0.01)}


def test_an_export_round_trips_through_a_warm_start(service: Service, tmp_path):
    spec = parse([{"lr": 0.5, "layers": 2, "act": "relu"}])
    first = service.create_experiment(spec)
    applied = apply_warm_start(service, first, spec.warm_start)
    assert (applied.queued, applied.imported) == (1, 0)
    suggestion = service.create_suggestion(first.id)
    assert suggestion.assignments == {"lr": 0.5, "layers": 2, "act": "relu"}
    assert suggestion.strategy == "queued"
    record = service.new_observation(first, suggestion, {"accuracy": (0.75, None)})
    service.observe(record)
    (tmp_path / "old.csv").write_text(export(service, first.id, "csv"))
    spec2 = parse({"observations": "old.csv"}, tmp_path)
    second = service.create_experiment(spec2)
    assert apply_warm_start(service, second, spec2.warm_start).imported == 1
    [imported] = service.observations(second)
    assert imported.assignments == suggestion.assignments
    assert imported.value_of("accuracy") == 0.75
    assert imported.metadata == {"warm_start": "old.csv"}
