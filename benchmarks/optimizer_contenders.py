"""The contenders of the optimizer benchmark behind one ask/tell interface.

Values are always minimized. celeriac calls `optimizer.suggest` exactly like the
coordinator; optuna and skopt are imported only when used.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks.optimizer_problems import Problem
from optimizer import Metric, Observation, Parameter, Settings, design, suggest


class Contender:
    """ask(n, pending) -> points, tell(point, value, extra); values are always minimized."""

    @classmethod
    def applies(cls, problem: Problem) -> bool:
        """Whether the contender runs on this problem (the bench skips it otherwise and the
        suite report shows n/a)."""
        return True

    def __init__(self, problem: Problem, q: int, seed: int, options: dict[str, Any]) -> None:
        self.problem, self.q, self.seed, self.options = problem, q, seed, options
        self.space = problem.space

    def ask(self, n: int, pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def tell(self, point: dict[str, Any], value: float, extra: dict[str, float]) -> None:
        """extra: the problem's further objectives and constraint metrics, by name."""


class RandomSearch(Contender):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.rng = np.random.default_rng(self.seed)

    def ask(self, n: int, pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # uniform over the cube, or over the part that meets the linear constraints
        return self.space.decode(design.random_points(self.space, self.rng, n))


class Celeriac(Contender):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.observations: list[Observation] = []
        self.settings = Settings.from_dict({"seed": self.seed, **self.options})

    # How the constraint metrics are declared: modelled as constraints (probability of
    # feasibility), or stored only, so the optimizer sees the objective alone and the
    # benchmark filters afterwards (the `celeriac-store` contender).
    constraint_strategy = "constraint"

    def ask(self, n: int, pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
        metrics = [Metric("y", objective="minimize")]
        metrics += [Metric(o.name, "minimize") for o in self.problem.objectives]
        metrics += [Metric(c.name, "minimize", self.constraint_strategy, c.threshold)
                    for c in self.problem.constraints if c.linear is None]  # the space has those
        props = suggest(self.space, metrics, self.observations, pending, n, self.settings, self.q)
        return [p.assignments for p in props]

    def tell(self, point: dict[str, Any], value: float, extra: dict[str, float]) -> None:
        self.observations.append(Observation(point, {"y": value, **extra}))


class CeleriacStore(Celeriac):
    constraint_strategy = "store"


class Optuna(Contender):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = self.sampler(optuna)
        directions = ["minimize"] * (1 + len(self.problem.objectives))  # MOTPE beyond one
        self.study = optuna.create_study(sampler=sampler, directions=directions)
        self.distributions = {p.name: _optuna_distribution(p) for p in self.problem.parameters}
        self.trials: dict[str, Any] = {}

    def sampler(self, optuna: Any) -> Any:
        return optuna.samplers.TPESampler(seed=self.seed, multivariate=True, constant_liar=True)

    def ask(self, n: int, pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # Pending points need no passing: their trials stay RUNNING in the study until told,
        # which is what the constant liar (and CMA-ES's generation bookkeeping) sees.
        points = []
        for _ in range(n):
            if self.space.conditioned:  # define-by-run: a parameter exists in its branch only
                trial = self.study.ask()
                params: dict[str, Any] = {}
                for p in self.problem.parameters:
                    if self.space.active(p, params):
                        params[p.name] = _suggest(trial, p)
            else:
                trial = self.study.ask(self.distributions)
                params = trial.params
            point = self.space.canonical(params)
            self.trials.setdefault(self.space.key(point), []).append(trial)
            points.append(point)
        return points

    def tell(self, point: dict[str, Any], value: float, extra: dict[str, float]) -> None:
        waiting = self.trials[self.space.key(point)]  # a point asked twice has two trials
        trial = waiting.pop(0)
        if not waiting:
            del self.trials[self.space.key(point)]
        for c in self.problem.constraints:  # TPE models them (feasible at or below 0)
            trial.set_constraint(c.name, extra[c.name] - c.threshold)
        further = [extra[o.name] for o in self.problem.objectives]
        self.study.tell(trial, [value, *further] if further else value)


class OptunaDefault(Optuna):
    """Optuna's default sampler, `TPESampler()` with only the seed given (in Optuna 5.1 that
    is multivariate TPE for one objective, with the constant liar on)."""

    def sampler(self, optuna: Any) -> Any:
        return optuna.samplers.TPESampler(seed=self.seed)


class OptunaCmaEs(Optuna):
    """Optuna's CMA-ES (`CmaEsSampler`, the `cmaes` package) with its defaults: one random
    start-up trial, then generations of 4 + 3 ln d; running trials are simply not yet told.
    CMA-ES has no categoricals (Optuna would sample them at random): those problems are n/a."""

    @classmethod
    def applies(cls, problem: Problem) -> bool:
        return not problem.constraints and not problem.objectives and all(
            p.type != "categorical" for p in problem.parameters)

    def sampler(self, optuna: Any) -> Any:
        return optuna.samplers.CmaEsSampler(seed=self.seed, warn_independent_sampling=False)


class Hyperopt(Contender):
    """Hyperopt's TPE (`tpe.suggest` with its defaults: 20 random start-up trials) through
    the low-level Trials/Domain API, the way `fmin` drives it with parallel workers: each
    asked point is a trial doc left in JOB_STATE_RUNNING with no loss until told, and
    tpe.suggest counts such docs as losses of +inf (hyperopt's own treatment of running
    jobs, e.g. under MongoTrials)."""

    @classmethod
    def applies(cls, problem: Problem) -> bool:
        return not problem.constraints and not problem.objectives and not any(
            p.conditions or p.conditional for p in problem.parameters)

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        import logging

        from hyperopt import Domain, Trials, hp

        logging.getLogger("hyperopt").setLevel(logging.WARNING)
        expr = {}
        for p in self.problem.parameters:
            if p.type == "categorical":
                expr[p.name] = hp.choice(p.name, list(p.categories))
            elif p.type == "int":
                lo, hi = float(p.low) - 0.5, float(p.high) + 0.5  # type: ignore[arg-type]
                expr[p.name] = (hp.qloguniform(p.name, np.log(max(lo, 0.5)), np.log(hi), 1)
                                if p.log else hp.quniform(p.name, lo, hi, 1))
            elif p.log:
                expr[p.name] = hp.loguniform(p.name, np.log(p.low), np.log(p.high))
            else:
                expr[p.name] = hp.uniform(p.name, p.low, p.high)
        self.trials = Trials()
        self.domain = Domain(lambda _: 0.0, expr)
        self.rng = np.random.default_rng(self.seed)
        self.docs: dict[str, list[dict[str, Any]]] = {}

    def ask(self, n: int, pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from hyperopt import JOB_STATE_RUNNING, tpe

        points = []
        for _ in range(n):  # one at a time, each seeing the ones just asked as running
            ids = self.trials.new_trial_ids(1)
            docs = tpe.suggest(ids, self.domain, self.trials, int(self.rng.integers(2**31 - 1)))
            for doc in docs:
                doc["state"] = JOB_STATE_RUNNING
            self.trials.insert_trial_docs(docs)
            self.trials.refresh()
            doc = docs[0]
            point = self.space.canonical(self._values(doc["misc"]["vals"]))
            self.docs.setdefault(self.space.key(point), []).append(doc)
            points.append(point)
        return points

    def _values(self, vals: dict[str, list[Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for p in self.problem.parameters:
            v = vals[p.name][0]
            if p.type == "categorical":
                out[p.name] = p.categories[int(v)]
            elif p.type == "int":
                out[p.name] = int(min(max(round(v), p.low), p.high))  # type: ignore[type-var]
            else:
                out[p.name] = float(min(max(v, p.low), p.high))  # type: ignore[type-var]
        return out

    def tell(self, point: dict[str, Any], value: float, extra: dict[str, float]) -> None:
        from hyperopt import JOB_STATE_DONE, STATUS_OK

        key = self.space.key(point)
        doc = self.docs[key].pop(0)
        if not self.docs[key]:
            del self.docs[key]
        doc["state"] = JOB_STATE_DONE
        doc["result"] = {"loss": float(value), "status": STATUS_OK}
        self.trials.refresh()


def _suggest(trial: Any, p: Parameter) -> Any:
    if p.type == "categorical":
        return trial.suggest_categorical(p.name, list(p.categories))
    if p.type == "int":
        return trial.suggest_int(p.name, int(p.low), int(p.high), log=p.log)  # type: ignore[arg-type]
    return trial.suggest_float(p.name, float(p.low), float(p.high), log=p.log)  # type: ignore[arg-type]


def _optuna_distribution(p: Parameter) -> Any:
    from optuna.distributions import CategoricalDistribution as Cat
    from optuna.distributions import FloatDistribution, IntDistribution

    if p.type == "categorical":
        return Cat(list(p.categories))
    if p.type == "int":
        return IntDistribution(int(p.low), int(p.high), log=p.log)  # type: ignore[arg-type]
    return FloatDistribution(float(p.low), float(p.high), log=p.log)  # type: ignore[arg-type]


class Skopt(Contender):
    """Synchronous batches: the driver tells a whole batch before asking again."""

    synchronous = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        from skopt import Optimizer
        from skopt.space import Categorical, Integer, Real

        dims = []
        for p in self.problem.parameters:
            if p.type == "double":
                dims.append(Real(p.low, p.high, prior="log-uniform" if p.log else "uniform"))
            elif p.type == "int":
                dims.append(Integer(int(p.low), int(p.high)))  # type: ignore[arg-type]
            else:
                dims.append(Categorical(list(p.categories)))
        self.opt = Optimizer(
            dims,
            base_estimator="GP",
            acq_func="gp_hedge",
            n_initial_points=10,
            random_state=self.seed,
        )
        self.names = [p.name for p in self.problem.parameters]
        self.told: list[tuple[list[Any], float]] = []

    def ask(self, n: int, pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.told:
            xs, ys = zip(*self.told, strict=True)
            self.opt.tell(list(xs), list(ys))
            self.told = []
        raw = self.opt.ask(n_points=n, strategy="cl_min") if n > 1 else [self.opt.ask()]
        return [self.space.canonical(dict(zip(self.names, _plain(x), strict=True))) for x in raw]

    def tell(self, point: dict[str, Any], value: float, extra: dict[str, float]) -> None:
        self.told.append(([point[n] for n in self.names], value))  # no constraint support


def _plain(x: list[Any]) -> list[Any]:
    return [v.item() if hasattr(v, "item") else v for v in x]


CONTENDERS: dict[str, type[Contender]] = {
    "random": RandomSearch,
    "skopt": Skopt,
    "optuna": Optuna,
    "optuna-default": OptunaDefault,
    "optuna-cmaes": OptunaCmaEs,
    "hyperopt": Hyperopt,
    "celeriac": Celeriac,
    "celeriac-store": CeleriacStore,
}
