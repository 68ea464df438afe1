"""Celeriac's optimizer: stateless suggestion strategies over a typed search space."""

from optimizer.best import best_observations
from optimizer.constraints import LinearConstraint
from optimizer.metrics import Metric, Observation
from optimizer.proposals import Proposal
from optimizer.settings import Settings, SettingsError
from optimizer.space import Parameter, Space
from optimizer.suggest import suggest

__all__ = [
    "Parameter",
    "LinearConstraint",
    "Space",
    "Metric",
    "Observation",
    "Settings",
    "SettingsError",
    "Proposal",
    "suggest",
    "best_observations",
]
