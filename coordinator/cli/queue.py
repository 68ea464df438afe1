"""`coordinator enqueue` and `coordinator queue`: points to evaluate before the optimizer's."""

from __future__ import annotations

import json
from typing import Any

import click

from coordinator.cli.context import Context, pass_context
from coordinator.errors import InvalidInput
from coordinator.service.queued import enqueue as enqueue_point
from coordinator.service.queued import queued
from coordinator.state.records import Experiment


@click.command()
@click.argument("experiment_id")
@click.argument("assignments", nargs=-1, required=True, metavar="NAME=VALUE...")
@pass_context
def enqueue(ctx: Context, experiment_id: str, assignments: tuple[str, ...]) -> None:
    """Queue a point (every parameter as NAME=VALUE) to be suggested before any new one, by
    `coordinator run` and the API alike; prints the queued suggestion's id."""
    experiment = ctx.service.experiment(experiment_id)
    point = parse_assignments(experiment, assignments)
    click.echo(enqueue_point(ctx.service, experiment, point).id)


@click.command(name="queue")
@click.argument("experiment_id")
@pass_context
def queue(ctx: Context, experiment_id: str) -> None:
    """List the queued suggestions, in the order they will be handed out."""
    experiment = ctx.service.experiment(experiment_id)
    for item in queued(ctx.service, experiment.id):
        click.echo(f"{item.id}\t{json.dumps(item.assignments)}")


def parse_assignments(experiment: Experiment, words: tuple[str, ...]) -> dict[str, Any]:
    """`lr=0.1 layers=3 kind=relu`: numbers for int and double parameters, text otherwise
    (the space's own check then names a bad value or a missing parameter)."""
    kinds = {p.name: p.type for p in experiment.spec.parameters}
    point: dict[str, Any] = {}
    for word in words:
        name, sep, text = word.partition("=")
        if not sep or not name:
            raise InvalidInput(f"{word[:60]!r}: give each parameter as NAME=VALUE")
        if name in point:
            raise InvalidInput(f"{name}: given twice")
        point[name] = _value(text, kinds.get(name))
    return point


def _value(text: str, kind: str | None) -> Any:
    if kind not in ("int", "double"):
        return text
    try:
        number = float(text)
    except ValueError:
        return text  # canonical() names it: must be a number
    return int(number) if kind == "int" and number.is_integer() else number
