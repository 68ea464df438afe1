"""The experiment dashboard: a Starlette sub-application mounted at /dashboard by the API app.

Pages are static HTML shells; a small script fills them from JSON endpoints with textContent
only, and draws the figures from JSON with Plotly (served from the installed package, never a
CDN: assets.py), every label escaped for Plotly's own markup, so no experiment, parameter,
metric or metadata name can become markup. The figures also exist as SVG (the report's).
Everything, static files included, sits behind the API's own authentication: HTTP basic
with an API token as the user name, which the browser asks for once and keeps for the session
(tokens never appear in URLs, logs or history).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from coordinator.dashboard import data, svg
from coordinator.dashboard.assets import plotly_js
from coordinator.dashboard.caches import BestCache, FigureCache
from coordinator.errors import CeleriacError, InvalidInput
from coordinator.infra.outage import explain
from coordinator.service.access import authenticate, not_found, visible
from coordinator.service.experiments import Service
from coordinator.state.tokens import StaticTokens, TokenRecord, Tokens
from coordinator.web.statuses import http_status

STATIC = Path(__file__).parent / "static"
REALM = 'Basic realm="Celeriac dashboard: API token as user name", charset="UTF-8"'
PAGE_POLICY = ("default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
               "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'")
# The experiment page draws with Plotly, which writes its own <style> element and style
# attributes (inline styles are allowed there), offers its PNG download as a data: image, and
# draws parallel coordinates with WebGL through regl, which builds its draw calls with `new
# Function`: 'unsafe-eval' on this page only. Inline scripts stay refused, and no name from
# Redis ever reaches markup or code (textContent, and esc() for Plotly's labels).
PLOT_PAGE_POLICY = PAGE_POLICY.replace("img-src 'self'", "img-src 'self' data: blob:").replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'").replace(
    "script-src 'self'", "script-src 'self' 'unsafe-eval'")
RETRY_AFTER_S = 5  # as the API's: the page polls again anyway
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "X-Frame-Options": "DENY", "Cache-Control": "no-store"}


class BasicAuth:
    """ASGI wrapper: every dashboard request needs a valid API token as basic-auth user."""

    def __init__(self, app: ASGIApp, tokens: Tokens, static: StaticTokens) -> None:
        self.app, self.tokens, self.static = app, tokens, static  # digests only: see tokens.py

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = Request(scope).headers.get("authorization")
        try:
            _token, record = await run_in_threadpool(authenticate, self.tokens, header,
                                                     self.static)
        except CeleriacError as exc:
            status = 403 if http_status(exc) == 403 else 401
            extra = {"WWW-Authenticate": REALM} if status == 401 else {}
            response = Response(f"{exc.message}\n", status_code=status, media_type="text/plain",
                                headers={**HEADERS, **extra})
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["client"] = record.client  # what this token may see
        await self.app(scope, receive, send)


def _clean(value: Any) -> Any:
    """JSON allows no NaN or infinity: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def json_reply(body: Any, status: int = 200) -> Response:
    text = json.dumps(_clean(body), allow_nan=False, separators=(",", ":"))
    return Response(text, status_code=status, media_type="application/json", headers=HEADERS)


def page(name: str, policy: str = PAGE_POLICY) -> Any:
    async def serve(_request: Request) -> Response:
        return FileResponse(STATIC / name, headers={**HEADERS,
                                                    "Content-Security-Policy": policy})
    return serve


