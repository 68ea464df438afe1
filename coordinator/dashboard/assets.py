"""Plotly's JavaScript bundle, served from the installed `plotly` package (its package data),
never from a CDN: the dashboard works offline and behind any firewall, and the version that
runs is the one pip installed, upgraded like any other dependency.

About 4.7 MB as shipped and 1.4 MB gzipped, so it is compressed once, sent compressed to any
browser that accepts it, and kept by the browser for a day (revalidated by its version).
"""

from __future__ import annotations

import functools
import gzip
from importlib import metadata, resources

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

CACHE = "private, max-age=86400"


@functools.cache
def plotly_bundle() -> tuple[bytes, bytes, str]:
    """(plain, gzipped, etag) of plotly.min.js, read once per process."""
    plain = resources.files("plotly").joinpath("package_data/plotly.min.js").read_bytes()
    etag = f'"plotly-{metadata.version("plotly")}"'
    return plain, gzip.compress(plain, compresslevel=6, mtime=0), etag


async def plotly_js(request: Request) -> Response:
    plain, packed, etag = await run_in_threadpool(plotly_bundle)  # the first read compresses
    headers = {"Cache-Control": CACHE, "ETag": etag, "Vary": "Accept-Encoding",
               "X-Content-Type-Options": "nosniff"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(packed, media_type="text/javascript",
                        headers={**headers, "Content-Encoding": "gzip"})
    return Response(plain, media_type="text/javascript", headers=headers)
