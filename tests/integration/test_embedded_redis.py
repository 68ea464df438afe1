"""With no Redis configured, commands share an embedded redis-server whose data survives."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.integration.processes import coordinator

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

CONFIG = """
name: embedded
parameters: [{name: x, bounds: {min: 0, max: 1}}, {name: y, bounds: {min: -2, max: 0}}]
metrics: [{name: value}]
budget: 3
evaluate: tests.integration.metrics:quadratic
"""


@pytest.fixture
def embedded_env(tmp_path: Path):
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k != "CELERIAC_REDIS_URL"}
    env["CELERIAC_HOME"] = str(home)
    yield env
    pidfile = home / "redis.pid"  # end the server this test started, by its pid
    if pidfile.exists():
        try:
            os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


def test_commands_start_and_share_one_embedded_server_whose_data_survives_a_restart(
        embedded_env, tmp_path):
    config = tmp_path / "exp.yml"
    config.write_text(CONFIG)
    experiment_id = coordinator(["create", str(config)], embedded_env).stdout.split()[-1]
    status = coordinator(["redis", "status"], embedded_env).stdout
    assert "running" in status and "unix://" in status
    assert experiment_id in coordinator(["list"], embedded_env).stdout
    assert (Path(embedded_env["CELERIAC_HOME"]) / "appendonlydir").exists() or \
        any(Path(embedded_env["CELERIAC_HOME"]).glob("appendonly*"))
    assert "stopped" in coordinator(["redis", "stop"], embedded_env).stdout
    assert "stopped" in coordinator(["redis", "status"], embedded_env).stdout
    assert experiment_id in coordinator(["list"], embedded_env).stdout  # restarted, data kept


def test_a_run_with_local_workers_uses_the_embedded_server_end_to_end(embedded_env, tmp_path):
    config = tmp_path / "exp.yml"
    config.write_text(CONFIG)
    result = coordinator(["run", str(config), "--workers", "1"], embedded_env, timeout=100)
    assert "finished: 3 observations, 0 failed" in result.stdout


def test_an_unreachable_redis_url_is_one_clear_error(embedded_env):
    env = {**embedded_env, "CELERIAC_REDIS_URL": "redis://127.0.0.1:1/0"}
    result = coordinator(["list"], env, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot reach Redis at redis://127.0.0.1:1/0")
    assert "Traceback" not in result.stderr
