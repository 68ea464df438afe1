"""rediss:// URLs verify the server certificate everywhere, unless the URL says otherwise."""

from __future__ import annotations

import ssl

import pytest

from coordinator.errors import RedisUnavailable
from coordinator.infra.celery_config import celery_settings
from coordinator.infra.tls import redis_py_options, tls_options


def test_a_rediss_url_without_settings_still_requires_a_valid_certificate():
    settings = celery_settings("rediss://redis.internal:6380/0")
    assert settings["broker_use_ssl"]["ssl_cert_reqs"] == ssl.CERT_REQUIRED
    assert redis_py_options("rediss://redis.internal:6380/0")["ssl_cert_reqs"] == "required"


def test_the_ca_file_comes_from_the_url_or_the_environment(tmp_path, monkeypatch):
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    assert tls_options(f"rediss://h:1/0?ssl_ca_certs={ca}")["ssl_ca_certs"] == str(ca)
    monkeypatch.setenv("CELERIAC_REDIS_CA_CERTS", str(ca))
    assert celery_settings("rediss://h:1/0")["broker_use_ssl"]["ssl_ca_certs"] == str(ca)


def test_only_an_explicit_url_setting_turns_verification_off():
    assert tls_options("rediss://h:1/0?ssl_cert_reqs=none")["ssl_cert_reqs"] == ssl.CERT_NONE


def test_a_missing_ca_file_or_bad_setting_is_a_clear_error():
    with pytest.raises(RedisUnavailable, match="ssl_ca_certs: file /nope.pem not found"):
        tls_options("rediss://h:1/0?ssl_ca_certs=/nope.pem")
    with pytest.raises(RedisUnavailable, match="ssl_cert_reqs='maybe'"):
        tls_options("rediss://h:1/0?ssl_cert_reqs=maybe")


def test_plain_urls_carry_no_tls_settings_and_pickle_is_never_accepted():
    settings = celery_settings("redis://h:6379/0")
    assert "broker_use_ssl" not in settings
    assert settings["accept_content"] == ["json"] == settings["result_accept_content"]
    assert settings["task_serializer"] == settings["event_serializer"] == "json"
