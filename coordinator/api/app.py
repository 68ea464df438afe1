"""The ASGI application (Starlette) behind `coordinator serve`."""

from __future__ import annotations

import html
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from coordinator.api import openapi
from coordinator.api.http import endpoint, error_response
from coordinator.api.routes import ENDPOINTS
from coordinator.service import Service
from coordinator.tokens import TokenRecord, Tokens

ENV_TOKENS = "CELERIAC_API_TOKENS"  # comma-separated tokens accepted besides the stored ones


def static_tokens(raw: str | None = None) -> dict[str, TokenRecord]:
    """Tokens from the server's configuration (client 'default'), for fixed deployments."""
    raw = os.environ.get(ENV_TOKENS, "") if raw is None else raw
    return {t.strip(): TokenRecord(id="config", client="default", user="default", created=0)
            for t in raw.split(",") if t.strip()}


async def _openapi(_request: Request) -> Response:
    return JSONResponse(openapi.document())


async def _health(_request: Request) -> Response:
    return JSONResponse({"object": "health", "status": "ok"})


async def _not_found(request: Request, exc: Exception) -> Response:
    path = html.escape(request.url.path[:200])
    if isinstance(exc, HTTPException) and exc.status_code == 405:
        return error_response(405, f"Method {html.escape(request.method[:20])} not allowed "
                                   f"on {path}")
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 404:
        return error_response(404, f"Endpoint not found: {path}")
    return error_response(status, "request failed")


def create_app(service: Service, *, refiller: Any = None,
               tokens: dict[str, TokenRecord] | None = None) -> Starlette:
    """`refiller` has start()/stop() and runs for the app's lifetime (None: no refilling)."""
    routes = [Route(e.path, endpoint(e.handler), methods=[e.method]) for e in ENDPOINTS]
    routes += [Route("/openapi.json", _openapi, methods=["GET"]),
               Route("/health", _health, methods=["GET"])]

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if refiller is not None:
            refiller.start()
        try:
            yield
        finally:
            if refiller is not None:
                refiller.stop()

    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={HTTPException: _not_found})
    app.state.service = service
    app.state.tokens = Tokens(service.store.redis)
    app.state.specs = {}
    app.state.static_tokens = static_tokens() if tokens is None else tokens
    from coordinator.dashboard import dashboard_routes  # lazy: the dashboard imports api.http
    app.router.routes += dashboard_routes(service, app.state.static_tokens)
    return app
