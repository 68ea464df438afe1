"""CLI commands for the HTTP API (`coordinator serve`, `coordinator token ...`)."""

from __future__ import annotations

import time

import click

from coordinator.cli.context import Context, pass_context
from coordinator.engine.backlog import KeeperProcess


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to bind; 0.0.0.0 exposes the API to the network.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option("--no-refill", is_flag=True,
              help="Do not refill suggestion backlogs from this server.")
@click.option("--log-level", default="warning", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@click.option("--rate-limit", default=None, metavar="N/s",
              help="Requests per second per API token, shared by every server on this "
                   "Redis; 'off' disables. [default: $CELERIAC_API_RATE_LIMIT or 200/s]")
@click.option("--burst", type=click.IntRange(1), default=None,
              help="Requests a token may send back to back before the rate applies. "
                   "[default: $CELERIAC_API_BURST or 2000]")
@click.option("--max-body-bytes", type=click.IntRange(1024), default=None,
              help="Larger request bodies get 413. "
                   "[default: $CELERIAC_API_MAX_BODY_BYTES or 1048576]")
@pass_context
def serve(ctx: Context, host: str, port: int, no_refill: bool, log_level: str,
          rate_limit: str | None, burst: int | None, max_body_bytes: int | None) -> None:
    """Serve the SigOpt v1-compatible REST API (point SIGOPT_API_URL at it)."""
    # lazy: uvicorn and Starlette (the API) would slow the start of every other command
    import uvicorn  # noqa: PLC0415

    from coordinator.api import create_app  # noqa: PLC0415
    from coordinator.api.limits import ApiLimits  # noqa: PLC0415

    limits = ApiLimits.from_env(rate_limit, burst, max_body_bytes)
    # connects (or starts the embedded Redis) and checks it first; while Redis is away later,
    # requests fail fast with 503 instead of each retrying for half a minute
    service = ctx.waiting_service()
    app = create_app(service, refiller=None if no_refill else KeeperProcess(ctx.url),
                     limits=limits)
    rate = f"{limits.rate:g}/s per token, burst {limits.burst}" if limits.rate else "off"
    click.echo(f"serving the SigOpt-compatible API on http://{host}:{port} "
               f"(SIGOPT_API_URL=http://{host}:{port}); rate limit {rate}, "
               f"bodies up to {limits.max_body} bytes", err=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False,
                timeout_graceful_shutdown=5)


@click.group()
def token() -> None:
    """API tokens for `coordinator serve` (SIGOPT_API_TOKEN)."""


@token.command(name="create")
@click.option("--client", default="default", show_default=True,
              help="SigOpt client id the token acts for (projects live under it).")
@pass_context
def token_create(ctx: Context, client: str) -> None:
    """Create a token and print it on the last line (it is shown only once)."""
    token_text, record = ctx.service.tokens.create(client)
    click.echo(f"created token {record.id} for client {record.client}", err=True)
    click.echo(token_text)


@token.command(name="list")
@pass_context
def token_list(ctx: Context) -> None:
    """Every token's id, client, creation time and state (never the token itself)."""
    for record in ctx.service.tokens.all():
        created = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(record.created))
        state = "revoked" if record.revoked else "active"
        click.echo(f"{record.id}\t{record.client}\t{created}\t{state}")


@token.command(name="revoke")
@click.argument("token_id")
@pass_context
def token_revoke(ctx: Context, token_id: str) -> None:
    """Revoke the token with TOKEN_ID (from `coordinator token list`)."""
    record = ctx.service.tokens.revoke(token_id)
    click.echo(f"revoked token {record.id} of client {record.client}")
