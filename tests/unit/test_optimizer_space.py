"""Search space: canonical types, validation and the unit-cube round trip."""

import json

import numpy as np
import pytest

from optimizer import Parameter, Space


def mixed_space() -> Space:
    return Space(
        [
            Parameter("lr", "double", 1e-5, 1e-1, log=True),
            Parameter("layers", "int", 1, 8),
            Parameter("units", "int", 16, 1024, log=True),
            Parameter("act", "categorical", categories=("relu", "tanh", "gelu")),
        ]
    )


def test_canonical_gives_exact_types():
    raw = {"lr": 1e-3, "layers": 3.0, "units": np.int64(64), "act": "relu"}
    canon = mixed_space().canonical(raw)
    assert type(canon["lr"]) is float and type(canon["layers"]) is int
    assert type(canon["units"]) is int and canon["act"] == "relu"


def test_int_parameters_reject_fractions_and_booleans():
    space = mixed_space()
    with pytest.raises(ValueError, match="layers: must be an integer"):
        space.canonical({"lr": 1e-3, "layers": 2.5, "units": 64, "act": "relu"})
    with pytest.raises(ValueError, match="layers"):
        space.canonical({"lr": 1e-3, "layers": True, "units": 64, "act": "relu"})


@pytest.mark.parametrize(
    "assignments, field",
    [
        ({"lr": 1.0, "layers": 2, "units": 64, "act": "relu"}, "lr"),
        ({"lr": 1e-3, "layers": 9, "units": 64, "act": "relu"}, "layers"),
        ({"lr": 1e-3, "layers": 2, "units": 64, "act": "sigmoid"}, "act"),
        ({"lr": 1e-3, "layers": 2, "units": 64}, "act"),
        ({"lr": 1e-3, "layers": 2, "units": 64, "act": "relu", "extra": 1}, "extra"),
        ({"lr": float("nan"), "layers": 2, "units": 64, "act": "relu"}, "lr"),
    ],
)
def test_canonical_errors_start_with_the_parameter_name(assignments, field):
    with pytest.raises(ValueError, match=f"^{field}: "):
        mixed_space().canonical(assignments)


def test_equal_points_have_equal_keys_whatever_the_input_types():
    space = mixed_space()
    a = space.key({"act": "tanh", "units": 32, "layers": 2, "lr": 0.01})
    b = space.key({"lr": 0.01, "layers": 2.0, "units": np.int32(32), "act": "tanh"})
    assert a == b
    assert json.loads(a) == {"act": "tanh", "layers": 2, "lr": 0.01, "units": 32}


def test_decoded_cube_points_respect_bounds_and_types():
    space = mixed_space()
    cube = np.vstack([np.zeros(4), np.ones(4), np.random.default_rng(0).random((200, 4))])
    for point in space.decode(cube):
        assert space.canonical(point) == point
        assert 1e-5 <= point["lr"] <= 1e-1 and 1 <= point["layers"] <= 8


def test_every_int_value_is_reachable_from_the_cube():
    space = Space([Parameter("n", "int", 1, 4)])
    values = {p["n"] for p in space.decode(np.linspace(0, 1, 101)[:, None])}
    assert values == {1, 2, 3, 4}


def test_encode_then_decode_returns_the_same_point():
    space = mixed_space()
    point = {"lr": 3e-4, "layers": 5, "units": 200, "act": "gelu"}
    assert space.decode(space.encode([point]))[0]["layers"] == 5
    back = space.decode(space.encode([point]))[0]
    assert back["act"] == "gelu" and back["units"] == 200
    assert back["lr"] == pytest.approx(3e-4)


def test_features_one_hot_encode_categoricals():
    space = mixed_space()
    feats = space.features(space.encode([{"lr": 1e-3, "layers": 1, "units": 16, "act": "tanh"}]))
    assert feats.shape == (1, space.feature_dimension) == (1, 6)
    assert list(feats[0, 3:]) == [0.0, 1.0, 0.0]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(name="x", type="float", low=0, high=1), "type must be one of"),
        (dict(name="x", type="double", low=2, high=1), "must be below"),
        (dict(name="x", type="double", low=0, high=1, log=True), "log"),
        (dict(name="x", type="int", low=0.5, high=3), "whole numbers"),
        (dict(name="x", type="categorical"), "at least one category"),
    ],
)
def test_invalid_parameters_are_rejected_with_their_name(kwargs, message):
    with pytest.raises(ValueError, match=f"x: .*{message}"):
        Parameter(**kwargs)


def test_duplicate_parameter_names_are_rejected():
    with pytest.raises(ValueError, match="unique"):
        Space([Parameter("x", "double", 0, 1), Parameter("x", "int", 0, 1)])
