"""The tail of what an evaluation printed, kept with its observation (metadata["output"]).

Bounded whatever the evaluation prints: only the last OUTPUT_LIMIT characters of stdout and
stderr together are held, in the order they arrived, so a metric that prints 50 MB costs the
worker 4 KB. A Python callable's prints are captured by wrapping sys.stdout and sys.stderr
while it runs (they still reach the worker's log); a command's pipes are read by
worker/pipes.py.
"""

from __future__ import annotations

import contextvars
import sys
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

OUTPUT_LIMIT = 4096  # characters of an evaluation's stdout and stderr kept, the last ones


class OutputTail:
    """The last `limit` characters written; safe to write from several threads."""

    def __init__(self, limit: int = OUTPUT_LIMIT) -> None:
        self.limit = limit
        self.written = 0  # every character ever written, kept or not
        self._chunks: deque[str] = deque()
        self._held = 0
        self._lock = threading.Lock()

    def write(self, text: str) -> None:
        if not text:
            return
        with self._lock:
            self.written += len(text)
            if len(text) >= self.limit:  # replaces everything held so far
                self._chunks.clear()
                text = text[-self.limit:]
                self._held = 0
            self._chunks.append(text)
            self._held += len(text)
            while self._held - len(self._chunks[0]) >= self.limit:
                self._held -= len(self._chunks.popleft())

    def kept(self) -> str:
        """The kept tail as it is, with no word about what came before."""
        with self._lock:
            return "".join(self._chunks)[-self.limit:]

    def text(self) -> str:
        """The kept tail; when more was printed, a first line says how much came before."""
        kept = self.kept()
        dropped = self.written - len(kept)
        if dropped > 0:
            return f"[... {dropped:,} earlier characters of output not kept]\n{kept}"
        return kept


class _Tee:
    """Stands in for sys.stdout or sys.stderr: writes go to the stream as before and to the
    tail of the evaluation running in this context (or the only one running)."""

    def __init__(self, original: TextIO) -> None:
        self.original = original

    def write(self, text: str) -> int:
        tail = _TAIL.get()
        if tail is None:
            active = tuple(_ACTIVE)  # one step under the GIL, whatever other threads do
            tail = active[0] if len(active) == 1 else None
        if tail is not None and isinstance(text, str):
            tail.write(text)
        return self.original.write(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # flush, fileno, isatty, encoding, ...
        return getattr(self.original, name)


_TAIL: contextvars.ContextVar[OutputTail | None] = contextvars.ContextVar(
    "celeriac_output_tail", default=None)
_ACTIVE: set[OutputTail] = set()  # one per evaluation capturing right now (threads pool: more)
_LOCK = threading.Lock()


@contextmanager
def capture_prints(tail: OutputTail | None) -> Iterator[None]:
    """While the block runs, what Python code prints (this thread's, and any thread's when it
    is the only evaluation in the process, as in a prefork pool child) also goes to `tail`."""
    if tail is None:
        yield
        return
    token = _TAIL.set(tail)
    with _LOCK:
        _ACTIVE.add(tail)
        _install()
    try:
        yield
    finally:
        _TAIL.reset(token)
        with _LOCK:
            _ACTIVE.discard(tail)
            if not _ACTIVE:
                _uninstall()


def _install() -> None:
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if not isinstance(stream, _Tee):
            setattr(sys, name, _Tee(stream))


def _uninstall() -> None:
    """Puts back the streams our tees wrap, unless the user's code replaced them since."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if isinstance(stream, _Tee):
            setattr(sys, name, stream.original)
