"""The `coordinator` command line. User errors become one line on stderr and exit code 1."""

from __future__ import annotations

import sys

import click

from coordinator.cli import embedded, experiments, queue, report, serve
from coordinator.cli.context import Context
from coordinator.errors import CeleriacError
from coordinator.infra.connection import ENV_URL
from coordinator.infra.outage import explain


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--redis-url", envvar=ENV_URL, help="Redis URL (default: $CELERIAC_REDIS_URL, "
              "else the embedded local server).")
@click.pass_context
def cli(ctx: click.Context, redis_url: str | None) -> None:
    """Celeriac: hyperparameter optimization on Celery and Redis."""
    if ctx.obj is None:  # tests may pass a ready Context
        ctx.obj = Context(redis_url)


cli.add_command(experiments.create)
cli.add_command(experiments.run)
cli.add_command(experiments.status)
cli.add_command(experiments.best)
cli.add_command(experiments.suggestions_command)
cli.add_command(experiments.export)
cli.add_command(queue.enqueue)
cli.add_command(queue.queue)
cli.add_command(experiments.list_command)
cli.add_command(experiments.delete)
cli.add_command(experiments.update)
cli.add_command(experiments.sweep)
cli.add_command(serve.serve)
cli.add_command(serve.token)
cli.add_command(report.report)
cli.add_command(embedded.redis_group)


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
    except Exception as exc:  # a Redis outage or a full Redis is the user's to fix: one line
        trouble = explain(exc)
        if trouble is None:
            raise
        click.echo(f"error: {trouble}", err=True)
        sys.exit(1)
