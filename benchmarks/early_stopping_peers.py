"""The peers of benchmarks/early_stopping.py: Optuna TPE with its pruners, 4 processes sharing
one JournalStorage on Redis, and Ray Tune's ASHAScheduler with 4 concurrent trials. Both train
with the trainers of benchmarks/early_stopping_tasks.py and record every epoch's report as
(wall time, trial, epoch, loss), the form every contender's results take.
"""

from __future__ import annotations

import contextlib
import io
import logging
import multiprocessing
import os
import tempfile
import time
import warnings
from multiprocessing.pool import Pool
from typing import Any

from benchmarks.early_stopping_tasks import TASKS, Task

Event = tuple[float, str, int, float]  # (epoch seconds, trial, epoch, validation loss)
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
PROCESSES = 4


def _one_thread() -> None:
    for var in THREAD_VARS:
        os.environ[var] = "1"


def optuna_pool() -> Pool:
    """Four long-lived processes (spawned: nothing of the parent's threads or sockets)."""
    return multiprocessing.get_context("spawn").Pool(PROCESSES, initializer=_one_thread)


def run_optuna(pool: Pool, url: str, task: Task, pruner: str, seed: int
               ) -> tuple[list[Event], float]:
    """One study of `task.budget` trials by 4 processes; its reports and wall seconds."""
    name = f"es-{task.name}-{pruner}-{seed}-{time.time_ns()}"
    jobs = [(url, task.name, name, pruner, seed, i) for i in range(PROCESSES)]
    start = time.time()
    events = [e for part in pool.starmap(_optuna_worker, jobs) for e in part]
    return events, start


def _optuna_worker(url: str, task_name: str, study_name: str, pruner: str, seed: int,
                   index: int) -> list[Event]:
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalRedisBackend
    from optuna.study import MaxTrialsCallback

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    task = TASKS[task_name]
    storage = JournalStorage(JournalRedisBackend(url, prefix=study_name))
    chosen: optuna.pruners.BasePruner = (
        optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
        if pruner == "sha" else
        optuna.pruners.HyperbandPruner(min_resource=1, max_resource=task.max_epochs,
                                       reduction_factor=3))
    sampler = optuna.samplers.TPESampler(multivariate=True, constant_liar=True,
                                         seed=seed * 100 + index)
    study = optuna.create_study(study_name=study_name, storage=storage, sampler=sampler,
                                pruner=chosen, direction="minimize", load_if_exists=True)
    events: list[Event] = []

    def objective(trial: optuna.Trial) -> float:
        if trial.number >= task.budget:  # two processes raced past the budget: no run
            study.stop()
            raise optuna.TrialPruned()
        trainer = task.trainer(_optuna_params(trial, task))
        loss = float("nan")
        for epoch in range(1, task.max_epochs + 1):
            loss = trainer.epoch()
            events.append((time.time(), f"t{trial.number}", epoch, loss))
            trial.report(loss, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return loss

    study.optimize(objective, callbacks=[MaxTrialsCallback(task.budget, states=None)])
    return events


def _optuna_params(trial: Any, task: Task) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for spec in task.parameters:
        low, high = spec["bounds"]["min"], spec["bounds"]["max"]
        log = spec.get("transformation") == "log"
        if spec["type"] == "int":
            params[spec["name"]] = trial.suggest_int(spec["name"], low, high, log=log)
        else:
            params[spec["name"]] = trial.suggest_float(spec["name"], low, high, log=log)
    return params


def ray_available() -> str:
    """'' when Ray Tune imports, else why not."""
    try:
        import ray  # noqa: F401
        from ray import tune  # noqa: F401
    except Exception as exc:  # ImportError, or a broken install
        return f"{type(exc).__name__}: {exc}"
    return ""


@contextlib.contextmanager
def ray_session() -> Any:
    """ray.init with 4 CPUs for 4 concurrent trials (on 2 cores), the repo on the workers'
    path; shut down afterwards."""
    import ray

    from benchmarks.harness import ROOT

    _one_thread()
    os.environ["PYTHONPATH"] = str(ROOT)
    logging.getLogger("ray").setLevel(logging.ERROR)
    ray.init(num_cpus=PROCESSES, include_dashboard=False, log_to_driver=False,
             logging_level=logging.ERROR)
    try:
        yield
    finally:
        ray.shutdown()


def _ray_trainable(config: dict[str, Any]) -> None:
    from ray import tune

    from benchmarks.early_stopping_tasks import TASKS as tasks

    task = tasks[config.pop("__task")]
    trainer = task.trainer(config)
    for _ in range(task.max_epochs):
        loss = trainer.epoch()
        tune.report({"loss": loss, "at": time.time()})


def run_ray(task: Task, seed: int) -> tuple[list[Event], float]:
    """Ray Tune: ASHAScheduler (grace 1, reduction factor 3, max_t = max epochs) and its
    default searcher (random, seeded), 4 trials at a time."""
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search import BasicVariantGenerator

    space: dict[str, Any] = {"__task": task.name}
    for spec in task.parameters:
        low, high = spec["bounds"]["min"], spec["bounds"]["max"]
        log = spec.get("transformation") == "log"
        if spec["type"] == "int":
            space[spec["name"]] = (tune.lograndint if log else tune.randint)(low, high + 1)
        else:
            space[spec["name"]] = (tune.loguniform if log else tune.uniform)(low, high)
    tuner = tune.Tuner(
        tune.with_resources(_ray_trainable, {"cpu": 1}), param_space=space,
        tune_config=tune.TuneConfig(
            metric="loss", mode="min", num_samples=task.budget, reuse_actors=True,
            scheduler=ASHAScheduler(max_t=task.max_epochs, grace_period=1, reduction_factor=3),
            search_alg=BasicVariantGenerator(random_state=seed)),
        run_config=tune.RunConfig(storage_path=tempfile.mkdtemp(prefix="celeriac-ray-"),
                                  verbose=0))
    start = time.time()
    with contextlib.redirect_stdout(io.StringIO()):
        results: Any = tuner.fit()
    events: list[Event] = []
    for i, result in enumerate(results):
        frame = result.metrics_dataframe
        if frame is None:
            continue
        for at, step, loss in zip(frame["at"], frame["training_iteration"], frame["loss"],
                                  strict=True):
            events.append((float(at), f"r{i}", int(step), float(loss)))
    return events, start
