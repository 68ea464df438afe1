"""The request plumbing every endpoint shares: auth, JSON bodies, errors as SigOpt bodies.

Endpoints are plain synchronous functions of a `Call`; `endpoint()` wraps them into Starlette
handlers that run them in the thread pool (Redis calls block), so a slow call never stalls the
event loop, and that turn every failure into `{"message", "status"}` (a bug becomes a 500 that
is logged, never a traceback in the body).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import redis
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from coordinator.errors import CeleriacError, Forbidden, InvalidInput, Unauthorized
from coordinator.service import Service
from coordinator.tokens import TokenRecord, Tokens

log = logging.getLogger("coordinator.api")

MAX_BODY_BYTES = 1_000_000
BODY_METHODS = ("POST", "PUT", "MERGE")


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


def error_response(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"message": message, "status": status, **extra}, status_code=status)


def json_response(body: Any, status: int = 200) -> Response:
    text = json.dumps(body, allow_nan=False, separators=(",", ":"))
    return Response(text, status_code=status, media_type="application/json")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text[:40]} is too large for a double")
    return value


def parse_body(raw: bytes) -> dict[str, Any]:
    """An empty body is `{}`; anything but a JSON object is a 400 that says why."""
    if len(raw) > MAX_BODY_BYTES:
        raise InvalidInput(f"request body: larger than {MAX_BODY_BYTES} bytes")
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant,
                          parse_float=_finite_float)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InvalidInput(f"request body: not valid JSON ({str(exc)[:200]})") from None
    if not isinstance(body, dict):
        raise InvalidInput(f"request body: must be a JSON object, got {type(body).__name__}")
    return body


def token_from_header(header: str | None) -> str:
    """HTTP Basic with the token as user name (SigOpt's scheme); a bare token is accepted."""
    if not header:
        raise Unauthorized("no API token: send HTTP basic auth with the token as user name "
                           "(SIGOPT_API_TOKEN); `coordinator token create` makes one")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        raise InvalidInput("Authorization: expected 'Basic base64(token:)'")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidInput("Authorization: the basic credentials are not valid base64") from None
    token = decoded.partition(":")[0]
    if not token:
        raise Unauthorized("no API token in the basic credentials' user name")
    return token


def authenticate(tokens: Tokens, header: str | None,
                 static: Mapping[str, TokenRecord]) -> tuple[str, TokenRecord]:
    token = token_from_header(header)
    record = static.get(token) or tokens.lookup(token)
    if record is None:
        raise Forbidden("unknown API token; `coordinator token list` shows the valid ones")
    if record.revoked:
        raise Forbidden("this API token was revoked")
    return token, record


def endpoint(handler: Handler) -> Callable[[Request], Any]:
    async def run(request: Request) -> Response:
        raw = await request.body() if request.method in BODY_METHODS else b""
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
        call = Call(service=state.service, path=dict(request.path_params),
                    query=request.query_params, body=parse_body(raw), token=token,
                    token_text=token_text, headers=request.headers, specs=state.specs)
        result = handler(call)
    except CeleriacError as exc:
        extra = {"token_status": "revoked"} if "revoked" in exc.message else {}
        return error_response(exc.status, exc.message, **extra)
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        return error_response(503, f"Redis is unavailable: {exc}; retry shortly")
    if isinstance(result, Reply):
        if result.status == 204 or result.body is None:
            return Response(status_code=204)
        return json_response(result.body, result.status)
    return json_response(result)
