"""Evaluation for configs/exp.yml: an SVC on scikit-learn's bundled digits data set.

Cross-validated accuracy on a fixed subsample keeps one evaluation around a second, so the
example finishes in about a minute with two local workers.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score
from sklearn.svm import SVC


@cache
def _data() -> tuple[np.ndarray, np.ndarray]:
    digits = load_digits()
    return digits.data / 16.0, digits.target


def evaluate(assignments: dict) -> dict:
    features, target = _data()
    model = SVC(C=assignments["C"], gamma=assignments["gamma"])
    scores = cross_val_score(model, features, target, cv=3)
    return {"accuracy": (float(scores.mean()), float(scores.std() / np.sqrt(len(scores))))}
