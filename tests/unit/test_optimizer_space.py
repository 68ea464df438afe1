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


def test_a_grid_parameter_takes_only_its_values_under_every_strategy():
    from optimizer import Metric, Observation, Settings, suggest  # noqa: PLC0415

    space = Space([Parameter("lr", "double", grid=(0.1, 0.001, 0.01, 0.3)),
                   Parameter("n", "int", grid=(128, 16, 32)),
                   Parameter("x", "double", 0.0, 1.0)])
    assert space.canonical({"lr": 0.01 + 1e-13, "n": 32.0, "x": 0.5})["lr"] == 0.01
    with pytest.raises(ValueError, match="not one of its grid values"):
        space.canonical({"lr": 0.02, "n": 32, "x": 0.5})
    rng = np.random.default_rng(0)
    observations = [Observation(p, {"y": p["x"] + p["lr"]})
                    for p in space.decode(rng.random((12, space.dimension)))]
    for strategy in ("random", "sobol", "grid", "bayes"):
        props = suggest(space, [Metric("y")], observations, [], 6, Settings(type=strategy,
                                                                            seed=2))
        assert len(props) == 6
        for prop in props:
            assert prop.assignments["lr"] in (0.001, 0.01, 0.1, 0.3)
            assert type(prop.assignments["n"]) is int and prop.assignments["n"] in (16, 32, 128)


def test_a_space_of_grids_is_finite_and_is_exhausted_exactly():
    from optimizer import Metric, Settings, suggest  # noqa: PLC0415

    space = Space([Parameter("lr", "double", grid=(0.1, 0.01)), Parameter("n", "int",
                                                                        grid=(1, 5, 9))])
    assert space.size() == 6
    props = suggest(space, [Metric("y")], [], [], 10, Settings(type="grid", seed=0))
    assert len({space.key(p.assignments) for p in props}) == 6 == len(props)
