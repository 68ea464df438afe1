"""The `coordinator` command line. User errors become one line on stderr and exit code 1."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import click
import redis

from coordinator.cli.report import register as register_report_commands
from coordinator.cli.serve import register as register_api_commands
from coordinator.errors import CeleriacError, InvalidInput, RedisUnavailable
from coordinator.infra.connection import ENV_URL, check, connect, redact, resolve_url
from coordinator.infra.embedded import data_home, default_embedded
from coordinator.infra.timing import Timing
from coordinator.service import views
from coordinator.service.experiments import Service
from coordinator.spec.config import load_config_file
from coordinator.state.store import Store


class Context:
    def __init__(self, redis_url: str | None) -> None:
        self._explicit = redis_url
        self._service: Service | None = None
        self.url = ""

    @property
    def service(self) -> Service:
        if self._service is None:
            self.url = resolve_url(self._explicit)
            check(self.url)
            self._service = Service(Store(connect(self.url)))
        return self._service


pass_context = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--redis-url", envvar=ENV_URL, help="Redis URL (default: $CELERIAC_REDIS_URL, "
              "else the embedded local server).")
@click.pass_context
def cli(ctx: click.Context, redis_url: str | None) -> None:
    """Celeriac: hyperparameter optimization on Celery and Redis."""
    if ctx.obj is None:  # tests may pass a ready Context
        ctx.obj = Context(redis_url)


@cli.command()
@click.argument("config", type=click.Path(dir_okay=False))
@pass_context
def create(ctx: Context, config: str) -> None:
    """Store the experiment in CONFIG (YAML) and print its id on the last line."""
    spec = load_config_file(config)
    experiment = ctx.service.create_experiment(spec)
    click.echo(f"created experiment {experiment.id}: {spec.name}", err=True)
    click.echo(experiment.id)


@cli.command()
@click.argument("target")
@click.option("--workers", type=click.IntRange(0, 256), default=0,
              help="Start N local `celery -A worker worker` processes for this run.")
@click.option("--queue", default="celeriac", show_default=True, help="Celery queue to use.")
@pass_context
def run(ctx: Context, target: str, workers: int, queue: str) -> None:
    """Run experiment TARGET (an id, or a YAML config to create first) to its budget."""
    from coordinator.runloop.runner import check_runnable

    service = ctx.service
    if target.endswith((".yml", ".yaml")) or Path(target).is_file():
        experiment = service.create_experiment(load_config_file(target))
        click.echo(f"created experiment {experiment.id}: {experiment.spec.name}")
    else:
        experiment = service.experiment(target)
    check_runnable(experiment)
    status = _run_with_workers(ctx, experiment.id, workers, queue)
    _print_final(service, experiment.id, status)


def _run_with_workers(ctx: Context, experiment_id: str, workers: int, queue: str
                      ) -> views.Status | None:
    from coordinator.cli.progress import ProgressView
    from coordinator.infra.local_workers import LocalWorkers
    from coordinator.runloop.dispatch import TaskSender
    from coordinator.runloop.runner import Runner

    sender = TaskSender(ctx.url, queue)
    local = LocalWorkers(workers, ctx.url, data_home() / "logs", queue) if workers else None
    view = ProgressView()
    stop = threading.Event()
    try:
        if local:
            local.start()
            click.echo(f"started {workers} local worker(s); logs in {local.log_dir}")
        return Runner(ctx.service, sender, Timing.from_env()).run(experiment_id, stop, view)
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
    click.echo(f"experiment {experiment_id} finished: {status.observations} observations, "
               f"{status.failed} failed")
    _print_best(experiment, views.best(service, experiment))


def _print_best(experiment: Any, best: list[Any]) -> None:
    if not best:
        click.echo("no observation meets every threshold yet")
        return
    for observation in best:
        values = ", ".join(f"{v.name}={v.value:.6g}" for v in observation.values)
        click.echo(f"best: {values}  (observation {observation.id})")
        click.echo("  assignments: " + json.dumps(observation.assignments))


@cli.command()
@click.argument("experiment_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--watch", is_flag=True, help="Follow the experiment live until it finishes.")
@pass_context
def status(ctx: Context, experiment_id: str, as_json: bool, watch: bool) -> None:
    """Progress of an experiment."""
    from coordinator.cli.progress import ProgressView, describe

    current = views.status(ctx.service, experiment_id)
    if watch:
        view = ProgressView()
        try:
            while not current.done:
                view(current)
                time.sleep(1)
                current = views.status(ctx.service, experiment_id)
            view(current)
        except KeyboardInterrupt:
            pass
        finally:
            view.close()
    if as_json:
        click.echo(json.dumps(current.to_dict(), indent=2))
    else:
        click.echo(f"experiment {current.id} ({current.name}) {current.state}: {describe(current)}")


@cli.command()
@click.argument("experiment_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_context
def best(ctx: Context, experiment_id: str, as_json: bool) -> None:
    """Best observation (or the Pareto front), only observations meeting every threshold."""
    experiment = ctx.service.experiment(experiment_id)
    found = views.best(ctx.service, experiment)
    if as_json:
        click.echo(json.dumps([json.loads(o.to_json()) for o in found], indent=2))
    else:
        _print_best(experiment, found)


@cli.command(name="suggestions")
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
        click.echo(f"{s.id}\t{s.state}\tattempts={s.attempts}\t{s.owner or '-'}\t"
                   f"{json.dumps(s.assignments)}")


@cli.command()
@click.argument("experiment_id")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="File (default: stdout).")
@pass_context
def export(ctx: Context, experiment_id: str, fmt: str, output: str | None) -> None:
    """Every observation: ids, assignments, metric values, failure reason, metadata."""
    text = views.export(ctx.service, experiment_id, fmt)
    if output:
        Path(output).write_text(text)
    else:
        click.echo(text, nl=not text.endswith("\n"))


@cli.command(name="list")
@pass_context
def list_command(ctx: Context) -> None:
    """Every experiment with its progress."""
    for experiment in ctx.service.experiments():
        counts = ctx.service.store.counts(experiment.id)
        click.echo(f"{experiment.id}\t{experiment.spec.name}\t{counts.observations}/"
                   f"{experiment.spec.budget or '-'}\topen {counts.open}")


@cli.command()
@click.argument("experiment_id")
@pass_context
def delete(ctx: Context, experiment_id: str) -> None:
    """Delete an experiment (its open suggestions are deleted; observations are kept)."""
    ctx.service.delete_experiment(experiment_id)
    click.echo(f"deleted experiment {experiment_id}")


@cli.command()
@click.argument("experiment_id")
@click.option("--forever", is_flag=True, help="Keep sweeping until interrupted.")
@click.option("--queue", default="celeriac", show_default=True)
@pass_context
def sweep(ctx: Context, experiment_id: str, forever: bool, queue: str) -> None:
    """Re-send suggestions whose lease expired; fail them after max_attempts."""
    from coordinator.runloop.dispatch import TaskSender
    from coordinator.runloop.sweeper import Sweeper

    experiment = ctx.service.experiment(experiment_id)
    sender = TaskSender(ctx.url, queue)
    timing = Timing.from_env()
    sweeper = Sweeper(ctx.service, lambda _e, sid: sender.send(experiment, sid), timing)
    try:
        while True:
            result = sweeper.sweep(experiment)
            click.echo(f"requeued {len(result.requeued)}, re-sent {len(result.redispatched)}, "
                       f"failed {len(result.failed)}")
            if not forever:
                break
            time.sleep(timing.sweep_interval)
    except KeyboardInterrupt:
        pass
    finally:
        sender.close()


@cli.group(name="redis")
def redis_group() -> None:
    """The embedded local Redis server."""


@redis_group.command(name="status")
def redis_status() -> None:
    server = default_embedded()
    state = "running" if server.is_running() else "stopped"
    click.echo(f"embedded redis {state}: {server.url} (data in {server.home})")


@redis_group.command(name="stop")
def redis_stop() -> None:
    stopped = default_embedded().stop()
    click.echo("embedded redis stopped" if stopped else "embedded redis was not running")


@redis_group.command(name="url")
@click.pass_obj
def redis_url(obj: Context) -> None:
    """Print the Redis URL commands and workers use (starting the embedded server if needed)."""
    click.echo(redact(resolve_url(obj._explicit)))


register_api_commands(cli)
register_report_commands(cli)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except CeleriacError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        click.echo(f"error: {RedisUnavailable(f'lost the connection to Redis: {exc}')}", err=True)
        sys.exit(1)
