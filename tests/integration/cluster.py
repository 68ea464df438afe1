"""A Redis Cluster for the tests: three real redis-server nodes (no replicas) on free 127.0.0.1
ports in their own process groups, each serving a third of the 16,384 slots."""

from __future__ import annotations

import random
import socket
from pathlib import Path

import redis

from tests.integration.processes import RedisServer, wait_until

SLOTS = 16384
BUS_OFFSET = 10_000  # redis-server puts a node's cluster bus at its port + 10,000


def bus_friendly_port() -> int:
    """A free port whose cluster bus port (10,000 higher, where the nodes talk) is free too."""
    for _ in range(200):
        port = random.randint(20_000, 55_000)
        if _free(port) and _free(port + BUS_OFFSET):
            return port
    raise AssertionError("no free port pair for a cluster node")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class RedisClusterGroup:
    def __init__(self, directory: Path, nodes: int = 3) -> None:
        self.nodes = [RedisServer(directory / f"node{i}") for i in range(nodes)]
        for node in self.nodes:
            node.port = bus_friendly_port()
            node.extra = ["--cluster-enabled", "yes", "--cluster-node-timeout", "2000",
                          "--cluster-config-file", str(node.directory / "nodes.conf")]

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)

    def start(self) -> RedisClusterGroup:
        for node in self.nodes:
            node.start()
        share = SLOTS // len(self.nodes)
        for i, node in enumerate(self.nodes):
            last = SLOTS - 1 if i == len(self.nodes) - 1 else (i + 1) * share - 1
            redis.Redis(port=node.port).execute_command("CLUSTER ADDSLOTS",
                                                        *range(i * share, last + 1))
        first = redis.Redis(port=self.nodes[0].port)
        for node in self.nodes[1:]:
            first.execute_command("CLUSTER MEET", "127.0.0.1", node.port)
        wait_until(self._ready, 30, what="the cluster to agree on its slots")
        return self

    def _ready(self) -> bool:
        for node in self.nodes:
            info = redis.Redis(port=node.port, decode_responses=True).cluster("INFO")
            if info.get("cluster_state") != "ok" or \
                    int(info.get("cluster_known_nodes", 0)) != len(self.nodes):
                return False
        return True

    def port_of(self, slot: int) -> int:
        """The port of the node serving a slot."""
        share = SLOTS // len(self.nodes)
        return self.nodes[min(slot // share, len(self.nodes) - 1)].port

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
