"""Reads a command evaluation's stdout and stderr as they come, in bounded memory.

A command may print any amount (a training loop that logs every batch can print gigabytes);
reading its pipes to the end into memory would let it take the worker down. What is kept:
the combined tail (worker/output.py), a shorter tail of stderr for the failure reason, and
the last stdout line that is a JSON object (the metrics, when the command prints them).
"""

from __future__ import annotations

import codecs
import json
import os
import selectors
import signal
import subprocess
import threading
import time
from typing import Any

from worker.output import OutputTail

CHUNK = 65536  # bytes read from a pipe at once
LONGEST_JSON_LINE = 65536  # characters; a longer stdout line is never taken for metrics
LINGER = 2.0  # seconds the pipes may stay open after the command exits (a background child)


class CommandOutput:
    def __init__(self, process: subprocess.Popen[bytes], output: OutputTail | None) -> None:
        self.process = process
        self.output = output or OutputTail()
        self.stderr = OutputTail(limit=2000)
        self.last_json: dict[str, Any] | None = None
        self._line = ""  # stdout's unfinished last line
        self._overlong = False  # the unfinished line is past LONGEST_JSON_LINE: ignore it
        self._decoders = {name: codecs.getincrementaldecoder("utf-8")(errors="replace")
                          for name in ("stdout", "stderr")}

    def follow(self, timeout: float, cancel: threading.Event | None) -> str:
        """Reads until the command ends; "" when it did, else why it was stopped."""
        deadline = time.monotonic() + timeout
        exited_at: float | None = None
        with selectors.DefaultSelector() as selector:
            for name in ("stdout", "stderr"):
                selector.register(getattr(self.process, name), selectors.EVENT_READ, name)
            while selector.get_map():
                if cancel is not None and cancel.is_set():
                    return self._stop("lost its lease")
                if time.monotonic() > deadline:
                    return self._stop(f"ran past its timeout of {timeout:g} s")
                for key, _ in selector.select(timeout=0.25):
                    self._read(selector, key)
                if exited_at is None and self.process.poll() is not None:
                    exited_at = time.monotonic()
                elif exited_at is not None and time.monotonic() - exited_at > LINGER:
                    kill_group(self.process)  # what it left running holds the pipes open
                    break
        self._finish()
        return self._wait(deadline, timeout, cancel)

    def _wait(self, deadline: float, timeout: float, cancel: threading.Event | None) -> str:
        """Both pipes are closed, yet the command may still run (it closed them itself)."""
        while True:
            try:
                self.process.wait(timeout=0.25)
                return ""
            except subprocess.TimeoutExpired:
                pass
            if cancel is not None and cancel.is_set():
                return self._stop("lost its lease")
            if time.monotonic() > deadline:
                return self._stop(f"ran past its timeout of {timeout:g} s")

    def _read(self, selector: selectors.BaseSelector, key: selectors.SelectorKey) -> None:
        data = os.read(key.fd, CHUNK)
        if not data:
            selector.unregister(key.fileobj)
            return
        self._take(key.data, self._decoders[key.data].decode(data))

    def _take(self, stream: str, text: str) -> None:
        self.output.write(text)
        if stream == "stderr":
            self.stderr.write(text)
        else:
            self._scan(text)

    def _scan(self, text: str) -> None:
        """Splits stdout into lines without holding more than one (bounded) line."""
        pieces = text.split("\n")
        for piece in pieces[:-1]:
            if not self._overlong:
                self._consider(self._line + piece)
            self._line, self._overlong = "", False
        rest = pieces[-1]
        if self._overlong or len(self._line) + len(rest) > LONGEST_JSON_LINE:
            self._line, self._overlong = "", True
        else:
            self._line += rest

    def _consider(self, line: str) -> None:
        line = line.rstrip("\r").rsplit("\r", 1)[-1].strip()  # what a terminal would show
        if line.startswith("{") and line.endswith("}"):
            try:
                item = json.loads(line)
            except ValueError:
                return
            if isinstance(item, dict):
                self.last_json = item

    def _finish(self) -> None:
        for name, decoder in self._decoders.items():
            self._take(name, decoder.decode(b"", final=True))
        if self._line and not self._overlong:
            self._consider(self._line)
        self._line = ""
        for name in ("stdout", "stderr"):
            stream = getattr(self.process, name)
            if stream is not None:
                stream.close()

    def _stop(self, why: str) -> str:
        kill_group(self.process)
        self.process.wait()
        self._finish()
        return f"command {why} and was stopped"


def kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def exit_reason(returncode: int) -> str:
    """How a command ended, in words: a status, or the signal that killed it."""
    if returncode >= 0:
        return f"command exited with status {returncode}"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = f"signal {-returncode}"
    crash = {"SIGSEGV": " (segmentation fault)", "SIGBUS": " (bus error)",
             "SIGABRT": " (aborted)", "SIGKILL": " (killed: out of memory?)",
             "SIGFPE": " (arithmetic error)", "SIGILL": " (illegal instruction)"}
    return f"command was killed by {name}{crash.get(name, '')}"
