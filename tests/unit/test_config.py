"""Config validation: every problem named by its field path, nothing stored when invalid."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from coordinator.cli.context import Context
from coordinator.cli.main import cli
from coordinator.errors import ConfigError
from coordinator.spec.config import parse_config_text, validate_experiment

GOOD = {
    "name": "ok",
    "parameters": [{"name": "lr", "type": "double", "bounds": {"min": 1e-4, "max": 1},
                    "transformation": "log"},
                   {"name": "layers", "type": "int", "bounds": {"min": 1, "max": 8}},
                   {"name": "act", "type": "categorical", "categorical_values": ["relu", "tanh"]}],
    "metrics": [{"name": "acc"}, {"name": "latency", "strategy": "constraint",
                                  "objective": "minimize", "threshold": 10}],
    "budget": 10,
    "evaluate": "train:run",
}


def problems_of(raw, **kwargs) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        validate_experiment(raw, **kwargs)
    return caught.value.problems


def test_a_valid_config_keeps_types_bounds_and_log_scale():
    spec = validate_experiment(GOOD, require_evaluation=True)
    assert [p.type for p in spec.parameters] == ["double", "int", "categorical"]
    assert spec.parameters[0].log and spec.parameters[2].categories == ("relu", "tanh")
    assert spec.metrics[1].threshold == 10 and spec.budget == 10


def test_min_above_max_names_the_parameter_path():
    raw = {**GOOD, "parameters": [{"name": "a", "type": "int", "bounds": {"min": 512,
                                                                          "max": 32}}]}
    assert problems_of(raw) == ["parameters[0].bounds: min 512 must be below max 32"]


def test_unknown_keys_are_rejected_with_a_did_you_mean():
    [line] = problems_of({**GOOD, "paralel_bandwidth": 2})
    assert line.startswith("paralel_bandwidth: unknown key") and "parallel_bandwidth" in line


def test_every_problem_is_reported_at_once():
    raw = {**GOOD, "budget": 0, "parameters": [
        {"name": "a", "type": "double", "bounds": {"min": float("nan"), "max": 1}},
        {"name": "b", "type": "categorical", "categorical_values": ["x", "x"]},
        {"name": "c", "type": "float"}]}
    lines = problems_of(raw)
    assert any(line.startswith("budget:") for line in lines)
    assert any(line.startswith("parameters[0].bounds.min: must be a finite") for line in lines)
    assert any(line.startswith("parameters[1].categorical_values[1]: duplicate") for line in lines)
    assert any("parameters[2].type" in line and "double" in line for line in lines)


@pytest.mark.parametrize("change, path", [
    ({"parameters": [{"name": "a", "bounds": {"min": 0, "max": 1}}] * 2}, "parameters[1].name"),
    ({"metrics": [{"name": "m", "strategy": "constraint"}]}, "metrics[0].threshold"),
    ({"metrics": [{"name": "m", "objective": "maximise"}]}, "metrics[0].objective"),
    ({"parallel_bandwidth": "four"}, "parallel_bandwidth"),
    ({"budget": 10**9}, "budget"),
    ({"parameters": [{"name": f"p{i}", "bounds": {"min": 0, "max": 1}} for i in range(500)]},
     "parameters"),
    ({"parameters": [{"name": "a", "bounds": {"min": -1, "max": 1}, "transformation": "log"}]},
     "parameters[0].bounds"),
    ({"evaluate": "rm -rf /"}, "evaluate"),
    ({"optimizer": {"type": "bayes", "sed": 1}}, "optimizer.sed"),
])
def test_bad_fields_are_named_in_the_error(change, path):
    lines = problems_of({**GOOD, **change})
    assert any(line.startswith(path + ":") for line in lines), lines


def test_a_file_config_needs_something_to_evaluate_and_a_budget():
    with pytest.raises(ConfigError) as caught:
        parse_config_text(b"name: x\nparameters: [{name: a, bounds: {min: 0, max: 1}}]\n")
    text = str(caught.value)
    assert "evaluate: required" in text and "budget: required" in text


@pytest.mark.parametrize("data, expected", [
    (b"\xff\xfe bad bytes", "not UTF-8"),
    (b"name: [unclosed", "invalid YAML"),
    (b"- just\n- a list\n", "must be a mapping"),
])
def test_unreadable_yaml_gives_one_clear_error(data, expected):
    with pytest.raises(ConfigError) as caught:
        parse_config_text(data)
    assert expected in str(caught.value)


def test_the_cli_prints_one_line_per_problem_and_stores_nothing(tmp_path, service):
    path = tmp_path / "bad.yml"
    path.write_text("name: bad\nparameters: [{name: a, type: int, bounds: {min: 5, max: 3}}]\n"
                    "metrics: [{name: m}]\nbudget: 3\nevaluate: m:f\n")
    context = Context(None)
    context._service = service
    result = CliRunner().invoke(cli, ["create", str(path)], obj=context,
                                standalone_mode=False, catch_exceptions=True)
    assert isinstance(result.exception, ConfigError)
    assert "parameters[0].bounds: min 5 must be below max 3" in str(result.exception)
    assert service.experiments() == []


def test_the_command_line_reports_a_bad_config_in_one_line_without_a_traceback(
        tmp_path, monkeypatch, capsys):
    from coordinator.cli.main import main

    path = tmp_path / "bad.yml"
    path.write_text("name: bad\nparameters: [{name: a, type: int, bounds: {min: 5, max: 3}}]\n"
                    "metrics: [{name: m}]\nbudget: 3\nevaluate: m:f\n")
    monkeypatch.setattr("sys.argv", ["coordinator", "create", str(path)])
    with pytest.raises(SystemExit) as caught:
        main()
    assert caught.value.code == 1
    err = capsys.readouterr().err
    assert err.strip() == f"error: {path}: parameters[0].bounds: min 5 must be below max 3"
    assert "Traceback" not in err


def test_a_key_given_twice_is_refused_by_name_and_line():
    text = VALID_YAML_FOR_DUPLICATES + b"budget: 40\n"
    with pytest.raises(ConfigError) as caught:
        parse_config_text(text)
    assert caught.value.problems == [
        "line 9: invalid YAML: duplicate key 'budget' (first on line 8); keep one"]


def test_a_key_brought_in_by_a_merge_may_still_be_overridden():
    text = (b"name: merged\nevaluate: tests.metrics:f\nbudget: 4\nparameters:\n"
            b"  - &x {name: x, type: double, bounds: {min: 0, max: 1}}\n"
            b"  - {<<: *x, name: y}\nmetrics: [{name: score}]\n")
    spec = parse_config_text(text)
    assert [p.name for p in spec.parameters] == ["x", "y"]


VALID_YAML_FOR_DUPLICATES = (b"name: twice\nevaluate: tests.metrics:f\nparameters:\n"
                             b"  - name: x\n    type: double\n    bounds: {min: 0, max: 1}\n"
                             b"metrics: [{name: score}]\nbudget: 30\n")


def test_pause_after_failures_defaults_small_takes_zero_for_never_and_refuses_negatives():
    assert validate_experiment(GOOD).pause_after_failures == 5
    assert validate_experiment({**GOOD, "pause_after_failures": 0}).pause_after_failures == 0
    [line] = problems_of({**GOOD, "pause_after_failures": -1})
    assert line.startswith("pause_after_failures:")


def test_a_grid_is_honoured_as_the_only_values_and_sigopt_fields_not_modelled_are_refused():
    raw = {**GOOD, "parameters": [{"name": "lr", "type": "double", "grid": [0.1, 0.001, 0.01]},
                                  {"name": "n", "type": "int", "grid": [64, 16]}]}
    spec = validate_experiment(raw)
    assert [p.grid for p in spec.parameters] == [(0.001, 0.01, 0.1), (16, 64)]
    assert spec.space.size() == 6 and spec.reachable_budget == 6
    for field, value in (("precision", 3), ("default_value", 0.5)):
        [line] = problems_of({**GOOD, "parameters": [
            {"name": "x", "type": "double", "bounds": {"min": 0, "max": 1}, field: value}]})
        assert line.startswith(f"parameters[0].{field}: not supported")
    [line] = problems_of({**GOOD, "parameters": [
        {"name": "x", "type": "double", "grid": [1, 2], "bounds": {"min": 0, "max": 3}}]})
    assert line == "parameters[0].bounds: give either bounds or grid, not both"
    [line] = problems_of({**GOOD, "parameters": [
        {"name": "k", "type": "categorical", "categorical_values": ["a", "b"], "grid": [1]}]})
    assert line.startswith("parameters[0].grid: applies to double and int parameters")


def test_the_sigopt_experiment_type_chooses_the_strategy_or_is_refused_when_it_contradicts():
    assert validate_experiment(GOOD).optimizer.type == "bayes"
    assert validate_experiment({**GOOD, "type": "random"}).optimizer.type == "random"
    assert validate_experiment({**GOOD, "type": "grid"}).optimizer.type == "grid"
    assert validate_experiment({**GOOD, "type": "offline"}).optimizer.type == "bayes"
    [line] = problems_of({**GOOD, "type": "grid", "optimizer": {"type": "bayes"}})
    assert line.startswith("type: grid means optimizer type grid")
    [line] = problems_of({**GOOD, "type": "batch"})
    assert line.startswith("type:")
