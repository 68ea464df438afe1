"""Evaluation for configs/early_stopping.yml: a linear classifier trained epoch by epoch.

Each epoch is one `partial_fit` pass over scikit-learn's digits data; the validation log-loss
is reported after every epoch, so the scheduler can stop a poor run early, and the model is
checkpointed, so a run whose worker dies resumes on another one from its last epoch.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split

EPOCHS = 27


@cache
def _data() -> tuple[np.ndarray, ...]:
    digits = load_digits()
    return tuple(train_test_split(digits.data / 16.0, digits.target, test_size=0.3,
                                  random_state=0))


def evaluate(assignments: dict[str, Any], run: Any) -> None:
    x_train, x_valid, y_train, y_valid = _data()
    model = run.load_checkpoint() or SGDClassifier(
        loss="log_loss", alpha=assignments["alpha"], eta0=assignments["eta0"],
        learning_rate=assignments["learning_rate"], random_state=0)
    classes = np.unique(y_train)
    for epoch in range(int(run.start_step) + 1, EPOCHS + 1):
        model.partial_fit(x_train, y_train, classes=classes)
        loss = log_loss(y_valid, model.predict_proba(x_valid), labels=classes)
        run.save_checkpoint(epoch, model)
        if not run.report(epoch, float(loss)):
            break  # stopped early, or all epochs done: the last report is the result
