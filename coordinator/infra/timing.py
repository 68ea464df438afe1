"""Timing settings shared by the coordinator, the sweeper and the workers.

Defaults make a dead worker's suggestion run again within about 12 s (lease TTL + sweep
interval) while a running suggestion costs one Redis call per ttl/3 s of heartbeat. Each can be
overridden with an environment variable, read the same way by every process.
"""

from __future__ import annotations

from dataclasses import dataclass

from coordinator.env_numbers import env_seconds


@dataclass(frozen=True)
class Timing:
    lease_ttl: float = 10.0  # a running suggestion's lease, renewed by heartbeats
    sweep_interval: float = 2.0  # how often `coordinator run` sweeps expired leases
    claim_timeout: float = 30.0  # a dispatched task not claimed within this is sent again

    @property
    def heartbeat_interval(self) -> float:
        return self.lease_ttl / 3

    @property
    def lease_ttl_ms(self) -> int:
        return int(self.lease_ttl * 1000)

    @property
    def claim_ms(self) -> int:
        return int(self.claim_timeout * 1000)

    @classmethod
    def from_env(cls) -> Timing:
        return cls(
            lease_ttl=env_seconds("CELERIAC_LEASE_TTL", cls.lease_ttl, 0.3, 3600),
            sweep_interval=env_seconds("CELERIAC_SWEEP_INTERVAL", cls.sweep_interval, 0.05, 600),
            claim_timeout=env_seconds("CELERIAC_CLAIM_TIMEOUT", cls.claim_timeout, 0.5, 86400),
        )
