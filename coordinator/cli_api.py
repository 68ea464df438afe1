"""CLI commands for the HTTP API (`coordinator serve`, `coordinator token ...`)."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Adds the API commands to the `coordinator` group."""
