"""Create-time checks of the evaluation: warnings naming what this machine cannot find, never a
refusal (workers may have other files), and nothing of the user's code run."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from coordinator.cli.context import Context
from coordinator.cli.main import cli
from coordinator.service.preflight import evaluation_warnings
from coordinator.spec.experiment import Evaluation


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_module_that_cannot_be_found_is_named(tmp_path):
    [line] = evaluation_warnings(Evaluation(evaluate="tunee:evaluate"), tmp_path)
    assert line.startswith("evaluate: cannot find module 'tunee'")


def test_a_function_the_module_does_not_define_is_named_without_running_the_module(tmp_path):
    write(tmp_path / "tunee_mod.py", "raise SystemExit('never run at create time')\n"
                                     "def train(params):\n    return 1\n")
    [line] = evaluation_warnings(Evaluation(evaluate="tunee_mod:evaluate"), tmp_path)
    assert "'tunee_mod' defines no function 'evaluate'" in line
    assert evaluation_warnings(Evaluation(evaluate="tunee_mod:train"), tmp_path) == []


def test_functions_brought_by_imports_or_conditions_are_not_guessed_missing(tmp_path):
    write(tmp_path / "reexport.py", "from os.path import join as evaluate\n")
    write(tmp_path / "maybe.py", "try:\n    import torch\nexcept ImportError:\n    pass\n")
    assert evaluation_warnings(Evaluation(evaluate="reexport:evaluate"), tmp_path) == []
    assert evaluation_warnings(Evaluation(evaluate="maybe:evaluate"), tmp_path) == []


def test_a_file_target_and_a_workdir_are_checked(tmp_path):
    write(tmp_path / "code" / "model.py", "def evaluate(params):\n    return 1\n")
    assert evaluation_warnings(Evaluation(evaluate="code/model.py:evaluate"), tmp_path) == []
    assert evaluation_warnings(Evaluation(evaluate="model.py:evaluate", workdir="code"),
                               tmp_path) == []
    [line] = evaluation_warnings(Evaluation(evaluate="model.py:evaluate"), tmp_path)
    assert line.startswith("evaluate: file") and "model.py not found" in line
    [line] = evaluation_warnings(Evaluation(evaluate="m:f", workdir="nowhere"), tmp_path)
    assert line.startswith("workdir:") and "nowhere" in line


def test_a_command_whose_script_or_program_is_missing_is_named(tmp_path):
    write(tmp_path / "train.py", "print('{}')\n")
    assert evaluation_warnings(Evaluation(command="python train.py --epochs 3"), tmp_path) == []
    assert evaluation_warnings(Evaluation(command="python -m http.server"), tmp_path) == []
    [line] = evaluation_warnings(Evaluation(command="python -u trian.py"), tmp_path)
    assert line.startswith("command: script trian.py not found")
    [line] = evaluation_warnings(Evaluation(command="no-such-program-here --x"), tmp_path)
    assert "program 'no-such-program-here' not found on PATH" in line


def test_create_warns_and_names_an_experiment_with_the_same_config(service, tmp_path):
    config = write(tmp_path / "exp.yml", "name: twin\nparameters: [{name: x, type: double, "
                   "bounds: {min: 0, max: 1}}]\nbudget: 3\nevaluate: tunee:evaluate\n")
    context = Context(None)
    context._service = service
    runner = CliRunner()
    first = runner.invoke(cli, ["create", str(config)], obj=context)
    assert first.exit_code == 0, first.output
    assert "warning: evaluate: cannot find module 'tunee'" in first.stderr
    second = runner.invoke(cli, ["create", str(config)], obj=context)
    assert "note: experiment 1 already has this same config" in second.stderr
    assert "--resume" in second.stderr and second.stdout.strip() == "2"
    assert [e.id for e in service.experiments()] == ["1", "2"]
