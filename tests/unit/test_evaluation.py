"""Turning what a user's metric returns or prints into metric values, or a failure reason."""

from __future__ import annotations

import math
import sys
import textwrap

import pytest

from tests.unit.conftest import make_spec
from worker.evaluation import EvaluationFailed, command_argv, evaluate, parse_result


@pytest.fixture
def two_metric_spec():
    return make_spec(metrics=[{"name": "acc"}, {"name": "cost", "strategy": "store"}])


def test_a_plain_number_is_the_single_metric(spec):
    assert parse_result(0.5, spec) == {"score": (0.5, None)}


def test_a_value_with_stddev_keeps_the_noise(spec):
    assert parse_result((0.5, 0.1), spec) == {"score": (0.5, 0.1)}
    assert parse_result({"score": {"value": 1, "value_stddev": 0.2}}, spec) == \
        {"score": (1.0, 0.2)}


def test_several_metrics_need_a_dict(two_metric_spec):
    with pytest.raises(EvaluationFailed, match="return a dict"):
        parse_result(0.3, two_metric_spec)
    assert parse_result({"acc": 0.9, "cost": 3}, two_metric_spec) == \
        {"acc": (0.9, None), "cost": (3.0, None)}


@pytest.mark.parametrize("garbage", [math.nan, math.inf, "high", None, True, [1, 2, 3]])
def test_garbage_results_fail_with_a_reason(spec, garbage):
    with pytest.raises(EvaluationFailed, match="not a finite number"):
        parse_result(garbage, spec)


def test_negative_stddev_is_refused(spec):
    with pytest.raises(EvaluationFailed, match="value_stddev"):
        parse_result((1.0, -1.0), spec)


def test_command_arguments_never_pass_through_a_shell():
    argv = command_argv("python train.py --epochs 3", {"kind": "x; rm -rf ~", "n": 4})
    assert argv[0] == sys.executable
    assert argv[1:] == ["train.py", "--epochs", "3", "--kind", "x; rm -rf ~", "--n", "4"]


def write_script(tmp_path, body: str) -> str:
    (tmp_path / "model.py").write_text(textwrap.dedent(body))
    return "python model.py"


def command_spec(tmp_path, command: str, timeout: float = 20):
    return make_spec(evaluate=None, command=command, workdir=str(tmp_path), timeout=timeout)


def test_a_command_reports_metrics_through_the_helper_module(tmp_path):
    command = write_script(tmp_path, """
        from worker.script import params, log_metric
        p = params()
        log_metric("score", p["x"] * 2 + p["n"], stddev=0.5)
    """)
    values = evaluate(command_spec(tmp_path, command), {"x": 0.25, "n": 3, "kind": "a"})
    assert values == {"score": (3.5, 0.5)}


def test_a_command_may_print_a_json_line_instead(tmp_path):
    command = write_script(tmp_path, """
        import json, sys
        args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
        print("training...")
        print(json.dumps({"score": float(args["--x"])}))
    """)
    assert evaluate(command_spec(tmp_path, command), {"x": 0.75, "n": 1, "kind": "b"}) == \
        {"score": (0.75, None)}


def test_a_command_that_exits_non_zero_fails_with_its_stderr(tmp_path):
    command = write_script(tmp_path, "import sys; sys.exit('out of memory')\n")
    with pytest.raises(EvaluationFailed, match="status 1: out of memory"):
        evaluate(command_spec(tmp_path, command), {"x": 0.1, "n": 1, "kind": "a"})


def test_a_command_that_hangs_is_stopped_at_its_timeout(tmp_path):
    command = write_script(tmp_path, "import time; time.sleep(60)\n")
    with pytest.raises(EvaluationFailed, match="timeout of 0.5 s"):
        evaluate(command_spec(tmp_path, command, timeout=0.5), {"x": 0.1, "n": 1, "kind": "a"})


def test_a_command_that_prints_no_metrics_says_how_to_report_them(tmp_path):
    command = write_script(tmp_path, "print('done')\n")
    with pytest.raises(EvaluationFailed, match="log_metric"):
        evaluate(command_spec(tmp_path, command), {"x": 0.1, "n": 1, "kind": "a"})


def test_a_callable_from_a_file_path_is_loaded_and_called(tmp_path):
    (tmp_path / "metric.py").write_text("def f(a):\n    return {'score': a['n'] * 1.5}\n")
    spec = make_spec(evaluate="metric.py:f", workdir=str(tmp_path))
    assert evaluate(spec, {"x": 0.1, "n": 2, "kind": "a"}) == {"score": (3.0, None)}


def test_a_missing_callable_fails_with_the_module_named(tmp_path):
    spec = make_spec(evaluate="no_such_module_here:f", workdir=str(tmp_path))
    with pytest.raises(EvaluationFailed, match="no_such_module_here"):
        evaluate(spec, {"x": 0.1, "n": 2, "kind": "a"})
