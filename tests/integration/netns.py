"""A "remote host" for tests: a network namespace joined to this one by a veth pair.

Addresses come from 198.18.0.0/15, the range set aside for network benchmarking (RFC 2544),
and exist only on the two ends of the veth pair inside this machine. Optional netem delay
makes the link behave like a LAN or a WAN.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass


def _ip(*args: str, netns: str | None = None) -> None:
    prefix = ["ip", "netns", "exec", netns] if netns else []
    subprocess.run([*prefix, *args], check=True, capture_output=True, text=True, timeout=10)


@dataclass
class RemoteHost:
    name: str
    index: int
    delay_ms: float = 0.0

    @property
    def host_address(self) -> str:  # this machine's end of the link
        return f"198.18.{self.index}.1"

    @property
    def address(self) -> str:  # the namespace's end
        return f"198.18.{self.index}.2"

    def create(self) -> RemoteHost:
        outside, inside = f"vc{self.index}h{os.getpid() % 100000}", f"vc{self.index}n"
        _ip("ip", "netns", "add", self.name)
        try:
            _ip("ip", "link", "add", outside, "type", "veth", "peer", "name", inside,
                "netns", self.name)
            _ip("ip", "addr", "add", f"{self.host_address}/30", "dev", outside)
            _ip("ip", "link", "set", outside, "up")
            _ip("ip", "link", "set", "lo", "up", netns=self.name)
            _ip("ip", "addr", "add", f"{self.address}/30", "dev", inside, netns=self.name)
            _ip("ip", "link", "set", inside, "up", netns=self.name)
            if self.delay_ms and not self._add_delay(inside):
                self.delay_ms = 0.0  # no netem in this kernel: the link stays as fast as veth
        except Exception:
            self.delete()
            raise
        return self

    def _add_delay(self, device: str) -> bool:
        try:
            _ip("tc", "qdisc", "add", "dev", device, "root", "netem", "delay",
                f"{self.delay_ms}ms", netns=self.name)
        except subprocess.CalledProcessError:
            return False
        return True

    def command(self, argv: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv]

    def delete(self) -> None:
        """Deleting the namespace removes both ends of the veth pair."""
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=10)


def netns_available() -> bool:
    if os.geteuid() != 0:
        return False
    try:
        probe = RemoteHost(f"celeriac-probe-{os.getpid()}", 250).create()
    except (OSError, subprocess.SubprocessError):
        return False
    probe.delete()
    return True
