"""Progress of a run: a live bar on a terminal, one plain line per change when piped."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Sequence
from typing import IO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from coordinator.service.views import Status
from coordinator.state.records import Suggestion
from coordinator.state.states import SuggestionState

STEPS_SHOWN = 8  # open runs whose step a status line lists; more are summed up as "..."


def describe(status: Status, steps: Sequence[float | None] = ()) -> str:
    """One line of progress; `steps` are the steps the running runs reached, when known."""
    best = "-" if status.best_value is None else f"{status.best_value:.6g}"
    running = f"running {status.running}"
    if steps:
        shown = ", ".join("-" if s is None else f"{s:g}" for s in steps[:STEPS_SHOWN])
        more = ", ..." if len(steps) > STEPS_SHOWN else ""
        running += f" ({status.resource or 'step'} {shown}{more})"
    return (f"observations {status.observations}/{status.budget}  best {best}  "
            f"open {status.open} ({running})  failed {status.failed}{stopping(status)}  "
            f"busy workers {len(status.workers)}")


def stopping(status: Status) -> str:
    """The early-stopping part of a status line: empty unless the experiment stops early or
    some run reported progress, so other experiments' lines stay as they were."""
    if status.resource is None and not status.resource_spent and not status.stopped:
        return ""
    budget = "" if status.resource_budget is None else f"/{status.resource_budget:g}"
    return (f"  stopped {status.stopped}  {status.resource or 'step'} used "
            f"{status.resource_spent:g}{budget}")


def running_steps(suggestions: Iterable[Suggestion]) -> list[float | None]:
    """The step each running suggestion reported last (None: nothing yet), by suggestion."""
    return [s.step for s in suggestions if s.state is SuggestionState.RUNNING]


class ProgressView:
    def __init__(self, stream: IO[str] | None = None, live: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty() if live is None else live
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._started = time.monotonic()
        self._last_line = ""

    def __call__(self, status: Status) -> None:
        if not self.live:
            line = describe(status)
            if line != self._last_line:
                self._last_line = line
                print(f"[{time.monotonic() - self._started:7.1f}s] {line}", file=self.stream,
                      flush=True)
            return
        if self._progress is None:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[detail]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                console=Console(file=self.stream))
            self._task = self._progress.add_task(status.name[:30], total=status.budget,
                                                 detail="")
            self._progress.start()
        best = "-" if status.best_value is None else f"{status.best_value:.4g}"
        assert self._task is not None
        self._progress.update(self._task, completed=status.observations,
                              detail=f"best {best} | open {status.open} | failed "
                                     f"{status.failed}{stopping(status).replace('  ', ' | ')} "
                                     f"| busy workers {len(status.workers)}")

    def notice(self, line: str) -> None:
        """A line about the run rather than the experiment ("waiting for Redis at ..."): in
        place of the details on a live bar, else printed like a status line."""
        if self.live and self._progress is not None and self._task is not None:
            self._progress.update(self._task, detail=line)
            return
        if line != self._last_line:
            self._last_line = line
            print(f"[{time.monotonic() - self._started:7.1f}s] {line}", file=self.stream,
                  flush=True)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
