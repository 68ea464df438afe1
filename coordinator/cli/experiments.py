"""Commands on experiments: create, run, status, best, suggestions, export, list, delete,
sweep."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import click

from coordinator.cli.context import Context, pass_context
from coordinator.cli.progress import ProgressView, describe, running_steps
from coordinator.errors import InvalidInput
from coordinator.infra.connection import resolve_broker_url
from coordinator.infra.embedded import data_home
from coordinator.infra.local_workers import LocalWorkers
from coordinator.infra.outage import RedisWait
from coordinator.infra.timing import Timing
from coordinator.runloop.sweeper import Sweeper
from coordinator.service import views
from coordinator.service.experiments import Service
from coordinator.service.preflight import evaluation_warnings
from coordinator.service.warm_start import apply_warm_start
from coordinator.spec.config import load_config_file
from coordinator.spec.update import validate_update
from coordinator.state.records import Experiment, ObservationRecord


@click.command()
@click.argument("config", type=click.Path(dir_okay=False))
@pass_context
def create(ctx: Context, config: str) -> None:
    """Store the experiment in CONFIG (YAML) and print its id on the last line."""
    experiment = _create_from(ctx.service, config, resume=False)
    click.echo(experiment.id)


def _create_from(service: Service, config: str, resume: bool) -> Experiment:
    """Creates the experiment of a config file, after the checks this machine can make of its
    evaluation (warnings: workers may differ). An experiment with the very same config is
    named, and reused with `resume`."""
    spec = load_config_file(config)
    for line in evaluation_warnings(spec.evaluation):
        click.echo(f"warning: {line}", err=True)
    twins = [e for e in service.experiments() if e.spec.to_json() == spec.to_json()]
    if twins and resume:
        click.echo(f"continuing experiment {twins[-1].id}: {spec.name} (same config)", err=True)
        return twins[-1]
    experiment = service.create_experiment(spec)
    click.echo(f"created experiment {experiment.id}: {spec.name}", err=True)
    applied = apply_warm_start(service, experiment, spec.warm_start)
    if applied.queued or applied.imported:
        click.echo(f"warm start: {applied.queued} point(s) queued, {applied.imported} "
                   f"observation(s) imported", err=True)
    if twins:
        ids = ", ".join(e.id for e in twins[-3:])
        click.echo(f"note: experiment{'s' if len(twins) > 1 else ''} {ids} already "
                   f"{'have' if len(twins) > 1 else 'has'} this same config; `coordinator run "
                   f"{twins[-1].id}` continues it, and `coordinator run {config} --resume` "
                   f"reuses it instead of creating another", err=True)
    return experiment


@click.command()
@click.argument("target")
@click.option("--workers", type=click.IntRange(0, 256), default=0,
              help="Start N local `celery -A worker worker` processes for this run.")
@click.option("--queue", default="celeriac", show_default=True, help="Celery queue to use.")
@click.option("--resume", is_flag=True,
              help="With a config: continue the latest experiment with this same config "
                   "instead of creating another.")
@pass_context
def run(ctx: Context, target: str, workers: int, queue: str, resume: bool) -> None:
    """Run experiment TARGET (an id, or a YAML config to create first) to its budget."""
    # lazy: the run loop imports Celery and kombu (a tenth of a second every command would pay)
    from coordinator.runloop.runner import check_runnable  # noqa: PLC0415

    service = ctx.service_when_redis_is_up()
    resolve_broker_url(ctx.url)  # a bad broker URL is refused before anything is created
    if target.endswith((".yml", ".yaml")) or Path(target).is_file():
        experiment = _create_from(service, target, resume)
    else:  # started while Redis is away (a restart in an outage): wait for it, as a run does
        waiting = ctx.waiting_service()
        experiment = RedisWait(ctx.url, on_wait=lambda line: click.echo(line, err=True)).call(
            lambda: waiting.experiment(target))
    check_runnable(experiment)
    status = _run_with_workers(ctx, experiment.id, workers, queue)
    _print_final(service, experiment.id, status)
    if status is not None and (status.paused or status.observations and
                               status.failed == status.observations):
        sys.exit(1)  # every evaluation failed, or so many in a row that the run paused


def _run_with_workers(ctx: Context, experiment_id: str, workers: int, queue: str
                      ) -> views.Status | None:
    # lazy: Celery and kombu, as in run()
    from coordinator.runloop.dispatch import TaskSender  # noqa: PLC0415
    from coordinator.runloop.runner import Runner  # noqa: PLC0415

    sender = TaskSender(ctx.url, queue)
    local = LocalWorkers(workers, ctx.url, data_home() / "logs", queue) if workers else None
    view = ProgressView()
    stop = threading.Event()
    wait = RedisWait(ctx.url, on_wait=view.notice)
    try:
        if local:
            local.start()
            click.echo(f"started {workers} local worker(s); logs in {local.log_dir}")
        return Runner(ctx.waiting_service(), sender, Timing.from_env(), wait).run(
            experiment_id, stop, view)
    except KeyboardInterrupt:
        stop.set()
        view.close()
        click.echo(f"\nstopped dispatching; `coordinator run {experiment_id}` continues",
                   err=True)
        return None
    finally:
        view.close()
        if local:
            local.stop()
        sender.close()


def _print_final(service: Service, experiment_id: str, status: views.Status | None) -> None:
    if status is None:
        return
    experiment = service.experiment(experiment_id)
    stopped = f", {status.stopped} stopped early" if status.stopped else ""
    by_resource = status.resource_exhausted and not status.done
    verb = "paused" if status.paused else "ended" if by_resource else "finished"
    click.echo(f"experiment {experiment_id} {verb}: "
               f"{status.observations} observations, {status.failed} failed{stopped}")
    if experiment.spec.space_smaller_than_budget and status.done and not status.paused:
        click.echo(f"the search space has {experiment.spec.reachable_budget} distinct points, "
                   f"fewer than the budget of {status.budget}: every one is observed, so the "
                   f"experiment is complete")
    if by_resource:
        assert status.resource_budget is not None
        click.echo(f"the resource budget ended the run: {status.resource_spent:g} of "
                   f"{status.resource_budget:g} {status.resource or 'step'} used, so no more "
                   f"runs were started ({status.observations} of the budget of "
                   f"{status.budget} observations)")
    _print_best(service, views.best(service, experiment), status)
    if status.paused:
        click.echo(status.paused)


def _print_failures(service: Service, experiment_id: str) -> None:
    """The most frequent failure reasons, from the running summary (read just before)."""
    for reason, count in service.store.failure_reasons(experiment_id):
        click.echo(f"  {count} failed: {reason}")


def _print_best(service: Service, best: list[ObservationRecord], status: views.Status
                ) -> None:
    failed, observed, stopped = status.failed, status.observations, status.stopped
    if failed:
        click.echo(f"{failed} of {observed} observations failed; the most frequent reasons:")
        _print_failures(service, status.id)
    if observed and failed == observed:
        click.echo("no observation succeeded: fix the evaluation (the reasons above), then "
                   "run again")
        return
    if not best:
        click.echo("no observation meets every threshold yet" + (
            f" ({stopped} stopped early do not count: their values are partial)"
            if stopped else ""))
        return
    for observation in best:
        values = ", ".join(f"{v.name}={v.value:.6g}" for v in observation.values)
        click.echo(f"best: {values}  (observation {observation.label} of this experiment, "
                   f"id {observation.id})")
        click.echo("  assignments: " + json.dumps(observation.assignments))


@click.command()
@click.argument("experiment_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--watch", is_flag=True, help="Follow the experiment live until it finishes.")
@pass_context
def status(ctx: Context, experiment_id: str, as_json: bool, watch: bool) -> None:
    """Progress of an experiment."""
    current = views.status(ctx.service, experiment_id)
    if watch:
        current = _watch(ctx.service, current)
    steps = running_steps(ctx.service.open_suggestions(current.id))
    if as_json:
        click.echo(json.dumps({**current.to_dict(), "running_steps": steps}, indent=2))
    else:
        shown = steps if current.resource is not None or any(s is not None for s in steps) \
            else []
        click.echo(f"experiment {current.id} ({current.name}) {current.state}: "
                   f"{describe(current, shown)}")
        if current.failed:
            _print_failures(ctx.service, current.id)


def _watch(service: Service, current: views.Status) -> views.Status:
    """Shows the progress once a second until the experiment is done or ^C."""
    view = ProgressView()
    try:
        while not current.done:
            view(current)
            time.sleep(1)
            current = views.status(service, current.id)
        view(current)
    except KeyboardInterrupt:
        pass
    finally:
        view.close()
    return current


@click.command()
@click.argument("experiment_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
def best(ctx: Context, experiment_id: str, as_json: bool) -> None:
    """Best observation (or the Pareto front), only observations meeting every threshold."""
    current = views.status(ctx.service, experiment_id)  # the running summary: a few reads
    found = views.best(ctx.service, ctx.service.experiment(experiment_id))
    if as_json:
        click.echo(json.dumps([json.loads(o.to_json()) for o in found], indent=2))
    else:
        _print_best(ctx.service, found, current)


@click.command(name="suggestions")
@click.argument("words", nargs=-1, required=True)
@click.option("--state", type=click.Choice(["open", "closed", "all"]), default=None)
@pass_context
def suggestions_command(ctx: Context, words: tuple[str, ...], state: str | None) -> None:
    """List suggestions: `suggestions ID [--state open]`; delete open ones:
    `suggestions delete ID --state open`."""
    if words[0] == "delete":
        if len(words) != 2 or state != "open":
            raise InvalidInput("usage: coordinator suggestions delete ID --state open")
        count = ctx.service.delete_open_suggestions(words[1])
        click.echo(f"deleted {count} open suggestion(s)")
        return
    if len(words) != 1:
        raise InvalidInput("usage: coordinator suggestions ID [--state open|closed|all]")
    for s in ctx.service.suggestions(words[0], None if state == "all" else state):
        click.echo(f"{s.id}\t#{s.number}\t{s.state}\tattempts={s.attempts}\t{s.owner or '-'}\t"
                   f"{json.dumps(s.assignments)}")


@click.command()
@click.argument("experiment_id")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="File (default: stdout).")
@pass_context
def export(ctx: Context, experiment_id: str, fmt: str, output: str | None) -> None:
    """Every observation: ids, assignments, metric values, failure reason, metadata."""
    pieces = views.export_stream(ctx.service, experiment_id, fmt)
    if output:
        with Path(output).open("w") as handle:
            for piece in pieces:
                handle.write(piece)
    else:
        for piece in pieces:
            click.echo(piece, nl=False)


@click.command(name="list")
@pass_context
def list_command(ctx: Context) -> None:
    """Every experiment with its progress."""
    for experiment in ctx.service.experiments():
        counts = ctx.service.counts(experiment.id)
        click.echo(f"{experiment.id}\t{experiment.spec.name}\t{counts.observations}/"
                   f"{experiment.spec.budget or '-'}\topen {counts.open}")


@click.command()
@click.argument("experiment_id")
@pass_context
def delete(ctx: Context, experiment_id: str) -> None:
    """Delete (archive) an experiment: its open suggestions are deleted, observations kept;
    `coordinator update ID --unarchive` makes it active again."""
    ctx.service.delete_experiment(experiment_id)
    click.echo(f"deleted experiment {experiment_id}")


@click.command()
@click.argument("experiment_id")
@click.option("--budget", type=int, default=None, help="New observation budget (extend or "
              "shrink).")
@click.option("--parallel-bandwidth", type=int, default=None,
              help="New number of suggestions in flight at once.")
@click.option("--name", default=None, help="New name.")
@click.option("--unarchive", is_flag=True, help="Make a deleted experiment active again.")
@pass_context
def update(ctx: Context, experiment_id: str, budget: int | None,
           parallel_bandwidth: int | None, name: str | None, unarchive: bool) -> None:
    """Change an experiment's budget, bandwidth or name; a running `coordinator run` follows
    at once."""
    body: dict[str, object] = {k: v for k, v in (
        ("budget", budget), ("parallel_bandwidth", parallel_bandwidth), ("name", name),
        ("state", "active" if unarchive else None)) if v is not None}
    if not body:
        raise click.UsageError("give at least one of --budget, --parallel-bandwidth, --name, "
                               "--unarchive")
    experiment = ctx.service.update_experiment(experiment_id, validate_update(body, "update"))
    spec = experiment.spec
    click.echo(f"experiment {experiment.id} ({spec.name}): budget {spec.budget or '-'}, "
               f"parallel bandwidth {spec.parallel_bandwidth}, {experiment.state.sigopt}")


@click.command()
@click.argument("experiment_id")
@click.option("--forever", is_flag=True, help="Keep sweeping until interrupted.")
@click.option("--queue", default="celeriac", show_default=True)
@pass_context
def sweep(ctx: Context, experiment_id: str, forever: bool, queue: str) -> None:
    """Re-send suggestions whose lease expired; fail them after max_attempts."""
    # lazy: Celery and kombu, as in run()
    from coordinator.runloop.dispatch import TaskSender  # noqa: PLC0415

    experiment = ctx.service.experiment(experiment_id)
    sender = TaskSender(ctx.url, queue)
    timing = Timing.from_env()
    sweeper = Sweeper(ctx.service, lambda _e, sid: sender.send(experiment, sid), timing)
    # a sweeper kept running rides out a Redis outage as a run does; a single sweep fails fast
    wait = RedisWait(ctx.url, on_wait=lambda line: click.echo(line, err=True)) if forever \
        else None
    try:
        _sweep_rounds(sweeper, experiment, wait, timing.sweep_interval)
    except KeyboardInterrupt:
        pass
    finally:
        sender.close()


def _sweep_rounds(sweeper: Sweeper, experiment: Experiment, wait: RedisWait | None,
                  interval: float) -> None:
    """One sweep; with `wait` (--forever), one every `interval` through outages."""
    while True:
        result = wait.call(lambda: sweeper.sweep(experiment)) if wait else \
            sweeper.sweep(experiment)
        click.echo(f"requeued {len(result.requeued)}, re-sent {len(result.redispatched)}, "
                   f"failed {len(result.failed)}")
        if wait is None:
            return
        time.sleep(interval)
