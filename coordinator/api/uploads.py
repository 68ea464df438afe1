"""PUT /v1/uploads/{file_id}?key=...: the bytes of a file declared by POST .../files.

SigOpt's client sends them with plain `requests` and no API token (to what is, on SigOpt, a
presigned storage URL), so this route is the one outside the token check: the random key in the
URL is the permission, good once. The body must have the declared length and MD5 and stay under
files.MAX_FILE_BYTES.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from coordinator.api.files import MAX_FILE_BYTES, key_digest
from coordinator.api.http import error_response, redis_trouble
from coordinator.api.limits import BodyTooLarge, read_body
from coordinator.errors import CeleriacError, Conflict, Forbidden, InvalidInput, NotFound
from coordinator.infra.file_bytes import FileBytes
from coordinator.service.experiments import Service
from coordinator.state.files import Files
from coordinator.web.statuses import http_status

log = logging.getLogger("coordinator.api")


def permitted(service: Service, raw_id: str, key: str) -> dict[str, Any]:
    """The file's record, if the key is its upload key and unused: checked before the body is
    read, so a request without the key never makes the server hold 10 MiB."""
    files = Files(service.store)
    text = files.record(raw_id) if raw_id.isdigit() and len(raw_id) <= 30 else None
    if text is None:
        raise NotFound(f"file {raw_id[:40]!r} not found")
    record: dict[str, Any] = json.loads(text)
    digest = files.key_digest(record["id"])
    if digest is None:
        raise Conflict(f"file {record['id']} was uploaded already; its upload key worked once "
                       f"(log the file again for a new one)")
    if not hmac.compare_digest(digest, key_digest(key)):
        raise Forbidden(f"file {record['id']}: the upload key does not match")
    return record


def accept(service: Service, record: dict[str, Any], content: bytes) -> None:
    if len(content) != record["content_length"]:
        raise InvalidInput(f"upload: {len(content)} bytes arrived, content_length declared "
                           f"{record['content_length']}")
    md5 = base64.b64encode(hashlib.md5(content).digest()).decode()  # noqa: S324 (a checksum)
    if md5 != record["content_md5"]:
        raise InvalidInput(f"upload: the bytes' MD5 is {md5}, content_md5 declared "
                           f"{record['content_md5']}")
    files = Files(service.store)
    if not files.claim_upload(record["id"]):
        raise Conflict(f"file {record['id']} was uploaded already (by a concurrent upload)")
    FileBytes(files).save(record, content)


async def put_upload(request: Request) -> Response:
    service = request.app.state.service
    try:
        record = await run_in_threadpool(permitted, service, request.path_params["file_id"],
                                         request.query_params.get("key", ""))
        content = await read_body(request, min(record["content_length"], MAX_FILE_BYTES))
        await run_in_threadpool(accept, service, record, content)
    except BodyTooLarge:
        return error_response(413, f"upload: more bytes than the content_length declared "
                                   f"(at most {MAX_FILE_BYTES} bytes a file)")
    except CeleriacError as exc:
        return error_response(http_status(exc), exc.message)
    except Exception as exc:
        response = redis_trouble(exc)
        if response is not None:
            return response
        log.exception("unhandled error in PUT %s", request.url.path)
        return error_response(500, "internal server error; the server log has details")
    return Response(status_code=200)
