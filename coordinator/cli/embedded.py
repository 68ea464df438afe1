"""CLI commands for the embedded local Redis server (`coordinator redis ...`)."""

from __future__ import annotations

import click

from coordinator.cli.context import Context, pass_context
from coordinator.infra.connection import redact, resolve_url
from coordinator.infra.embedded import default_embedded


@click.group(name="redis")
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
@pass_context
def redis_url(ctx: Context) -> None:
    """Print the Redis URL commands and workers use (starting the embedded server if needed)."""
    click.echo(redact(resolve_url(ctx.explicit_url)))
