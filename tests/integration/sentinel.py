"""A replicated state Redis for the tests: a primary, a replica and three sentinels, all real
redis-server processes on free 127.0.0.1 ports in their own process groups."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import redis
from redis.sentinel import Sentinel

from coordinator.infra.embedded import redis_server_binary
from tests.integration.processes import RedisServer, free_port, wait_until

SERVICE = "celeriac"


class SentinelGroup:
    def __init__(self, directory: Path, sentinels: int = 3) -> None:
        self.directory = directory
        self.primary = RedisServer(directory / "primary")
        self.replica = RedisServer(directory / "replica")
        self.sentinel_ports = [free_port() for _ in range(sentinels)]
        self.sentinels: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/{SERVICE}/0"

    def start(self) -> SentinelGroup:
        self.primary.start()
        self.replica.extra = ["--replicaof", "127.0.0.1", str(self.primary.port)]
        self.replica.start()
        wait_until(self._replicating, 20, what="the replica to sync")
        for i, port in enumerate(self.sentinel_ports):
            folder = self.directory / f"sentinel{i}"
            folder.mkdir(parents=True, exist_ok=True)
            conf = folder / "sentinel.conf"  # sentinels rewrite their config: one file each
            conf.write_text(f"port {port}\nbind 127.0.0.1\ndir {folder}\n"
                            f"sentinel monitor {SERVICE} 127.0.0.1 {self.primary.port} 2\n"
                            f"sentinel down-after-milliseconds {SERVICE} 1000\n"
                            f"sentinel failover-timeout {SERVICE} 5000\n")
            self.sentinels.append(subprocess.Popen(
                [redis_server_binary(), str(conf), "--sentinel"],
                stdout=open(folder / "sentinel.log", "ab"), stderr=subprocess.STDOUT,
                start_new_session=True))
        wait_until(lambda: self.current_primary() == self.primary.port, 20,
                   what="the sentinels to find the primary")
        return self

    def _replicating(self) -> bool:
        info = redis.Redis(port=self.replica.port).info("replication")
        return info.get("master_link_status") == "up"

    def current_primary(self) -> int | None:
        try:
            sentinel = Sentinel([("127.0.0.1", p) for p in self.sentinel_ports],
                                socket_timeout=1)
            return int(sentinel.discover_master(SERVICE)[1])
        except Exception:
            return None

    def stop(self) -> None:
        for process in self.sentinels:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)
        self.sentinels = []
        self.primary.stop()
        self.replica.stop()
