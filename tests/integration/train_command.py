"""A training run as a command evaluation (`command: python tests/integration/train_command.py`):
27 epochs through worker.script, a checkpoint every epoch, resumed from the latest one, and
stopped when the scheduler says so. With a `mistake` assignment it makes that bad report
instead (a step that goes back, a NaN, a metric the experiment does not have)."""

from __future__ import annotations

import math
import os
import time

from worker import script


def main() -> None:
    params = script.params()
    if "mistake" in params:
        bad_report(str(params["mistake"]))
        return
    x = float(params["x"])
    state = script.load_checkpoint() or {"epochs_trained": 0, "pids": []}
    state["pids"].append(os.getpid())
    pause = float(os.environ.get("CELERIAC_TEST_EPOCH_SECONDS", "0"))
    loss = None
    for epoch in range(script.start_step() + 1, 28):
        time.sleep(pause)
        loss = (x - 0.3) ** 2 + 1.0 / epoch
        state["epochs_trained"] += 1
        script.save_checkpoint(epoch, state)
        if not script.report(epoch, loss):
            break
    if loss is not None:
        script.log_metric("loss", loss)


def bad_report(mistake: str) -> None:
    script.report(2, 0.5)
    if mistake == "backward":
        script.report(1, 0.4)
    elif mistake == "nan":
        script.report(3, math.nan)
    else:
        script.report(3, accuracy=0.9)
    script.log_metric("loss", 0.1)


if __name__ == "__main__":
    main()
