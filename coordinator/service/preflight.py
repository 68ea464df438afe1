"""What can be checked about an experiment's evaluation before the budget burns.

A typo in `evaluate:` or a missing script fails every suggestion within a second on the
workers. At create time the creating machine checks what it can: that the module can be found
and defines the function, or that the command's program and script exist. Workers may have
other files, so each finding is a warning, never a refusal. Nothing here runs the user's code:
modules are found, not imported (a parent package's `__init__` aside), and the function is
looked up in the module's source.
"""

from __future__ import annotations

import ast
import importlib.util
import shlex
import shutil
import sys
from pathlib import Path

from coordinator.spec.experiment import Evaluation

INTERPRETERS = ("python", "python3", "bash", "sh", "zsh", "Rscript", "julia", "node", "ruby",
                "perl")


def evaluation_warnings(evaluation: Evaluation, cwd: Path | None = None) -> list[str]:
    """One line per problem found on this machine (none when everything checks out)."""
    base = ((cwd or Path.cwd()) / evaluation.workdir).expanduser()
    if not base.is_dir():
        return [f"workdir: {base} is not a directory on this machine; workers run the "
                f"evaluation from their own workdir, so make sure it exists there"]
    if evaluation.evaluate:
        found = _callable_problem(evaluation.evaluate, base)
        return [f"evaluate: {found} (workers that have it on their path are fine)"] \
            if found else []
    if evaluation.command:
        found = _command_problem(evaluation.command, base)
        return [f"command: {found} (checked in {base}; workers run it from their workdir)"] \
            if found else []
    return []


def _callable_problem(target: str, base: Path) -> str:
    module_name, _, function = target.rpartition(":")
    if module_name.endswith(".py"):
        path = base / module_name
        if not path.is_file():
            return f"file {path} not found"
        return _function_problem(path, function, module_name)
    found = _module_file(module_name, base)
    if isinstance(found, str):
        return found
    return _function_problem(found, function, module_name) if found else ""


def _module_file(module_name: str, base: Path) -> Path | None | str:
    """The module's source file; None when it has none to read (a compiled or namespace
    module); a problem line when it cannot be found."""
    added = str(base.resolve()) not in sys.path
    if added:
        sys.path.insert(0, str(base.resolve()))
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError) as exc:  # a parent package is missing or broken
        return f"cannot find module {module_name!r}: {exc}"
    except Exception as exc:  # a parent package's __init__ raised: the workers' import will too
        return f"importing {module_name!r} fails: {type(exc).__name__}: {exc}"
    finally:
        if added:
            sys.path.remove(str(base.resolve()))
    if spec is None:
        return f"cannot find module {module_name!r} from {base}: check the name and workdir"
    origin = spec.origin
    return Path(origin) if origin and origin.endswith(".py") and Path(origin).is_file() else None


def _function_problem(path: Path, function: str, module_name: str) -> str:
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError) as exc:
        return f"cannot read {path}: {exc}"
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            if any(alias.name == "*" for alias in node.names):
                return ""  # a star import may bring it: cannot tell without running it
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.If, ast.Try, ast.With)):
            return ""  # defined under a condition: cannot tell without running it
    if function in names:
        return ""
    return f"{module_name!r} defines no function {function!r} ({path})"


def _command_problem(command: str, base: Path) -> str:
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        return f"cannot split {command!r}: {exc}"
    if not argv:
        return "empty command"
    program = argv[0]
    if "/" in program:
        if not (base / program).is_file():
            return f"program {program} not found"
    elif program not in ("python", "python3") and shutil.which(program) is None:
        return f"program {program!r} not found on PATH"
    if Path(program).name not in INTERPRETERS:
        return ""
    rest = argv[1:]
    if "-m" in rest or "-c" in rest or "-e" in rest:
        return ""
    script = next((a for a in rest if not a.startswith("-")), None)
    if script and "{" not in script and not (base / script).is_file():
        return f"script {script} not found"
    return ""
