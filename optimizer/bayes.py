"""Bayesian optimization: initial design, then GP models and a believer-style batch loop.

Pending points (open suggestions) and points already chosen in this batch are added to
every model at their predicted mean (kriging believer) or at the worst observed value
(constant liar), so that the batch spreads out instead of piling onto one optimum;
`pending: penalize` instead multiplies expected improvement by a local penalty around
each of them (see `_penalized`).
Most proposals are searched inside a trust region around the incumbent (see
`optimizer.trust`); one round in `global_every` searches the whole space. Where the
objective looks deterministic, one proposal in `local_every` is instead the Newton step of
a quadratic fitted around the incumbent (see `optimizer.local`). Two optimized metrics
take their own loop: a GP each and the hypervolume improvement (see `optimizer.pareto`).
Given the full resource and some early-stopped observations, the objective and constraint
models take the resource as an extra input and are queried at the full resource (see
`optimizer.fidelity`).
Why each of these was chosen, with the measurements, is in docs/optimizer.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
from threadpoolctl import threadpool_limits

from optimizer import design, fidelity, local, pareto, search, trust
from optimizer.acquisition import FACTORED, Acquisition, Feasibility, Objective, Penalty
from optimizer.gp import SMOOTH, GaussianProcess
from optimizer.metrics import Metric, Observation, constraints, has_values, is_feasible, optimized
from optimizer.models import Target, compress_tail, fit_model, scalarize, subsample
from optimizer.proposals import Batch, History
from optimizer.settings import Settings
from optimizer.space import Space

CENTRES = 5
REPEAT = 1e-5  # length scales: a lone bound's proposal this close to an observation repeats it
ROUND = 4  # proposals per round of the global step, at least (see _in_trust_region)

Fitted = tuple[GaussianProcess, np.ndarray]  # an objective model and its standardized targets
Limit = tuple[GaussianProcess, float]  # a feasibility model and its standardized threshold


def initial_points(dimension: int, bandwidth: int) -> int:
    """Enough points to fit length scales, rounded up so a full first wave is all design."""
    base = max(5, dimension + 2)
    return -(-base // bandwidth) * bandwidth


@dataclass
class Problem:
    """The modelled slice of history, in feature space."""

    space: Space
    cube: np.ndarray  # valued observations, design cube
    features: np.ndarray  # the same, in feature space
    goals: np.ndarray  # (n, goals) larger is better
    stddevs: np.ndarray | None
    feasible: np.ndarray  # bool per valued observation
    constraint_values: list[tuple[np.ndarray, float]]  # (values, threshold), larger is better
    failure_features: np.ndarray  # every usable observation, for the failure model
    succeeded: np.ndarray
    failed_features: np.ndarray  # failed points, imputed at the worst value in the objective
    pending: np.ndarray  # features of pending points
    pending_cube: np.ndarray  # the same, design cube
    ordered: np.ndarray  # feature columns with a distance: the length-scale prior's
    finished: np.ndarray  # bool per valued observation: not stopped early
    levels: np.ndarray | None  # resource level per valued observation, with fidelity only
    region: trust.Region = trust.Region()  # the trust region, replayed from history
    started: int = 0  # observations plus pending points: numbers the proposals
    bandwidth: int = 1


def propose_bayes(history: History, metrics: Sequence[Metric], settings: Settings,
                  bandwidth: int, rng: np.random.Generator, batch: Batch,
                  max_resource: float | None = None) -> None:
    """Fill the batch: design points until the models have enough data, then the models'.

    `max_resource` (the full training length) turns on the fidelity models when an
    observation was stopped early; otherwise it changes nothing.
    """
    if len(optimized(metrics)) > 2:  # the config refuses more; `_batch_loop` handles 1 or 2
        raise ValueError("metrics: at most 2 metrics can have strategy: optimize")
    space = history.space
    n_init = settings.initial_points or initial_points(space.dimension, bandwidth)
    valued = [o for o in history.observations if has_values(metrics, o)]
    started = len(history.observations) + len(history.pending)
    if not optimized(metrics) or started < n_init or len(valued) < 2:
        existing = np.vstack([history.cube(), batch.cube()])
        batch.offer(design.maximin_fill(space, rng, existing, 2 * batch.k), "sobol")
        return
    # Matrices here are at most a few hundred wide: BLAS threads only add spin-waiting.
    with threadpool_limits(1, user_api="blas"):
        full = max_resource if fidelity.active(history.observations, max_resource) else None
        problem = _build_problem(history, metrics, settings, rng, full)
        problem.region = _trust_region(history, metrics, bandwidth, settings, n_init,
                                       full is not None)
        problem.started = started
        problem.bandwidth = bandwidth
        _batch_loop(problem, settings, rng, batch)


def _trust_region(history: History, metrics: Sequence[Metric], bandwidth: int,
                  settings: Settings, skip: int, finished_only: bool = False) -> trust.Region:
    """Replayed over valued observations in report order (before any subsampling); with
    `finished_only`, over those not stopped early, whose values are partial.

    The initial design only sets the incumbent: as in TuRBO, failures count from the first
    model-based point, or a long random history would start with a collapsed region.
    """
    valued = [o for o in history.observations
              if has_values(metrics, o) and not (finished_only and o.stopped)]
    if not valued:
        return trust.Region()
    scores = _progress_scores(valued, metrics)
    best = np.max(scores[:skip], initial=-np.inf)
    later = np.concatenate([[best], scores[skip:]]) if skip < len(scores) else [best]
    return trust.replay(np.asarray(later), history.space.dimension, bandwidth,
                        settings.trust_patience)


def _progress_scores(valued: list[Observation], metrics: Sequence[Metric]) -> np.ndarray:
    """What the trust region counts as progress, larger is better: the scalarized objective
    of a feasible observation, and below every one of those an infeasible observation's
    total violation (each constraint's in units of its observed range), as in SCBO
    (Eriksson & Poloczek, 2021), so that points which cannot be the answer move no box."""
    goals = optimized(metrics)
    raw = np.array([[m.sign * float(o.values[m.name]) for m in goals] for o in valued])
    scores = scalarize(raw, np.ones(len(goals)) / len(goals))
    limits = constraints(metrics)
    if not limits:
        return scores
    violation = np.zeros(len(valued))
    for m in limits:
        values = np.array([m.sign * float(o.values[m.name]) for o in valued])
        excess = np.maximum(m.sign * float(cast(float, m.threshold)) - values, 0.0)
        violation += excess / (np.ptp(values) or 1.0)
    feasible = np.array([is_feasible(metrics, o) for o in valued])
    progress: np.ndarray = np.where(feasible, scores, -1.0 - violation)
    return progress


def _build_problem(history: History, metrics: Sequence[Metric], settings: Settings,
                   rng: np.random.Generator, max_resource: float | None = None) -> Problem:
    """The modelled observations; `max_resource` given, with their resource levels."""
    space, goals = history.space, optimized(metrics)
    usable = history.observations
    valued = [o for o in usable if has_values(metrics, o)]
    raw = np.array([[m.sign * float(o.values[m.name]) for m in goals] for o in valued])
    keep = subsample(scalarize(raw, np.ones(len(goals)) / len(goals)), settings.max_history, rng)
    valued = [valued[i] for i in keep]
    raw = raw[keep]
    sds = np.array([float(o.stddevs.get(goals[0].name, np.nan)) for o in valued])
    cons = [
        (np.array([m.sign * float(o.values[m.name]) for o in valued]),
         m.sign * float(cast(float, m.threshold)))
        for m in constraints(metrics)
    ]
    failed_keep = subsample(np.zeros(len(usable)), settings.max_history, rng)
    usable = [usable[i] for i in failed_keep]
    ok = np.array([has_values(metrics, o) for o in usable])
    cube = space.encode([o.assignments for o in valued])
    return Problem(
        space=space,
        cube=cube,
        features=space.features(cube),
        goals=raw,
        stddevs=sds if len(goals) == 1 and np.isfinite(sds).any() else None,
        feasible=np.array([is_feasible(metrics, o) for o in valued]),
        constraint_values=cons,
        failure_features=space.features_of([o.assignments for o in usable]),
        succeeded=ok,
        failed_features=space.features_of([o.assignments for o in usable if o.failed]),
        pending=space.features_of(history.pending),
        pending_cube=space.encode(history.pending),
        ordered=space.ordered_features(),
        finished=np.array([max_resource is None or not o.stopped for o in valued], dtype=bool),
        levels=None if max_resource is None else fidelity.levels(valued, max_resource),
    )


def _batch_loop(problem: Problem, settings: Settings, rng: np.random.Generator,
                batch: Batch) -> None:
    """One proposal at a time; each is added to the models before the next is chosen."""
    feasibility = _feasibility_models(problem, rng)
    if problem.goals.shape[1] == 2:
        _pareto_loop(problem, feasibility, settings, rng, batch)
        return
    objective = _objective_model(problem, problem.goals[:, 0], rng)
    chosen: list[np.ndarray] = []
    numbers = range(problem.started, problem.started + batch.k)  # this batch's proposals
    quadratic = None
    if any(_local_slot(problem, settings, n) for n in numbers):
        quadratic = _quadratic(problem, objective[0])
    while not batch.full:
        number = problem.started + len(chosen)
        row = quadratic if _local_slot(problem, settings, number) else None
        if row is not None and batch.offer(row[None, :], "quadratic", limit=1):
            chosen.append(problem.space.features(row[None, :]))
            continue
        extra = np.vstack([problem.pending, *chosen]) if chosen else problem.pending
        centres = _centres(problem, objective[1])
        box = None
        if _in_trust_region(settings, number, problem.bandwidth) and not problem.region.converged:
            box = _trust_box(problem, objective[0], centres[0])
        rows = _search(problem, objective, feasibility, extra, settings, rng, centres, box)
        accepted = batch.offer(rows, "bayes", limit=1)
        if not accepted:
            return
        chosen.append(problem.space.features(rows[accepted[0] : accepted[0] + 1]))


def _pareto_loop(problem: Problem, feasibility: list[Limit], settings: Settings,
                 rng: np.random.Generator, batch: Batch) -> None:
    """Two optimized metrics: a GP each, and every proposal the optimistic hypervolume
    improvement's maximum (see `optimizer.pareto`) over the whole space. Pending and
    already-chosen points join the models and the front at their predicted means."""
    fitted = [_objective_model(problem, problem.goals[:, j], rng) for j in range(2)]
    observed = np.column_stack([y for _, y in fitted])
    feasible = observed[problem.feasible & problem.finished]
    ref = pareto.reference(pareto.front(feasible), observed) if len(feasible) else None
    chosen: list[np.ndarray] = []
    while not batch.full:
        extra = np.vstack([problem.pending, *chosen]) if chosen else problem.pending
        feas = _believed_feasibility(feasibility, extra)
        acq = Acquisition(None, feas)
        if ref is not None:
            fantasies = [_fantasy(model, extra, y, settings.pending) for model, y in fitted]
            models = [model.condition(extra, f) for (model, _), f in zip(fitted, fantasies,
                                                                         strict=True)]
            known = pareto.front(np.vstack([feasible, np.column_stack(fantasies)]))
            acq = Acquisition(pareto.Hypervolume(models, known, ref, settings.kappa), feas)
        weights = rng.dirichlet(np.ones(2))  # local candidates around a random part of the front
        centres = _centres(problem, scalarize(problem.goals, weights))
        rows = search.maximize(problem.space, acq, rng, centres, settings.candidates)
        accepted = batch.offer(rows, "bayes", limit=1)
        if not accepted:
            return
        chosen.append(problem.space.features(rows[accepted[0] : accepted[0] + 1]))


def _search(problem: Problem, objective: Fitted, feasibility: list[Limit], extra: np.ndarray,
            settings: Settings, rng: np.random.Generator, centres: np.ndarray,
            box: search.Box | None) -> np.ndarray:
    """Candidate rows, best first. `auto` is the confidence bound, except that a lone
    proposal which would repeat an observation goes to expected improvement (`_repeats`).
    Before any observation is feasible there is no bound, only feasibility, and nothing to
    hand over."""
    kind = "lcb" if settings.acquisition == "auto" else settings.acquisition
    acq = _acquisition(problem, objective, feasibility, extra, settings, kind)
    rows = search.maximize(problem.space, acq, rng, centres, settings.candidates, box)
    if settings.acquisition != "auto" or len(extra) or acq.objective is None:
        return rows
    if not _repeats(problem, objective[0], rows[0]):
        return rows
    acq = _acquisition(problem, objective, feasibility, extra, settings, "ei")
    return search.maximize(problem.space, acq, rng, centres, settings.candidates, box)


def _quadratic(problem: Problem, model: GaussianProcess) -> np.ndarray | None:
    """The Newton step of a quadratic fitted around the incumbent (see `optimizer.local`),
    where one can be trusted: an objective that looks deterministic (no reported stddev,
    the GP's fitted noise near its floor). It depends only on the observations, so it is
    fitted once per call, and only when one of the batch's slots can take it."""
    if problem.stddevs is not None:
        return None
    if model.hyper.noise > local.NOISE_LIMIT:  # a noisy metric: least squares would chase noise
        return None
    feasible = problem.feasible & problem.finished
    taken = np.vstack([problem.cube, problem.pending_cube])
    return local.step(problem.cube[feasible], problem.goals[feasible, 0],
                      problem.space.continuous_mask(), _cube_scales(problem, model), taken)


def _local_slot(problem: Problem, settings: Settings, number: int) -> bool:
    """One proposal in `local_every` is the quadratic's step, never one of the proposals
    that search the whole space. `local.step` refuses a repeat of an open or observed
    point; offered again within one batch, the same step is refused by the batch. Either
    way the slot goes to the acquisition."""
    if not settings.local_every or number % settings.local_every:
        return False
    return not settings.trust_region or _in_trust_region(settings, number, problem.bandwidth)


def _in_trust_region(settings: Settings, number: int, bandwidth: int = 1) -> bool:
    """One proposal in `global_every` rounds searches the whole space, so that a trust
    region stuck in a local optimum, or one replayed from an imported history, can still be
    left. A round is max(bandwidth, ROUND) proposals, so that a large batch does not spend a
    share of every batch exploring."""
    if not settings.trust_region:
        return False
    period = settings.global_every * max(bandwidth, ROUND)
    return settings.global_every == 0 or number % period != 0


def _trust_box(problem: Problem, model: GaussianProcess, centre: np.ndarray) -> search.Box:
    """The trust region around the incumbent, shaped by the objective's length scales."""
    ordered = np.array([p.type != "categorical" for p in problem.space.parameters])
    return trust.box(centre, _cube_scales(problem, model), problem.region.length, ordered)


def _cube_scales(problem: Problem, model: GaussianProcess) -> np.ndarray:
    """The model's length scale for each design-cube coordinate (a categorical's first
    one-hot column stands for it)."""
    scales: np.ndarray = model.hyper.length_scales[search.feature_columns(problem.space)]
    return scales


def _objective_model(problem: Problem, raw: np.ndarray, rng: np.random.Generator) -> Fitted:
    """GP on the standardized objective, with per-point noise when stddevs were reported.

    Values worse than the median are compressed (`compress_tail`) so that huge losses do not
    take the GP's amplitude; reported noise keeps values raw. Failed points enter at the
    worst observed value, so that the acquisition cannot extrapolate into a failed region.
    """
    n, failed = len(raw), len(problem.failed_features)
    raw = np.concatenate([raw, np.full(failed, raw.min())])
    stddevs = None if problem.stddevs is None else np.append(problem.stddevs, [0.0] * failed)
    if stddevs is None:
        raw = compress_tail(raw)
    target = Target.standardize(raw, stddevs)
    features = np.vstack([problem.features, problem.failed_features])
    if problem.levels is None:
        return fit_model(features, target, rng, prior=problem.ordered), target.y[:n]
    levels = np.concatenate([problem.levels, np.full(failed, fidelity.FULL)])
    return fidelity.fit_at_full(features, levels, target, rng, problem.ordered), target.y[:n]


def _feasibility_models(problem: Problem, rng: np.random.Generator) -> list[Limit]:
    """One GP per thresholded metric, plus one on success/failure when anything failed.

    With fidelity, a constraint's GP takes the resource level like the objective's, since a
    stopped run's constraint values are as partial as its objective value; the failure model
    does not, since a stopped run did not fail."""
    models = []
    for values, threshold in problem.constraint_values:
        target = Target.standardize(values)
        if problem.levels is None:
            model = fit_model(problem.features, target, rng, prior=problem.ordered)
        else:
            model = fidelity.fit_at_full(problem.features, problem.levels, target, rng,
                                         problem.ordered)
        models.append((model, target.level(threshold)))
    if not problem.succeeded.all():
        target = Target.standardize(np.where(problem.succeeded, 1.0, -1.0))
        model = fit_model(problem.failure_features, target, rng, SMOOTH, problem.ordered)
        models.append((model, target.level(0.0)))
    return models


def _acquisition(
    problem: Problem, objective: Fitted, feasibility: list[Limit], extra: np.ndarray,
    settings: Settings, kind: str,
) -> Acquisition:
    """Models conditioned on pending and already-chosen points, then the objective's
    acquisition (`kind`: ei or lcb) times feasibility.

    `auto` is the confidence bound mean + kappa x std of the believer model (GP-BUCB,
    Desautels et al., 2014). Believer-EI raises the incumbent to the best fantasy, which
    empties the neighbourhood of the optimum as soon as one pending point sits there; the
    bound keeps exploiting it and still spreads the batch through the shrunken variance."""
    model, y = objective
    if settings.pending == "penalize" and len(extra):
        return _penalized(problem, model, y, feasibility, extra, settings, kind)
    fantasy_y = _fantasy(model, extra, y, settings.pending)
    fantasized = model.condition(extra, fantasy_y)
    feas = _believed_feasibility(feasibility, extra)
    incumbent = _incumbent(problem, model, y)
    if incumbent is None:
        return Acquisition(None, feas)
    best = incumbent
    if kind == "ei" and settings.pending == "believer" and len(extra):
        best = max(best, float(fantasy_y.max()))
    softness = FACTORED if feas else 1.0
    return Acquisition(Objective(fantasized, best, kind, settings.xi, settings.kappa, softness),
                       feas)


def _believed_feasibility(feasibility: list[Limit], extra: np.ndarray) -> list[Feasibility]:
    """Each feasibility model with the pending and already-chosen points added at their
    predicted values (kriging believer), as a factor of the acquisition."""
    factors = []
    for gp, threshold in feasibility:
        mean = gp.predict(extra)[0] if len(extra) else np.empty(0)
        factors.append(Feasibility(gp.condition(extra, mean), threshold))
    return factors


def _repeats(problem: Problem, model: GaussianProcess, row: np.ndarray) -> bool:
    """Whether a lone proposal of the confidence bound (`auto`, no pending points) is, in
    the model's eyes, an observation again: closer than REPEAT length scales. Where the model
    sees nothing above the best observation, the bound's maximum is that observation itself;
    expected improvement, zero at a known point, then takes the proposal. Otherwise the
    bound keeps it: alone, it converges faster than expected improvement."""
    return local.repeats(row, problem.cube, problem.space.continuous_mask(),
                         _cube_scales(problem, model), REPEAT)


def _penalized(
    problem: Problem, model: GaussianProcess, y: np.ndarray, feasibility: list[Limit],
    extra: np.ndarray, settings: Settings, kind: str,
) -> Acquisition:
    """The acquisition of the unconditioned objective times a local penalty per pending
    point (opt-in: `pending: penalize`).

    The Lipschitz constant is the largest gradient of the posterior mean (in length-scale
    units) at the best points and the pending ones.
    """
    feas = _believed_feasibility(feasibility, extra)
    incumbent = _incumbent(problem, model, y)
    if incumbent is None:
        return Acquisition(None, feas)
    mean, std = model.predict(extra)
    top = model.points[np.argsort(-model.y)[:CENTRES]]
    _, _, dmean, _ = model.predict_grad(np.vstack([top, extra]))
    scales = model.scales
    lipschitz = max(float(np.sqrt(np.sum((dmean * scales) ** 2, axis=1)).max()), 1e-7)
    ceiling = float(y[problem.finished].max()) if problem.finished.any() else float(y.max())
    penalty = Penalty(extra, mean, np.maximum(std, 1e-9), ceiling, lipschitz, scales)
    objective = Objective(model, incumbent, kind, settings.xi, settings.kappa)
    return Acquisition(objective, [*feas, penalty])


def _incumbent(problem: Problem, model: GaussianProcess, y: np.ndarray) -> float | None:
    """The best feasible finished observation's target. With only stopped ones feasible,
    the best of their predicted full-resource means; with none, nothing (no objective)."""
    finished = problem.feasible & problem.finished
    if finished.any():
        return float(y[finished].max())
    if not problem.feasible.any():
        return None
    return float(model.predict(problem.features[problem.feasible])[0].max())


def _fantasy(model: GaussianProcess, extra: np.ndarray, y: np.ndarray, mode: str) -> np.ndarray:
    if not len(extra):
        return np.empty(0)
    if mode == "liar":
        return np.full(len(extra), float(y.min()))
    mean: np.ndarray = model.predict(extra)[0]
    return mean


def _centres(problem: Problem, y: np.ndarray) -> np.ndarray:
    """Best feasible observed points, where the local candidates are drawn: finished ones,
    unless only stopped ones are feasible."""
    ranked = np.argsort(-y)
    order = ([i for i in ranked if problem.feasible[i] and problem.finished[i]]
             or [i for i in ranked if problem.feasible[i]] or list(ranked))
    return problem.cube[order[:CENTRES]]
