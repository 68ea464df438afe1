"""Progress of a run: a live bar on a terminal, one plain line per change when piped."""

from __future__ import annotations

import sys
import time
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


def describe(status: Status) -> str:
    best = "-" if status.best_value is None else f"{status.best_value:.6g}"
    return (f"observations {status.observations}/{status.budget}  best {best}  "
            f"open {status.open} (running {status.running})  failed {status.failed}  "
            f"busy workers {len(status.workers)}")


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
                                     f"{status.failed} | busy workers {len(status.workers)}")

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
