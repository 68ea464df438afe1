"""The tail of an evaluation's output: bounded whatever it prints, kept on failure too, and a
command's metrics line still found after any amount of output."""

from __future__ import annotations

import io
import signal
import sys
import textwrap
import threading

import pytest

from tests.unit.conftest import make_spec
from worker import output as output_module
from worker.evaluation import EvaluationFailed, evaluate
from worker.output import OUTPUT_LIMIT, OutputTail, capture_prints
from worker.pipes import exit_reason

pytestmark = pytest.mark.timeout(60)
POINT = {"x": 0.5, "n": 3, "kind": "a"}


def test_the_tail_keeps_the_last_characters_and_says_how_many_came_before():
    tail = OutputTail(limit=10)
    for piece in ["abc", "defgh", "ijklmnop", "q"]:
        tail.write(piece)
    assert tail.text() == "[... 7 earlier characters of output not kept]\nhijklmnopq"
    assert tail.written == 17


def test_one_write_longer_than_the_limit_keeps_only_its_end():
    tail = OutputTail(limit=4)
    tail.write("ab")
    tail.write("0123456789")
    assert tail.text().endswith("\n6789") and "8 earlier" in tail.text()


def test_nothing_printed_is_an_empty_tail():
    assert OutputTail().text() == ""


def test_many_small_writes_stay_within_the_limit():
    tail = OutputTail()
    for i in range(200_000):
        tail.write(f"line {i}\n")
    kept = tail.text().split("\n", 1)[1]
    assert len(kept) == OUTPUT_LIMIT and kept.endswith("line 199999\n")
    assert tail._held < 2 * OUTPUT_LIMIT  # noqa: SLF001  # the bound is on what is held


def test_prints_are_captured_and_still_reach_the_original_stream(monkeypatch):
    original = io.StringIO()
    monkeypatch.setattr(sys, "stdout", original)
    tail = OutputTail()
    with capture_prints(tail):
        print("epoch 1 loss 0.5")
        print("warning: slow", file=sys.stderr)
    assert sys.stdout is original
    assert "epoch 1 loss 0.5" in original.getvalue()
    assert tail.text() == "epoch 1 loss 0.5\nwarning: slow\n"


def test_prints_of_a_thread_the_metric_started_are_captured_too(monkeypatch):
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    tail = OutputTail()
    with capture_prints(tail):
        worker = threading.Thread(target=print, args=("from a data loader",))
        worker.start()
        worker.join()
    assert "from a data loader" in tail.text()
    assert not output_module._ACTIVE  # noqa: SLF001


def write_module(tmp_path, body: str) -> str:
    (tmp_path / "noisy.py").write_text(textwrap.dedent(body))
    return "noisy.py:evaluate"


def test_a_python_metric_that_prints_50_mb_keeps_only_the_tail(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "stdout", io.StringIO())  # the pass-through: dropped here
    target = write_module(tmp_path, """
        def evaluate(params):
            for i in range(50):
                print("x" * (1 << 20))
            print("done")
            return 0.75
    """)
    tail = OutputTail()
    spec = make_spec(evaluate=target, workdir=str(tmp_path))
    assert evaluate(spec, POINT, output=tail) == {"score": (0.75, None)}
    assert tail.text().endswith("x\ndone\n") and len(tail.text()) < OUTPUT_LIMIT + 100
    assert tail.written > 50 * (1 << 20)


def test_a_failing_python_metric_keeps_what_it_printed(tmp_path):
    target = write_module(tmp_path, """
        def evaluate(params):
            print("loading data")
            raise ValueError("diverged")
    """)
    tail = OutputTail()
    with pytest.raises(ValueError, match="diverged"):
        evaluate(make_spec(evaluate=target, workdir=str(tmp_path)), POINT, output=tail)
    assert "loading data" in tail.text()


def test_a_metric_that_ignores_sigterm_does_not_change_the_workers_handler(tmp_path):
    target = write_module(tmp_path, """
        import signal
        def evaluate(params):
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            return 1.0
    """)
    before = signal.getsignal(signal.SIGTERM)
    evaluate(make_spec(evaluate=target, workdir=str(tmp_path)), POINT)
    assert signal.getsignal(signal.SIGTERM) is before


def command_spec(tmp_path, body: str, timeout: float = 30):
    (tmp_path / "model.py").write_text(textwrap.dedent(body))
    return make_spec(evaluate=None, command="python model.py", workdir=str(tmp_path),
                     timeout=timeout)


def test_a_command_that_prints_50_mb_still_reports_its_json_line(tmp_path):
    spec = command_spec(tmp_path, """
        import json, sys
        chunk = "y" * 1023 + "\\n"
        for _ in range(50 * 1024):
            sys.stdout.write(chunk)
        sys.stderr.write("z" * 3_000_000)  # one line of 3 MB, no newline
        print(json.dumps({"score": 0.25}))
        sys.stdout.write("z" * 200_000)  # an over-long last line is not the metrics
    """)
    tail = OutputTail()
    assert evaluate(spec, POINT, output=tail) == {"score": (0.25, None)}
    assert len(tail.text()) < OUTPUT_LIMIT + 100 and tail.text().endswith("z" * 100)
    assert tail.written > 50 * (1 << 20)


def test_a_command_keeps_its_output_and_stderr_when_it_fails(tmp_path):
    spec = command_spec(tmp_path, """
        import sys
        print("step 1")
        sys.exit("CUDA out of memory")
    """)
    tail = OutputTail()
    with pytest.raises(EvaluationFailed, match="status 1: CUDA out of memory"):
        evaluate(spec, POINT, output=tail)
    assert tail.text() == "step 1\nCUDA out of memory\n"


def test_a_command_that_segfaults_names_the_signal(tmp_path):
    spec = command_spec(tmp_path, """
        import os, signal
        print("about to crash", flush=True)
        os.kill(os.getpid(), signal.SIGSEGV)
    """)
    tail = OutputTail()
    with pytest.raises(EvaluationFailed, match=r"killed by SIGSEGV \(segmentation fault\)"):
        evaluate(spec, POINT, output=tail)
    assert "about to crash" in tail.text()


def test_a_command_that_times_out_keeps_what_it_printed_before(tmp_path):
    spec = command_spec(tmp_path, """
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("epoch 1", flush=True)
        time.sleep(60)
    """, timeout=1)
    tail = OutputTail()
    with pytest.raises(EvaluationFailed, match="ran past its timeout of 1 s"):
        evaluate(spec, POINT, output=tail)
    assert tail.text() == "epoch 1\n"


def test_a_command_whose_background_child_keeps_the_pipes_open_is_not_waited_for(tmp_path):
    spec = command_spec(tmp_path, """
        import json, subprocess, sys
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        print(json.dumps({"score": 1}))
    """, timeout=20)
    assert evaluate(spec, POINT) == {"score": (1.0, None)}


def test_exit_reasons_read_as_words():
    assert exit_reason(2) == "command exited with status 2"
    assert exit_reason(-9) == "command was killed by SIGKILL (killed: out of memory?)"
    assert exit_reason(-15) == "command was killed by SIGTERM"
