"""docker-compose.yml cannot run here (no engine), so check what can be checked by reading it:
every service uses the variables, commands and settings the code actually reads."""

from __future__ import annotations

from pathlib import Path

import yaml

from coordinator.cli.main import cli
from coordinator.infra.connection import BROKER_ENV, ENV_URL

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_redis_with_aof_coordinator_worker_and_flower():
    services = compose()["services"]
    assert set(services) == {"redis", "rabbitmq", "coordinator", "worker", "flower"}
    command = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in command and "noeviction" in command


def test_every_celeriac_service_reads_redis_from_the_same_variable_as_the_code():
    services = compose()["services"]
    for name in ("coordinator", "worker", "flower"):
        assert ENV_URL in services[name]["environment"], name
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_rabbitmq_is_an_opt_in_broker_every_celeriac_service_is_told_of():
    services = compose()["services"]
    assert services["rabbitmq"]["profiles"] == ["rabbitmq"]
    assert "consumer_timeout" in services["rabbitmq"]["environment"][
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"]
    for name in ("coordinator", "worker", "flower"):
        assert services[name]["environment"][BROKER_ENV] == "${CELERIAC_BROKER_URL:-}", name
        assert services[name]["depends_on"]["rabbitmq"]["required"] is False, name


def test_worker_and_flower_use_the_worker_app_and_the_coordinator_a_real_command():
    services = compose()["services"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "worker", "worker"]
    assert services["flower"]["command"][:4] == ["celery", "-A", "worker", "flower"]
    assert any(arg.startswith("--basic_auth=") for arg in services["flower"]["command"])
    assert "--read_only=true" in services["flower"]["command"]  # no remote control
    program, subcommand = services["coordinator"]["command"][:2]
    assert program == "coordinator" and subcommand in cli.commands


def test_published_ports_bind_to_loopback_only():
    for name, service in compose()["services"].items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), (name, port)


def test_the_image_installs_every_package_the_services_import():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("coordinator", "worker", "optimizer"):
        assert f"COPY {package} ./{package}" in dockerfile
