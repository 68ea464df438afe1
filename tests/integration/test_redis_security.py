"""Redis with a password, with an ACL user limited to Celeriac's keys, and TLS-only with a CA
made in the test: a real experiment runs end to end on each, and bad settings fail clearly."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.processes import RedisServer, coordinator

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

CONFIG = """
name: secure
parameters: [{name: x, bounds: {min: -1, max: 1}}, {name: y, bounds: {min: -2, max: 0}}]
metrics: [{name: value}]
budget: 4
parallel_bandwidth: 2
evaluate: tests.integration.metrics:quadratic
"""
ACL_RULE = ("on >worker-secret ~celeriac:* &* -@all +@connection +@read +@write +@list +@hash "
            "+@sortedset +@set +@string +@stream +@keyspace +@pubsub +@transaction +@scripting "
            "-@dangerous +time")


def run_experiment(tmp_path: Path, url: str, extra_env: dict[str, str] | None = None) -> str:
    config = tmp_path / "exp.yml"
    config.write_text(CONFIG)
    env = {**os.environ, "CELERIAC_REDIS_URL": url, "CELERIAC_HOME": str(tmp_path / "home"),
           **(extra_env or {})}
    return coordinator(["run", str(config), "--workers", "1"], env, timeout=150).stdout


@pytest.fixture
def server_factory(tmp_path: Path):
    started: list[RedisServer] = []

    def start(*extra: str, binary: str | None = None, name: str = "redis") -> RedisServer:
        server = RedisServer(tmp_path / name, list(extra), binary=binary)
        started.append(server)
        try:
            return server.start()
        except Exception as exc:
            pytest.fail(f"cannot start redis-server: {exc}")
    yield start
    for server in started:
        server.stop()


def test_a_password_protected_redis_runs_experiments_and_refuses_a_wrong_password(
        tmp_path, server_factory):
    server = server_factory("--requirepass", "s3cret")
    url = f"redis://:s3cret@127.0.0.1:{server.port}/0"
    assert "finished: 4 observations, 0 failed" in run_experiment(tmp_path, url)
    env = {**os.environ, "CELERIAC_REDIS_URL": f"redis://:wrong@127.0.0.1:{server.port}/0"}
    result = coordinator(["list"], env, check=False)
    assert result.returncode == 1 and "refused the credentials" in result.stderr
    assert "wrong" not in result.stderr  # the password is never echoed
    assert "Traceback" not in result.stderr


def test_an_acl_user_limited_to_celeriac_keys_runs_workers_and_coordinator(
        tmp_path, server_factory):
    server = server_factory("--user", "celeriac", *ACL_RULE.split(), "--user", "default",
                            "off")
    url = f"redis://celeriac:worker-secret@127.0.0.1:{server.port}/0"
    assert "finished: 4 observations, 0 failed" in run_experiment(tmp_path, url)


def tls_capable_redis_server(directory: Path) -> str | None:
    """Debian's redis-tools ships the server as redis-check-rdb (argv[0] picks the role)."""
    directory.mkdir(parents=True, exist_ok=True)
    for candidate in (shutil.which("redis-server"), "/usr/bin/redis-check-rdb"):
        if not candidate or not os.path.exists(candidate):
            continue
        link = directory / "redis-server"
        link.unlink(missing_ok=True)
        link.symlink_to(candidate)
        # A build without TLS stops at "Bad directive"; one with TLS gets past the directive
        # and fails on the missing certificate instead.
        probe = subprocess.run([str(link), "--port", "0", "--tls-port", "0", "--tls-cert-file",
                                str(directory / "missing.pem")], capture_output=True, text=True,
                               timeout=10)
        if "bad directive" not in (probe.stdout + probe.stderr).lower():
            return str(link)
    return None


def test_a_tls_only_redis_is_reached_with_verification_and_refused_without_the_ca(
        tmp_path, server_factory):
    trustme = pytest.importorskip("trustme") if not os.environ.get("CI") else \
        __import__("trustme")
    binary = tls_capable_redis_server(tmp_path / "bin")
    if binary is None:
        message = "no TLS-capable redis-server (apt-get install redis-tools)"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    certs = tmp_path / "certs"
    certs.mkdir()
    ca.cert_pem.write_to_path(str(certs / "ca.pem"))
    cert.private_key_pem.write_to_path(str(certs / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(certs / "cert.pem"))
    server = server_factory("--tls-port", "PORT", "--tls-cert-file", str(certs / "cert.pem"),
                            "--tls-key-file", str(certs / "key.pem"), "--tls-ca-cert-file",
                            str(certs / "ca.pem"), "--tls-auth-clients", "no",
                            binary=binary, name="tls")
    url = f"rediss://127.0.0.1:{server.port}/0"
    out = run_experiment(tmp_path, url, {"CELERIAC_REDIS_CA_CERTS": str(certs / "ca.pem")})
    assert "finished: 4 observations, 0 failed" in out
    env = {**os.environ, "CELERIAC_REDIS_URL": url}
    env.pop("CELERIAC_REDIS_CA_CERTS", None)
    result = coordinator(["list"], env, check=False)
    assert result.returncode == 1 and "certificate verify failed" in result.stderr
