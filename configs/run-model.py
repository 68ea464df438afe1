"""Command-style evaluation for configs/command.yml: a random forest on scikit-learn's wine data.

The worker runs `python run-model.py --n_estimators 40 --max_depth 6 ...` in this directory,
with the same assignments as JSON in CELERIAC_ASSIGNMENTS; metrics go back through
worker.script.log_metric. Run it by hand the same way to debug it.
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import cross_val_score

from worker.script import log_metric, params


def main() -> None:
    p = params()
    data = load_wine()
    model = RandomForestClassifier(n_estimators=int(p["n_estimators"]),
                                   max_depth=int(p["max_depth"]), criterion=p["criterion"],
                                   max_features=float(p["max_features"]), random_state=0)
    scores = cross_val_score(model, data.data, data.target, cv=3)
    model.fit(data.data, data.target)
    leaves = sum(tree.get_n_leaves() for tree in model.estimators_)
    log_metric("accuracy", float(scores.mean()), stddev=float(scores.std() / np.sqrt(3)))
    log_metric("total_leaves", float(leaves))


if __name__ == "__main__":
    main()
