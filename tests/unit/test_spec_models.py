"""The pydantic models are the accepted surface: the validators' keys come from them, and what
they refuse is refused even where a hand-written check would let it through."""

from __future__ import annotations

import dataclasses

import pytest

from coordinator.api import bodies, openapi, runs
from coordinator.api.routes import ENDPOINTS
from coordinator.errors import ConfigError, InvalidInput
from coordinator.spec import config, models
from coordinator.spec.update import validate_update
from coordinator.spec.validation import Problems
from coordinator.state.states import RunState
from optimizer import Settings
from optimizer.settings import SettingsError

BASE = {"name": "m", "parameters": [{"name": "x", "bounds": {"min": 0, "max": 1}}],
        "budget": 5, "evaluate": "pkg.mod:fn"}


def test_the_validators_allow_exactly_the_modelled_keys():
    assert set(config.TOP_KEYS) == set(models.ExperimentConfig.model_fields)
    assert set(config.METRIC_KEYS) == set(models.Metric.model_fields)
    assert set(models.ExperimentConfig.model_fields) - set(models.ExperimentBody.model_fields) \
        == {"warm_start"}
    assert set(models.RunMerge.model_fields["state"].annotation.__args__[0].__args__) \
        == {s.value for s in RunState}


def test_the_optimizer_block_models_every_setting():
    assert list(models.OptimizerSettings.model_fields) == [f.name for f in
                                                           dataclasses.fields(Settings)]


def _modelled(field: str) -> dict:
    """The API schema of one optimizer setting, less its `null`."""
    given = models.OptimizerSettings.model_json_schema()["properties"][field]["anyOf"]
    return next(kind for kind in given if kind["type"] != "null")


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(Settings)])
def test_the_api_schema_and_the_optimizer_agree_on_each_settings_limits(field):
    """The schema (what the OpenAPI document and the config check say) and optimizer.Settings
    (what the optimizer enforces) are written twice; their limits must be the same."""
    kind = _modelled(field)
    step = 1 if kind["type"] == "integer" else 1e-9
    for edge, beyond in (("minimum", -step), ("maximum", step)):
        if edge in kind:
            Settings(**{field: kind[edge]})
            with pytest.raises(SettingsError, match=field):
                Settings(**{field: kind[edge] + beyond})
    if "enum" in kind:
        for value in kind["enum"]:
            Settings(**{field: value})
        with pytest.raises(SettingsError, match=field):
            Settings(**{field: "not-" + kind["enum"][0]})
    if kind["type"] == "integer" and "minimum" not in kind:
        pytest.fail(f"{field}: an integer setting with no minimum in the schema")


def test_the_api_bodies_allow_the_modelled_keys():
    assert bodies.ECHOED_KEYS == ("id", "object", "experiment", "suggestion", "assignments",
                                  "created", "task")
    assert bodies.OBSERVATION_UPDATE_KEYS == ("value", "value_stddev", "values", "failed",
                                              "metadata")
    assert "source_code" in runs.MERGEABLE and "deleted" in runs.MERGEABLE


def test_an_unknown_key_deep_down_is_named_with_a_hint():
    raw = {**BASE, "optimizer": {"tpye": "random"}}
    with pytest.raises(ConfigError) as caught:
        config.validate_experiment(raw, require_evaluation=True, base_dir=None)
    assert "optimizer.tpye" in str(caught.value) and "did you mean 'type'" in str(caught.value)


def test_the_model_refuses_what_no_hand_check_looks_at():
    """A categorical value given as {name, ...} with a stray key was silently dropped."""
    raw = {**BASE, "parameters": [{"name": "k", "type": "categorical", "categorical_values": [
        {"name": "a"}, {"name": "b", "colour": "red"}]}]}
    with pytest.raises(ConfigError) as caught:
        config.validate_experiment(raw, require_evaluation=True)
    assert "parameters[0].categorical_values[1].colour: unknown key" in str(caught.value)


def test_the_validators_message_wins_where_both_name_a_field():
    raw = {**BASE, "parameters": [{"name": "x", "bounds": {"min": 0, "max": "one"}}]}
    with pytest.raises(ConfigError) as caught:
        config.validate_experiment(raw, require_evaluation=True)
    lines = [line for line in caught.value.problems if "bounds.max" in line]
    assert lines == ["parameters[0].bounds.max: must be a number, got 'one'"]


def test_union_errors_name_the_field_once():
    problems = Problems()
    models.check(models.CheckpointCreate, {"values": 3}, problems)
    assert problems.lines == ["values: must be a list or a mapping of keys to values, got 3"]
    problems = Problems()
    models.check(models.ObservationCreate, {"suggestion": "abc"}, problems)
    assert problems.lines == ["suggestion: must match ^[0-9]{1,30}$, got 'abc'"]


def test_update_bodies_are_checked_against_their_model():
    with pytest.raises(ConfigError) as caught:
        validate_update({"metadata": {"k": "x" * 600}})
    assert "metadata" in str(caught.value)
    assert validate_update({"budget": 9, "id": "1", "object": "experiment"}).budget == 9


def test_every_request_body_has_a_json_schema():
    found = models.schemas()
    for name in models.BODIES:
        assert name in found
    assert "linear_constraints" in found["ExperimentBody"]["properties"]
    assert found["Parameter"]["additionalProperties"] is False


def test_an_api_body_is_refused_where_only_the_model_looks():
    """A run value's name has no hand-written check; the model's limit applies."""
    with pytest.raises(InvalidInput) as caught:
        runs.check_patch({"values": {"acc": {"value": 1, "name": "x" * 101}}})
    assert str(caught.value) == "values.acc.name: must be at most 100 characters"


def test_the_openapi_request_bodies_are_the_models():
    document = openapi.document()
    components = document["components"]["schemas"]
    assert document["openapi"] == "3.1.0"
    for name, schema in models.schemas().items():
        assert components[name] == schema
    for endpoint in ENDPOINTS:
        if endpoint.body:
            assert endpoint.body in models.BODIES, endpoint
    assert components["ObservationCreate"]["additionalProperties"] is False
    assert set(components["ObservationCreate"]["properties"]) == set(bodies.OBSERVATION_KEYS)
    assert "put" in document["paths"]["/v1/uploads/{file_id}"]
    assert document["paths"]["/v1/uploads/{file_id}"]["put"]["security"] == []
