"""Real tuning tasks for the optimizer benchmark: scikit-learn models on its bundled datasets.

Each task's loss is a 3-fold cross-validated loss with fixed folds (KFold, shuffled with a
fixed random_state) and a fixed model random_state, so a point always gets the same value;
1 - accuracy for classifiers, MSE divided by the target's variance for regressors (the
ranking is MSE's). n_jobs=1 throughout. Only the datasets are cached (loaded once per
process and subsampled with a fixed seed); every evaluation fits from scratch.

There is no known optimum: the problems have minimum = nan and `tuning=True`, and the suite
report compares them by median best loss and by mean rank over (task, seed).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.optimizer_problems import Problem
from optimizer import Parameter

FOLDS = 3
SPLIT_SEED = 0
MODEL_SEED = 0


@functools.cache
def dataset(name: str, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A bundled dataset, optionally subsampled to `limit` rows with a fixed seed."""
    from sklearn import datasets  # noqa: PLC0415

    x, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    if limit is not None and limit < len(y):
        rows = np.random.default_rng(SPLIT_SEED).permutation(len(y))[:limit]
        x, y = x[rows], y[rows]
    return x.astype(float), y


def cv_loss(model: Any, data: tuple[np.ndarray, np.ndarray], regression: bool = False) -> float:
    from sklearn.model_selection import KFold, cross_val_score  # noqa: PLC0415

    x, y = data
    folds = KFold(FOLDS, shuffle=True, random_state=SPLIT_SEED)
    scoring = "neg_mean_squared_error" if regression else "accuracy"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of the deliberately short fits
        scores = cross_val_score(model, x, y, cv=folds, scoring=scoring, n_jobs=1)
    if regression:
        return float(-np.mean(scores) / np.var(y))
    return float(1.0 - np.mean(scores))


def random_forest(p: dict[str, Any]) -> float:
    from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier  # noqa: PLC0415

    kind = RandomForestClassifier if p["kind"] == "forest" else ExtraTreesClassifier
    model = kind(n_estimators=p["n_estimators"], max_depth=p["max_depth"],
                 min_samples_leaf=p["min_samples_leaf"], max_features=p["max_features"],
                 criterion=p["criterion"], random_state=MODEL_SEED, n_jobs=1)
    return cv_loss(model, dataset("breast_cancer"))


def hist_gradient_boosting(p: dict[str, Any]) -> float:
    from sklearn.ensemble import HistGradientBoostingRegressor  # noqa: PLC0415

    model = HistGradientBoostingRegressor(
        learning_rate=p["learning_rate"], max_iter=p["max_iter"],
        max_leaf_nodes=p["max_leaf_nodes"], min_samples_leaf=p["min_samples_leaf"],
        l2_regularization=p["l2_regularization"], early_stopping=False,
        random_state=MODEL_SEED)
    return cv_loss(model, dataset("diabetes"), regression=True)


def svm(p: dict[str, Any]) -> float:
    from sklearn.pipeline import make_pipeline  # noqa: PLC0415
    from sklearn.preprocessing import MinMaxScaler  # noqa: PLC0415
    from sklearn.svm import SVC  # noqa: PLC0415

    model = make_pipeline(MinMaxScaler(), SVC(C=p["C"], gamma=p["gamma"]))
    return cv_loss(model, dataset("digits", 600))


def elastic_net(p: dict[str, Any]) -> float:
    from sklearn.linear_model import ElasticNet  # noqa: PLC0415
    from sklearn.pipeline import make_pipeline  # noqa: PLC0415
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler  # noqa: PLC0415

    # degree-2 features (65 of them) so the regularization has something to choose
    model = make_pipeline(PolynomialFeatures(2, include_bias=False), StandardScaler(),
                          ElasticNet(alpha=p["alpha"], l1_ratio=p["l1_ratio"],
                                     max_iter=2000, random_state=MODEL_SEED))
    return cv_loss(model, dataset("diabetes"), regression=True)


