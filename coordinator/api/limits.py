"""Limits that keep one API client from starving the others: a per-token request rate and a
request body size.

The rate limit is a token bucket per API token kept in Redis (`lua/rate_limit.lua`), so several
`coordinator serve` processes behind one load balancer enforce one shared limit, and a refused
request gets SigOpt's answer: 429 with `Retry-After`, which the official client retries with
back-off. The body limit is enforced while the body streams in, so a huge upload is refused
after at most `max_body` bytes instead of being buffered first.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

from starlette.requests import Request

from coordinator.env_numbers import env_int
from coordinator.errors import InvalidInput
from coordinator.service.experiments import Service

ENV_RATE = "CELERIAC_API_RATE_LIMIT"  # "N/s" (or "N"); "0" or "off" turns the limit off
ENV_BURST = "CELERIAC_API_BURST"
ENV_MAX_BODY = "CELERIAC_API_MAX_BODY_BYTES"

# Generous on purpose: a client with dozens of busy threads stays far below it; it exists to
# stop runaway loops and floods, not to meter normal use.
DEFAULT_RATE = 200.0  # requests per second per token, sustained
DEFAULT_BURST = 2000  # requests per token back to back
DEFAULT_MAX_BODY = 1024 * 1024  # bytes; SigOpt bodies are a few kB, run logs at most ~100 kB

RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*s(?:ec(?:ond)?)?)?\s*$")


@dataclass(frozen=True)
class ApiLimits:
    rate: float = DEFAULT_RATE  # 0: no rate limit
    burst: int = DEFAULT_BURST
    max_body: int = DEFAULT_MAX_BODY

    @classmethod
    def from_env(cls, rate: str | None = None, burst: int | None = None,
                 max_body: int | None = None) -> ApiLimits:
        """Explicit values (the CLI's options) win over the environment, which wins over the
        defaults."""
        rate_text = rate if rate is not None else os.environ.get(ENV_RATE)
        if burst is None:
            burst = env_int(ENV_BURST, DEFAULT_BURST, 0, 10**9, "requests")
        if max_body is None:
            max_body = env_int(ENV_MAX_BODY, DEFAULT_MAX_BODY, 0, 2**40, "bytes")
        limits = cls(rate=parse_rate(rate_text) if rate_text is not None else DEFAULT_RATE,
                     burst=burst, max_body=max_body)
        limits.check()
        return limits

    def check(self) -> None:
        if self.rate and self.burst < 1:
            raise InvalidInput(f"burst: must be at least 1 request, got {self.burst}")
        if self.max_body < 1024:
            raise InvalidInput(f"max body: must be at least 1024 bytes, got {self.max_body}")


def parse_rate(text: str) -> float:
    """`100/s`, `2.5/s` or `100`; `0` or `off` disables the limit."""
    if text.strip().lower() in ("off", "none", ""):
        return 0.0
    found = RATE.match(text)
    if not found:
        raise InvalidInput(f"rate limit: expected requests per second such as '100/s' or "
                           f"'off', got {text[:40]!r}")
    return float(found.group(1))


class RateLimiter:
    """One bucket per token digest; `wait(digest)` is None (go on) or seconds to wait."""

    def __init__(self, service: Service, limits: ApiLimits) -> None:
        self.service, self.limits = service, limits

    def wait(self, token_digest: str) -> float | None:
        if not self.limits.rate:
            return None
        return self.service.spend_request(token_digest, self.limits.rate, self.limits.burst)


def retry_after(seconds: float) -> str:
    """Retry-After takes whole seconds; rounding down would invite an early, refused retry."""
    return str(max(1, math.ceil(seconds)))


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"request body: larger than the limit of {limit} bytes; send less "
                         f"(the server's --max-body-bytes)")


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as Content-Length or the bytes received pass `limit`."""
    declared = request.headers.get("content-length", "").strip()
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)
