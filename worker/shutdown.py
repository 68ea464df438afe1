"""Graceful shutdown hands the running suggestion back at once instead of letting its lease
run out.

What Celery does on its own (prefork pool, measured; see docs/reliability.md):
- SIGTERM or Ctrl-C to the main process starts a warm shutdown, which waits for running tasks
  to finish: a 2-hour metric keeps the worker up for 2 hours.
- Pool children ignore SIGINT, and billiard turns SIGTERM into SystemExit raised inside the
  running task. SIGTERM to the whole process group (systemd's default, our own LocalWorkers,
  Ctrl-C's sibling `kill -TERM -<pgid>`) so aborted the metric, and the task recorded the
  SystemExit as a *failed observation*: a graceful stop burnt a suggestion of the budget.

So both processes take part:
- the main process, on `worker_shutting_down`, sends SIGUSR2 to each pool child;
- a pool child, on SIGUSR2 or SIGTERM while it evaluates, marks its leases for hand-back and
  stops the metric (a command through the lease's cancel event, a Python callable by raising
  HandedBack into it); the task then releases the suggestion and returns, the message is
  acked, and the warm shutdown ends. An idle child keeps billiard's behaviour for SIGTERM.
The child's handlers are installed when its first task starts, because billiard resets
SIGTERM after `worker_process_init` has run.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from billiard.process import current_process
from celery import signals

from worker.lease import ACTIVE, HandedBack

log = logging.getLogger(__name__)

HAND_BACK_SIGNAL = signal.SIGUSR2  # main process -> pool child: "hand your suggestion back"

_pool: list[Any] = []  # the worker's TaskPool, remembered at worker_ready
_running = [0]  # tasks in progress in this process


@contextmanager
def task_running() -> Iterator[None]:
    """Marks the process busy, so a SIGTERM between claim and observe does not kill it."""
    _running[0] += 1
    try:
        yield
    finally:
        _running[0] -= 1


def on_child_signal(signum: int, frame: FrameType | None) -> None:
    """In a pool child: hand back what it evaluates; idle, SIGTERM ends it as before."""
    leases = [lease for lease in list(ACTIVE) if lease.request_hand_back()]
    if leases:
        if any(lease.interruptible for lease in leases):
            raise HandedBack()
        return
    if signum == signal.SIGTERM and not _running[0] and not ACTIVE:
        previous = _previous.get(signal.SIGTERM)
        if callable(previous):
            previous(signum, frame)
        else:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)


_previous: dict[int, Any] = {}
_installed_in: list[int] = []  # pid whose handlers are in place (a fork starts without)


def ensure_child_handlers() -> None:
    """Called at the start of every task; does the work once per pool child."""
    if _installed_in == [os.getpid()] or current_process().name == "MainProcess" or \
            threading.current_thread() is not threading.main_thread():
        return  # solo and threads pools: Celery owns the main process's signals
    for signum in (signal.SIGTERM, HAND_BACK_SIGNAL):
        _previous[signum] = signal.signal(signum, on_child_signal)
    _installed_in[:] = [os.getpid()]


def _early_hand_back_handler(**_: Any) -> None:
    """SIGUSR2's default action would kill a child that has not run a task yet; billiard
    leaves SIGUSR2 alone, so this one can be installed here already."""
    if current_process().name != "MainProcess":
        signal.signal(HAND_BACK_SIGNAL, on_child_signal)


def _remember_pool(sender: Any = None, **_: Any) -> None:
    _pool[:] = [getattr(sender, "pool", None)]


def _tell_children(**_: Any) -> None:
    """Warm shutdown would wait for the running metric; ask each pool child to hand back."""
    for pid in pool_child_pids():
        try:
            os.kill(pid, HAND_BACK_SIGNAL)
        except ProcessLookupError:
            pass


def pool_child_pids() -> list[int]:
    pool = _pool[0] if _pool else None
    try:
        return [int(pid) for pid in pool.info.get("processes", [])] if pool else []
    except Exception:  # a pool without processes (solo, threads) or already stopped
        return []


# Connected by call rather than as decorators: Celery's signals are untyped, and a decorator
# would make each handler untyped too.
signals.worker_process_init.connect(_early_hand_back_handler)
signals.worker_ready.connect(_remember_pool)
signals.worker_shutting_down.connect(_tell_children)
