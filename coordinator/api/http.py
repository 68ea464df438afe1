"""The request plumbing every endpoint shares: auth, JSON bodies, errors as SigOpt bodies.

Endpoints are plain synchronous functions of a `Call`; `endpoint()` wraps them into Starlette
handlers that run them in the thread pool (Redis calls block), so a slow call never stalls the
event loop, and that turn every failure into `{"message", "status"}` (a bug becomes a 500 that
is logged, never a traceback in the body).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from coordinator.api.limits import BodyTooLarge, read_body, retry_after
from coordinator.errors import CeleriacError, InvalidInput, RedisFull
from coordinator.infra.outage import explain
from coordinator.service.access import RevokedToken, authenticate
from coordinator.service.experiments import Service
from coordinator.state.tokens import TokenRecord, digest
from coordinator.web.statuses import http_status

log = logging.getLogger("coordinator.api")

BODY_METHODS = ("POST", "PUT", "MERGE")
RETRY_AFTER_S = 5  # seconds a client waits before retrying while Redis is away
MAX_DEPTH = 32  # SigOpt bodies nest 4 deep; deeper JSON would only feed recursive code


@dataclass
class Call:
    """One request as an endpoint sees it: path params, query, JSON body and the caller."""

    service: Service
    path: dict[str, str]
    query: Mapping[str, str]
    body: dict[str, Any]
    token: TokenRecord
    token_text: str
    headers: Mapping[str, str] = field(default_factory=dict)
    specs: dict[str, Any] = field(default_factory=dict)  # per app: experiment id -> Experiment


class Reply:
    """What an endpoint returns when it is not a plain JSON object with status 200."""

    def __init__(self, body: Any = None, status: int = 200) -> None:
        self.body = body
        self.status = status


Handler = Callable[[Call], Any]


def error_response(status: int, message: str, *, headers: Mapping[str, str] | None = None,
                   **extra: Any) -> Response:
    return json_response({"message": message, "status": status, **extra}, status, headers)


def json_response(body: Any, status: int = 200,
                  headers: Mapping[str, str] | None = None) -> Response:
    """JSON only, ASCII only, and with <, > and & escaped: even a browser that ignores the
    content type finds no markup in an experiment name or a metadata value."""
    text = json.dumps(body, allow_nan=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Response(text, status_code=status, media_type="application/json",
                    headers=dict(headers or {}))


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text[:40]} is too large for a double")
    return value


def _int64(text: str) -> int:
    """SigOpt's integers are 64-bit; bigger ones only make later float conversions overflow."""
    value = int(text)
    if not -2**63 <= value < 2**63:
        raise ValueError(f"{text[:40]}... is too large for a 64-bit integer")
    return value


def parse_body(raw: bytes) -> dict[str, Any]:
    """An empty body is `{}`; anything but a JSON object is a 400 that says why."""
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant,
                          parse_float=_finite_float, parse_int=_int64)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InvalidInput(f"request body: not valid JSON ({str(exc)[:200]})") from None
    if not isinstance(body, dict):
        raise InvalidInput(f"request body: must be a JSON object, got {type(body).__name__}")
    _check_tree(body)
    return body


def _check_tree(body: dict[str, Any]) -> None:
    """Depth (recursive code further on must not overflow) and strings Redis can store (JSON
    may escape a lone UTF-16 surrogate, which no UTF-8 encoder accepts); no recursion here."""
    stack: list[tuple[Any, int]] = [(body, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InvalidInput(f"request body: nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, dict):
            stack.extend((k, depth) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, str) and not item.isascii():
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidInput("request body: a string holds an unpaired UTF-16 surrogate "
                                   "escape (\\ud800-\\udfff)") from None


def endpoint(handler: Handler) -> Callable[[Request], Any]:
    async def run(request: Request) -> Response:
        try:
            raw = b""
            if request.method in BODY_METHODS:
                raw = await read_body(request, request.app.state.limits.max_body)
        except BodyTooLarge as exc:
            return error_response(413, str(exc))
        try:
            return await run_in_threadpool(_call, request, handler, raw)
        except Exception:  # a bug: log it, answer 500 without internals
            log.exception("unhandled error in %s %s", request.method, request.url.path)
            return error_response(500, "internal server error; the server log has details")

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


def _call(request: Request, handler: Handler, raw: bytes) -> Response:
    state = request.app.state
    try:
        token_text, token = authenticate(state.tokens, request.headers.get("authorization"),
                                         state.static_tokens)
        wait = state.rate_limiter.wait(digest(token_text))
        if wait is not None:
            return error_response(429, f"rate limit: more than {state.limits.rate:g} requests "
                                  f"per second with this token; retry in {wait:.1f} s",
                                  headers={"Retry-After": retry_after(wait)})
        call = Call(service=state.service, path=dict(request.path_params),
                    query=request.query_params, body=parse_body(raw), token=token,
                    token_text=token_text, headers=request.headers, specs=state.specs)
        result = handler(call)
    except CeleriacError as exc:
        extra: dict[str, Any] = {"token_status": "revoked"} \
            if isinstance(exc, RevokedToken) else {}
        status = http_status(exc)
        return error_response(status, exc.message, headers=_retry_header(status), **extra)
    except Exception as exc:
        response = redis_trouble(exc)
        if response is None:
            raise
        return response
    if isinstance(result, Response):  # bytes, not JSON (a file's content)
        return result
    if isinstance(result, Reply):
        if result.status == 204 or result.body is None:
            return Response(status_code=204)
        return json_response(result.body, result.status)
    return json_response(result)


def redis_trouble(exc: BaseException) -> Response | None:
    """Redis away: 503 with Retry-After, and the same request works once it is back; Redis at
    maxmemory: 507 saying what to free. None for anything else (a bug: the caller's 500)."""
    trouble = explain(exc)
    if trouble is None:
        return None
    if isinstance(trouble, RedisFull):
        return error_response(http_status(trouble), trouble.message)
    return error_response(503, f"Redis is unavailable ({exc}); retry in {RETRY_AFTER_S} s",
                          headers=_retry_header(503))


def _retry_header(status: int) -> dict[str, str]:
    return {"Retry-After": str(RETRY_AFTER_S)} if status == 503 else {}
