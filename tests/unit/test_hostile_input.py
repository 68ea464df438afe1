"""Hostile or random input always gets a clear error naming a field, never a traceback."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coordinator.errors import ConfigError
from coordinator.spec.config import parse_config_text, validate_experiment
from tests.unit.conftest import make_spec
from worker.evaluation import EvaluationFailed, parse_result

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                    st.text(max_size=20))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=20)
parameter = st.fixed_dictionaries(
    {"name": st.one_of(st.text(max_size=8), scalars),
     "type": st.sampled_from(["double", "int", "categorical", "float", 3])},
    optional={"bounds": st.one_of(values, st.fixed_dictionaries(
        {"min": st.one_of(st.floats(), st.integers()),
         "max": st.one_of(st.floats(), st.integers())})),
        "categorical_values": st.one_of(values, st.lists(st.text(max_size=5), max_size=5)),
        "transformation": st.sampled_from(["log", "none", "ln", None])})
config = st.fixed_dictionaries(
    {"name": st.one_of(st.text(max_size=10), scalars),
     "parameters": st.one_of(values, st.lists(parameter, max_size=4))},
    optional={"metrics": st.one_of(values, st.lists(st.fixed_dictionaries(
        {"name": st.text(max_size=5)},
        optional={"objective": st.sampled_from(["maximize", "minimize", "max"]),
                  "strategy": st.sampled_from(["optimize", "constraint", "store", 1]),
                  "threshold": st.one_of(st.floats(), st.none())}), max_size=3)),
        "budget": scalars, "parallel_bandwidth": scalars, "optimizer": values,
        "metadata": values, "evaluate": scalars, "timeout": scalars})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config)
def test_any_config_is_either_valid_or_a_config_error_with_field_paths(raw):
    try:
        spec = validate_experiment(raw)
    except ConfigError as error:
        assert error.problems and all(isinstance(line, str) and line for line in error.problems)
        assert all("\n" not in line for line in error.problems), error.problems
        return
    for p in spec.parameters:
        if p.type != "categorical":
            assert math.isfinite(p.low) and math.isfinite(p.high) and p.low < p.high


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_as_a_yaml_file_give_a_config_error_not_a_crash(data):
    with pytest.raises(ConfigError):
        parse_config_text(data)


def test_a_yaml_alias_bomb_is_rejected_quickly():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(9)) + "name: bomb\nparameters: *j\n"
    with pytest.raises(ConfigError) as caught:
        parse_config_text(bomb.encode())
    assert any(line.startswith("parameters") for line in caught.value.problems)


def test_deeply_nested_yaml_is_rejected_with_a_message():
    with pytest.raises(ConfigError, match="nested too deeply|invalid YAML|parameters"):
        parse_config_text(("name: x\nparameters: " + "[" * 5000 + "]" * 5000 + "\n").encode())


def test_thousands_of_parameters_are_refused_in_one_line():
    raw = {"name": "big", "budget": 5, "evaluate": "m:f",
           "parameters": [{"name": f"p{i}", "bounds": {"min": 0, "max": 1}} for i in range(5000)]}
    with pytest.raises(ConfigError) as caught:
        validate_experiment(raw)
    assert caught.value.problems == ["parameters: at most 100 parameters, got 5000"]


@settings(max_examples=300, deadline=None)
@given(values)
def test_any_metric_result_is_either_values_or_a_failure_reason(result):
    spec = make_spec()
    try:
        parsed = parse_result(result, spec)
    except EvaluationFailed as failure:
        assert str(failure)
        return
    for value, stddev in parsed.values():
        assert math.isfinite(value) and (stddev is None or stddev >= 0)
