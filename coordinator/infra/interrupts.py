"""Ctrl-C held back across a step that must not be cut in half.

`coordinator run` stops on KeyboardInterrupt wherever the loop is. Between taking a suggestion
(it is open from then on) and publishing its task, an interrupt left an open suggestion that no
worker would ever evaluate: it waited for the next run's sweeper, and "stopped dispatching"
did not leave the in-flight evaluations to finish by themselves. Inside `deferred()` a first
Ctrl-C is remembered and raised when the step is done; a second one interrupts at once (a
publish can retry for minutes while Redis is away).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def deferred() -> Iterator[None]:
    """Runs the block with a first SIGINT postponed to its end (main thread only: signal
    handlers can be set nowhere else, and elsewhere no KeyboardInterrupt arrives)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        if received:
            raise KeyboardInterrupt
        received.append(signum)

    previous = signal.signal(signal.SIGINT, hold)
    try:
        yield
    finally:  # None: a handler set outside Python, which cannot be put back; the default can
        signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)
    if received:
        if callable(previous):
            previous(signal.SIGINT, None)
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt
