"""CELERIAC_BROKER_URL puts Celery's broker apart from the state Redis: a Redis or RabbitMQ
URL, with the Redis-only transport options left out for RabbitMQ."""

from __future__ import annotations

import pytest

from coordinator.errors import RedisUnavailable
from coordinator.infra import cluster
from coordinator.infra.celery_config import celery_settings
from coordinator.infra.connection import BROKER_ENV, resolve_broker_url

STATE = "redis://127.0.0.1:6379/0"


def test_without_it_the_state_redis_is_the_broker(monkeypatch):
    monkeypatch.delenv(BROKER_ENV, raising=False)
    settings = celery_settings(STATE)
    assert settings["broker_url"] == STATE
    assert settings["broker_transport_options"]["global_keyprefix"] == "celeriac:broker:"


def test_a_rabbitmq_broker_gets_publisher_confirms_and_no_redis_options(monkeypatch):
    monkeypatch.setenv(BROKER_ENV, "amqp://guest:secret@mq.internal:5672//")
    settings = celery_settings(STATE)
    assert settings["broker_url"] == "amqp://guest:secret@mq.internal:5672//"
    assert settings["broker_transport_options"] == {"confirm_publish": True}
    assert "broker_use_ssl" not in settings
    assert settings["task_acks_late"] and settings["worker_prefetch_multiplier"] == 1


def test_a_second_redis_can_be_the_broker(monkeypatch):
    monkeypatch.setenv(BROKER_ENV, "unix:///run/broker.sock")
    assert celery_settings(STATE)["broker_url"] == "redis+socket:///run/broker.sock"


def test_an_unknown_scheme_is_refused_naming_the_variable_without_the_password(monkeypatch):
    monkeypatch.setenv(BROKER_ENV, "sqs://key:secret@queue")
    with pytest.raises(RedisUnavailable) as caught:
        resolve_broker_url(STATE)
    text = str(caught.value)
    assert text.startswith("CELERIAC_BROKER_URL=") and "amqp://" in text
    assert "secret" not in text and "\n" not in text


def test_a_cluster_state_needs_a_broker_of_its_own(monkeypatch):
    monkeypatch.delenv(BROKER_ENV, raising=False)
    with pytest.raises(RedisUnavailable, match="CELERIAC_BROKER_URL"):
        resolve_broker_url("redis+cluster://10.0.0.1:7000,10.0.0.2:7000")
    monkeypatch.setenv(BROKER_ENV, "redis://10.0.0.9:6379/0")
    assert resolve_broker_url("redis+cluster://10.0.0.1:7000") == "redis://10.0.0.9:6379/0"


def test_a_cluster_cannot_be_the_broker(monkeypatch):
    monkeypatch.setenv(BROKER_ENV, "redis+cluster://10.0.0.1:7000")
    with pytest.raises(RedisUnavailable, match="CELERIAC_BROKER_URL"):
        resolve_broker_url(STATE)


@pytest.mark.parametrize("url", ["redis+cluster://", "redis+cluster://host-without-port",
                                 "redis+cluster://h:1,h:x"])
def test_a_malformed_cluster_url_is_refused_with_the_form(url):
    with pytest.raises(RedisUnavailable, match="HOST:PORT"):
        cluster.parse(url)


def test_a_cluster_url_gives_its_nodes_and_credentials():
    assert cluster.parse("redis+cluster://app:p%40ss@a:7000,b:7001/") == \
        ([("a", 7000), ("b", 7001)], "app", "p@ss")


def test_run_refuses_a_bad_broker_before_it_creates_the_experiment(tmp_path, service,
                                                                  monkeypatch):
    from click.testing import CliRunner

    from coordinator.cli.context import Context
    from coordinator.cli.main import cli

    path = tmp_path / "exp.yml"
    path.write_text("name: good\nparameters: [{name: a, type: double, bounds: {min: 0, max: 1}}]"
                    "\nmetrics: [{name: m}]\nbudget: 3\nevaluate: m:f\n")
    monkeypatch.setenv(BROKER_ENV, "sqs://key:secret@queue")
    context = Context(None)
    context._service, context.url = service, STATE
    result = CliRunner().invoke(cli, ["run", str(path)], obj=context,
                                standalone_mode=False, catch_exceptions=True)
    assert isinstance(result.exception, RedisUnavailable)
    assert str(result.exception).startswith("CELERIAC_BROKER_URL=")
    assert service.experiments() == []