def logistic_regression(p: dict[str, Any]) -> float:
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415
    from sklearn.pipeline import make_pipeline  # noqa: PLC0415
    from sklearn.preprocessing import StandardScaler  # noqa: PLC0415

    model = make_pipeline(StandardScaler(), LogisticRegression(
        C=p["C"], class_weight=None if p["class_weight"] == "none" else "balanced",
        fit_intercept=p["intercept"] == "yes", max_iter=200, random_state=MODEL_SEED))
    return cv_loss(model, dataset("breast_cancer"))


def k_neighbours(p: dict[str, Any]) -> float:
    from sklearn.neighbors import KNeighborsClassifier  # noqa: PLC0415
    from sklearn.pipeline import make_pipeline  # noqa: PLC0415
    from sklearn.preprocessing import (  # noqa: PLC0415
        MaxAbsScaler,
        MinMaxScaler,
        RobustScaler,
        StandardScaler,
    )

    scalers = {"none": None, "standard": StandardScaler(), "minmax": MinMaxScaler(),
               "robust": RobustScaler(), "maxabs": MaxAbsScaler()}
    knn = KNeighborsClassifier(n_neighbors=p["k"], weights=p["weights"], metric=p["metric"],
                               n_jobs=1)
    scaler = scalers[p["scaler"]]
    model = knn if scaler is None else make_pipeline(scaler, knn)
    return cv_loss(model, dataset("wine"))


def mlp(p: dict[str, Any]) -> float:
    from sklearn.neural_network import MLPClassifier  # noqa: PLC0415
    from sklearn.pipeline import make_pipeline  # noqa: PLC0415
    from sklearn.preprocessing import MinMaxScaler  # noqa: PLC0415

    model = make_pipeline(MinMaxScaler(), MLPClassifier(
        hidden_layer_sizes=(p["hidden"],), alpha=p["alpha"], learning_rate_init=p["lr"],
        activation=p["activation"], max_iter=25, random_state=MODEL_SEED))
    return cv_loss(model, dataset("digits", 500))


def _cat(name: str, *choices: str) -> Parameter:
    return Parameter(name, "categorical", categories=choices)


def _int(name: str, low: int, high: int, log: bool = False) -> Parameter:
    return Parameter(name, "int", low, high, log=log)


def _dbl(name: str, low: float, high: float, log: bool = False) -> Parameter:
    return Parameter(name, "double", low, high, log=log)


TASKS: dict[str, tuple[Callable[[dict[str, Any]], float], tuple[Parameter, ...]]] = {
    "rf-breast-cancer": (random_forest, (
        _cat("kind", "forest", "extra"), _int("n_estimators", 5, 30),
        _int("max_depth", 1, 12), _int("min_samples_leaf", 1, 30),
        _dbl("max_features", 0.05, 1.0), _cat("criterion", "gini", "entropy"))),
    "hgb-diabetes": (hist_gradient_boosting, (
        _dbl("learning_rate", 0.005, 1.0, log=True), _int("max_iter", 5, 60),
        _int("max_leaf_nodes", 2, 31), _int("min_samples_leaf", 2, 80),
        _dbl("l2_regularization", 1e-4, 100.0, log=True))),
    "svc-digits": (svm, (_dbl("C", 1e-3, 1e3, log=True), _dbl("gamma", 1e-5, 10.0, log=True))),
    "elasticnet-diabetes": (elastic_net, (
        _dbl("alpha", 1e-4, 10.0, log=True), _dbl("l1_ratio", 0.0, 1.0))),
    "logreg-breast-cancer": (logistic_regression, (
        _dbl("C", 1e-4, 1e3, log=True), _cat("class_weight", "none", "balanced"),
        _cat("intercept", "yes", "no"))),
    "knn-wine": (k_neighbours, (
        _int("k", 1, 60), _cat("weights", "uniform", "distance"),
        _cat("metric", "euclidean", "manhattan", "chebyshev"),
        _cat("scaler", "none", "standard", "minmax", "robust", "maxabs"))),
    "mlp-digits": (mlp, (
        _int("hidden", 4, 96), _dbl("alpha", 1e-6, 1.0, log=True),
        _dbl("lr", 1e-4, 0.5, log=True), _cat("activation", "relu", "tanh", "logistic"))),
}

BUDGET = 40


def tasks() -> dict[str, Problem]:
    return {name: Problem(name, params, function, float("nan"), BUDGET, tuning=True)
            for name, (function, params) in TASKS.items()}
