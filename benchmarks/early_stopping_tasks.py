"""Learning-curve tasks for benchmarks/early_stopping.py: one training code path per task,
used by every contender, so all of them train identical models.

Each task has a trainer class that trains one epoch per `epoch()` call and returns the
validation log-loss (the synthetic family returns its curve's value), and a Celeriac
evaluation `def task(params, run)` that drives the same trainer and reports every epoch:

    sgd_classify   SGDClassifier (log-loss) by partial_fit on a fixed make_classification
                   set (3,000 rows, 20 features): alpha, eta0 (log), power_t
    mlp_digits     MLPClassifier by partial_fit on sklearn's digits: alpha, learning rate
                   (log), hidden units, batch size
    synthetic      loss(x, r) = F(x) + g(x) (r / R)^-a(x) + N(0, 0.005): F a rescaled
                   Hartmann3, g and a depending on x, so early rankings are informative but
                   imperfect; a short sleep per epoch stands in for training

Training randomness is fixed (model seed 0, per-epoch shuffles from a fixed stream), so one
configuration gives one learning curve whichever contender runs it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
import warnings
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

import numpy as np

MAX_EPOCHS = 27
SYNTHETIC_EPOCH_SECONDS = float(os.environ.get("CELERIAC_BENCH_EPOCH_SECONDS", "0.01"))


class Trainer(Protocol):
    def epoch(self) -> float: ...


@dataclass(frozen=True)
class Task:
    """What a contender needs to know about a task: its space, length and trainer."""

    name: str
    evaluate: str  # module:function for Celeriac
    parameters: list[dict[str, Any]]  # Celeriac's config format
    max_epochs: int
    budget: int  # trials every contender gets

    def trainer(self, params: dict[str, Any]) -> Trainer:
        return TRAINERS[self.name](params)


@cache
def _classification() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import make_classification
    from sklearn.preprocessing import StandardScaler

    x, y = make_classification(n_samples=3000, n_features=20, n_informative=8,
                               n_redundant=4, n_classes=3, flip_y=0.05, class_sep=0.8,
                               random_state=0)
    scaler = StandardScaler().fit(x[:2000])
    return scaler.transform(x[:2000]), y[:2000], scaler.transform(x[2000:]), y[2000:]


@cache
def _digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    x, y = x[order] / 16.0, y[order]
    return x[:1200], y[:1200], x[1200:], y[1200:]


def _log_loss(y: np.ndarray, proba: np.ndarray) -> float:
    picked = proba[np.arange(len(y)), y]
    return float(-np.mean(np.log(np.clip(picked, 1e-15, 1.0))))


class SGDTrainer:
    def __init__(self, params: dict[str, Any]) -> None:
        from sklearn.linear_model import SGDClassifier

        self.model = SGDClassifier(loss="log_loss", alpha=float(params["alpha"]),
                                   learning_rate="invscaling", eta0=float(params["eta0"]),
                                   power_t=float(params["power_t"]), random_state=0)
        self.rng = np.random.default_rng(0)

    def epoch(self) -> float:
        """One pass of per-row SGD over the training rows, in a fresh shuffled order."""
        x, y, xv, yv = _classification()
        order = self.rng.permutation(len(y))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.model.partial_fit(x[order], y[order], classes=np.arange(3))
            proba = self.model.predict_proba(xv)
        return _finite(_log_loss(yv, proba))


class MLPTrainer:
    def __init__(self, params: dict[str, Any]) -> None:
        from sklearn.neural_network import MLPClassifier

        self.model = MLPClassifier(hidden_layer_sizes=(int(params["hidden"]),),
                                   alpha=float(params["alpha"]),
                                   learning_rate_init=float(params["learning_rate"]),
                                   batch_size=int(params["batch_size"]), random_state=0)

    def epoch(self) -> float:
        x, y, xv, yv = _digits()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.model.partial_fit(x, y, classes=np.arange(10))
            proba = self.model.predict_proba(xv)
        return _finite(_log_loss(yv, proba))


HARTMANN3_A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
HARTMANN3_P = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547],
                               [381, 5743, 8828]])
HARTMANN3_C = np.array([1.0, 1.2, 3.0, 3.2])
HARTMANN3_MIN = -3.86278


class SyntheticTrainer:
    """loss(x, r) = F(x) + g(x) (r / R)^-a(x) + noise, F = (Hartmann3 - min) / 4 in [0, ~1]:
    the curve falls to F + g at r = R, so a slow starter (large a) may still end best."""

    def __init__(self, params: dict[str, Any]) -> None:
        x = np.array([float(params[f"x{i}"]) for i in range(3)])
        inner = np.sum(HARTMANN3_A * (x - HARTMANN3_P) ** 2, axis=1)
        self.final = float((-np.sum(HARTMANN3_C * np.exp(-inner)) - HARTMANN3_MIN) / 4)
        self.scale = 0.02 + 0.13 * float(np.mean(np.sin(3 * x + 1) ** 2))  # g in [0.02, 0.15]
        self.rate = 0.2 + 0.3 * float(abs(np.cos(2 * x[0] + x[1] - x[2])))  # a in [0.2, 0.5]
        self.noise = np.random.default_rng(_seed_of(params))
        self.step = 0

    def epoch(self) -> float:
        self.step += 1
        time.sleep(SYNTHETIC_EPOCH_SECONDS)
        shape = self.scale * float(self.step / MAX_EPOCHS) ** -self.rate
        return float(self.final + shape + 0.005 * float(self.noise.standard_normal()))


def _seed_of(params: dict[str, Any]) -> int:
    text = json.dumps({k: round(float(v), 12) for k, v in params.items()}, sort_keys=True)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _finite(loss: float) -> float:
    """A diverged model (NaN weights) scores as a bad model, not as a failure."""
    return loss if math.isfinite(loss) else 10.0


TRAINERS: dict[str, type[SGDTrainer] | type[MLPTrainer] | type[SyntheticTrainer]] = {
    "sgd": SGDTrainer, "mlp": MLPTrainer, "synthetic": SyntheticTrainer}


def _double(name: str, low: float, high: float, log: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": name, "type": "double", "bounds": {"min": low, "max": high}}
    return {**spec, "transformation": "log"} if log else spec


def _int(name: str, low: int, high: int, log: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": name, "type": "int", "bounds": {"min": low, "max": high}}
    return {**spec, "transformation": "log"} if log else spec


TASKS = {
    "synthetic": Task("synthetic", "benchmarks.early_stopping_tasks:synthetic",
                      [_double(f"x{i}", 0.0, 1.0) for i in range(3)], MAX_EPOCHS, 40),
    "sgd": Task("sgd", "benchmarks.early_stopping_tasks:sgd_classify",
                [_double("alpha", 1e-6, 1e-1, log=True), _double("eta0", 1e-5, 1.0, log=True),
                 _double("power_t", 0.1, 0.9)], MAX_EPOCHS, 40),
    "mlp": Task("mlp", "benchmarks.early_stopping_tasks:mlp_digits",
                [_double("alpha", 1e-6, 1e-1, log=True),
                 _double("learning_rate", 1e-4, 1e-1, log=True),
                 _int("hidden", 8, 128, log=True), _int("batch_size", 16, 256, log=True)],
                MAX_EPOCHS, 40),
}


def train(name: str, params: dict[str, Any], run: Any) -> None:
    """The Celeriac evaluation: one report per epoch until the scheduler says stop (or the
    last epoch); returning None ends the run with its last report."""
    trainer = TRAINERS[name](params)
    for epoch in range(1, MAX_EPOCHS + 1):
        if not run.report(epoch, trainer.epoch()):
            break


def sgd_classify(params: dict[str, Any], run: Any) -> None:
    train("sgd", params, run)


def mlp_digits(params: dict[str, Any], run: Any) -> None:
    train("mlp", params, run)


def synthetic(params: dict[str, Any], run: Any) -> None:
    train("synthetic", params, run)
