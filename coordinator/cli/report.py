"""CLI command `coordinator report`: the experiment's figures and tables as one HTML file."""

from __future__ import annotations

from pathlib import Path

import click

from coordinator.cli.context import Context, pass_context
from coordinator.dashboard.report import write_report


@click.command()
@click.argument("experiment_id")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="HTML file to write (default: report-<id>.html unless --png alone).")
@click.option("--png", "png_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also write every figure as a PNG into this directory.")
@pass_context
def report(ctx: Context, experiment_id: str, output: Path | None, png_dir: Path | None) -> None:
    """One self-contained HTML report (inline SVG figures, no scripts), and PNGs."""
    if output is None and png_dir is None:
        output = Path(f"report-{experiment_id}.html")
    for path in write_report(ctx.service, experiment_id, output, png_dir):
        click.echo(f"wrote {path}")
