"""A command evaluation that misbehaves as its --case argument says (test_worker_corners.py)."""

from __future__ import annotations

import ctypes
import json
import signal
import sys
import time

from worker.script import params

case = params()["case"]
if case == "print_50mb":
    line = "y" * 1023 + "\n"
    for _ in range(50 * 1024):
        sys.stdout.write(line)
    sys.stderr.write("some warnings\n")
    print(json.dumps({"value": 3.0}))
elif case == "segfault":
    print("about to read address 0", flush=True)
    ctypes.string_at(0)
elif case == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("ignoring SIGTERM", flush=True)
    time.sleep(300)
else:
    print(json.dumps({"value": 1.0}))
