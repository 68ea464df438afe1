"""Unit fixtures: fakeredis with Lua (lupa), no sockets."""

from __future__ import annotations

import fakeredis
import pytest

from coordinator.service.experiments import Service
from coordinator.spec.config import validate_experiment
from coordinator.spec.experiment import ExperimentSpec
from coordinator.state.store import Store


@pytest.fixture
def fake_redis() -> fakeredis.FakeRedis:
    return fakeredis.FakeRedis(decode_responses=True)


@pytest.fixture
def store(fake_redis: fakeredis.FakeRedis) -> Store:
    return Store(fake_redis)


@pytest.fixture
def service(store: Store) -> Service:
    return Service(store)


def make_spec(**overrides) -> ExperimentSpec:
    raw = {
        "name": "unit",
        "parameters": [{"name": "x", "type": "double", "bounds": {"min": 0, "max": 1}},
                       {"name": "n", "type": "int", "bounds": {"min": 1, "max": 50}},
                       {"name": "kind", "type": "categorical",
                        "categorical_values": ["a", "b", "c"]}],
        "metrics": [{"name": "score", "objective": "maximize"}],
        "budget": 20,
        "parallel_bandwidth": 2,
        "max_attempts": 2,
        "evaluate": "pkg.mod:fn",
        "optimizer": {"type": "random", "seed": 1},
    }
    raw.update(overrides)
    return validate_experiment(raw, require_evaluation=True)


@pytest.fixture
def spec() -> ExperimentSpec:
    return make_spec()