def dashboard_app(service: Service,
                  static_tokens: StaticTokens | dict[str, TokenRecord] | None = None) -> ASGIApp:
    cache, best = FigureCache(), BestCache(service)

    def read(request: Request) -> Response:
        """Runs in the thread pool: every Redis read blocks."""
        path = request.url.path.rstrip("/")
        client = request.state.client
        try:
            if path.endswith("/api/experiments"):
                return json_reply({"experiments": data.experiment_list(service, client, best),
                                   "client": client})
            eid = request.path_params["experiment_id"]
            _check_visible(service, eid, client)
            if "name" in request.path_params:
                return _figure(service, cache, eid, request.path_params["name"])
            if path.endswith("/figures"):
                return _figures_json(service, cache, eid)
            if path.endswith("/observations"):
                return json_reply(data.observation_page(service, eid, _page(request)))
            since = request.query_params.get("since")
            if since and since == data.version(service, service.experiment(eid)):
                return json_reply({"unchanged": True, "version": since})
            view = data.experiment_view(service, data.snapshot(service, eid))
            return json_reply({**view, "client": client})
        except CeleriacError as exc:
            status = http_status(exc)
            return json_reply({"message": exc.message, "status": status}, status)
        except Exception as exc:  # Redis away or full: the page says so and polls again
            trouble = explain(exc)
            if not isinstance(trouble, CeleriacError):
                raise
            status = http_status(trouble)
            reply = json_reply({"message": trouble.message, "status": status}, status)
            if status == 503:
                reply.headers["Retry-After"] = str(RETRY_AFTER_S)
            return reply

    async def endpoint(request: Request) -> Response:
        return await run_in_threadpool(read, request)

    routes: list[BaseRoute] = [
        Route("/", page("index.html")),
        Route("/experiments/{experiment_id}", page("experiment.html", PLOT_PAGE_POLICY)),
        Route("/api/experiments", endpoint),
        Route("/api/experiments/{experiment_id}", endpoint),
        Route("/api/experiments/{experiment_id}/figures", endpoint),
        Route("/api/experiments/{experiment_id}/observations", endpoint),
        Route("/api/experiments/{experiment_id}/plots/{name}.svg", endpoint),
        Route("/static/plotly.min.js", plotly_js),
        Mount("/static", app=StaticFiles(directory=STATIC)),
    ]
    app = Starlette(routes=routes)
    return BasicAuth(app, service.tokens, static_tokens
                     if isinstance(static_tokens, StaticTokens) else StaticTokens(static_tokens))


def _page(request: Request) -> int:
    raw = request.query_params.get("page", "0")
    if not raw.isdigit() or int(raw) > 10_000_000:
        raise InvalidInput(f"page: {raw!r} is not a page number (0 is the newest)")
    return int(raw)


def _check_visible(service: Service, experiment_id: str, client: str) -> None:
    """Another client's experiment looks exactly like a missing one, as in the API."""
    try:
        experiment = service.experiment(experiment_id)
    except CeleriacError:
        raise not_found(experiment_id) from None
    if not visible(experiment, client):
        raise not_found(experiment_id)


def _figures_json(service: Service, cache: FigureCache, experiment_id: str) -> Response:
    """Every figure's data, drawn by the browser, and the parameter importance. Asked for
    once per version (the page passes it), so it may be kept a minute."""
    snap = data.snapshot(service, experiment_id)
    body = {"version": snap.version,
            "figures": [data.figure_data(f) for f in cache.get(service, snap)],
            "importance": cache.importance_of(snap)}
    response = json_reply(body)
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


def _figure(service: Service, cache: FigureCache, experiment_id: str, name: str) -> Response:
    snap = data.snapshot(service, experiment_id)
    found = next((f for f in cache.get(service, snap) if f.name == name), None)
    if found is None:
        return Response("no such figure\n", status_code=404, media_type="text/plain",
                        headers=HEADERS)
    return Response(svg.render(found), media_type="image/svg+xml",
                    headers={**HEADERS, "Content-Security-Policy": SVG_POLICY,
                             "Cache-Control": "private, max-age=60"})


async def _to_dashboard(_request: Request) -> Response:
    return RedirectResponse("/dashboard/", status_code=307)


def dashboard_routes(service: Service,
                     static_tokens: StaticTokens | dict[str, TokenRecord] | None = None
                     ) -> list[BaseRoute]:
    """What the API app adds to its routes: the dashboard, and `/` pointing at it."""
    return [Mount("/dashboard", app=dashboard_app(service, static_tokens)),
            Route("/", _to_dashboard, methods=["GET"])]
