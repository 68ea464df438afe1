"""The ASGI application (Starlette) behind `coordinator serve`."""

from __future__ import annotations

import html
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coordinator.api import openapi, uploads
from coordinator.api.http import endpoint, error_response, json_response, redis_trouble
from coordinator.api.limits import ApiLimits, RateLimiter
from coordinator.api.routes import ENDPOINTS
from coordinator.dashboard.app import dashboard_routes
from coordinator.service.experiments import Service
from coordinator.state.tokens import StaticTokens, TokenRecord

ENV_TOKENS = "CELERIAC_API_TOKENS"  # comma-separated tokens accepted besides the stored ones


def static_tokens(raw: str | None = None) -> dict[str, TokenRecord]:
    """Tokens from the server's configuration (client 'default'), for fixed deployments."""
    raw = os.environ.get(ENV_TOKENS, "") if raw is None else raw
    return {t.strip(): TokenRecord(id="config", client="default", user="default", created=0)
            for t in raw.split(",") if t.strip()}


class NoSniff:
    """Every answer, errors and the dashboard included, tells browsers not to guess a content
    type: a JSON body holding `<script>` must never be run as HTML."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"x-content-type-options" for k, _ in headers):
                    headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_header)


async def _openapi(_request: Request) -> Response:
    return json_response(openapi.document())


async def _health(_request: Request) -> Response:
    return json_response({"object": "health", "status": "ok"})


async def _not_found(request: Request, exc: Exception) -> Response:
    path = html.escape(request.url.path[:200])
    if isinstance(exc, HTTPException) and exc.status_code == 405:
        return error_response(405, f"Method {html.escape(request.method[:20])} not allowed "
                                   f"on {path}")
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 404:
        return error_response(404, f"Endpoint not found: {path}")
    return error_response(status, "request failed")


async def _redis_trouble(_request: Request, exc: Exception) -> Response:
    """What no endpoint answered itself (the dashboard's sign-in reads tokens from Redis):
    Redis away or full gets its 503 or 507; anything else stays a bug (a logged 500)."""
    response = redis_trouble(exc)
    if response is None:
        raise exc
    return response


def create_app(service: Service, *, refiller: Any = None,
               tokens: dict[str, TokenRecord] | None = None,
               limits: ApiLimits | None = None) -> Starlette:
    """`refiller` has start()/stop() and runs for the app's lifetime (None: no refilling);
    `tokens` replaces CELERIAC_API_TOKENS and `limits` the environment's limits."""
    routes = [Route(e.path, endpoint(e.handler), methods=[e.method]) for e in ENDPOINTS]
    routes += [Route("/openapi.json", _openapi, methods=["GET"]),
               Route("/health", _health, methods=["GET"]),
               Route("/v1/uploads/{file_id}", uploads.put_upload, methods=["PUT"])]

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if refiller is not None:
            refiller.start()
        try:
            yield
        finally:
            if refiller is not None:
                refiller.stop()

    handlers = {HTTPException: _not_found, redis.RedisError: _redis_trouble}
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(NoSniff)],
                    exception_handlers=handlers)
    app.state.service = service
    app.state.tokens = service.tokens
    app.state.specs = {}
    app.state.static_tokens = StaticTokens(static_tokens() if tokens is None else tokens)
    app.state.limits = limits or ApiLimits.from_env()
    app.state.rate_limiter = RateLimiter(service, app.state.limits)
    app.router.routes += dashboard_routes(service, app.state.static_tokens)
    return app
