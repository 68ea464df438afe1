"""The GP's hyperparameter fit: noise is found where there is noise, and only there."""

import numpy as np
import pytest

from optimizer import gp


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
