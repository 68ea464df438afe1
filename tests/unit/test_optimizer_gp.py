"""The GP's hyperparameter fit: noise is found where there is noise, and only there."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor

from optimizer import gp, quiet


def smooth(x: np.ndarray) -> np.ndarray:
    return np.sum(np.sin(3 * x) + (x - 0.4) ** 2, axis=1)


def standardized(y: np.ndarray) -> np.ndarray:
    return (y - y.mean()) / y.std()


@pytest.mark.parametrize("seed", range(4))
def test_a_deterministic_function_is_fitted_with_almost_no_noise(seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(30, 4))
    hyper = gp.fit_hyper(x, standardized(smooth(x)), np.zeros(30), seed=seed, restarts=1)
    assert hyper.noise < 1e-3


@pytest.mark.parametrize("seed", range(4))
def test_a_noisy_metric_is_fitted_as_noise(seed):
    # Noise with half the function's standard deviation is a fifth of the variance, more
    # than the tenth the noise bound allowed before.
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(30, 2))
    y = smooth(x)
    y = standardized(y + 0.5 * y.std() * rng.normal(size=30))
    hyper = gp.fit_hyper(x, y, np.zeros(30), seed=seed, restarts=1)
    assert 0.1 < hyper.noise < 0.35


def test_importing_the_optimizer_silences_the_fit_warnings_for_the_whole_process():
    probe = ("import warnings, optimizer.gp\n"
             "from sklearn.exceptions import ConvergenceWarning\n"
             "warnings.warn_explicit('at its bound', ConvergenceWarning, 'kernels.py', 1,\n"
             "                       module='sklearn.gaussian_process.kernels')\n"
             "warnings.warn_explicit('other', ConvergenceWarning, 'mine.py', 1, module='mine')\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, check=True)
    assert "at its bound" not in done.stderr and "other" in done.stderr


def test_a_fit_stays_quiet_when_another_thread_puts_back_older_warning_filters(monkeypatch):
    # A deterministic metric's noise ends at its bound, which sklearn warns about. The run
    # loop fits in a backlog thread; a thread leaving its own `catch_warnings` during the fit
    # puts back the filter list it saw before, and a fit that silenced the warning with
    # `catch_warnings` of its own let it through to `coordinator run`. That interleaving, in
    # one thread: another thread's list, taken after the optimizer was imported, comes back
    # as the fit starts.
    quiet.ignore_expected_warnings()  # as importing did, before pytest put back its filters
    older = list(warnings.filters)
    fit = GaussianProcessRegressor.fit

    def fit_after_another_thread(self, x, y):
        warnings.filters = older
        return fit(self, x, y)

    monkeypatch.setattr(GaussianProcessRegressor, "fit", fit_after_another_thread)
    rng = np.random.default_rng(0)
    with warnings.catch_warnings(record=True) as seen:
        for seed in range(20):  # 6 of these 20 fits end at the noise bound
            x = rng.uniform(size=(12, 2))
            gp.fit_hyper(x, standardized(smooth(x)), np.zeros(12), seed=seed, restarts=0)
    assert [str(w.message) for w in seen if issubclass(w.category, ConvergenceWarning)] == []
