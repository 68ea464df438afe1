"""Files of training runs (`run.log_image`), as SigOpt's client uses them: POST
/v1/training_runs/{id}/files declares the file (length, base64 MD5, type) and answers where to
send the bytes; the client then PUTs them there with plain `requests` and no token, so the URL
carries a one-time random key (api/uploads.py checks it, the length and the MD5).

Bytes go to the server's checkpoint store, or else Redis (infra/file_bytes.py); either way a
file is capped at MAX_FILE_BYTES (the upload is read whole). The run's `files`
lists its files' ids; GET /v1/files/{id} gives the record and, once uploaded, a download URL
(GET with the API token).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable
from typing import Any

from starlette.responses import Response

from coordinator.api import project_runs, runs
from coordinator.api.bodies import object_id, raise_problems
from coordinator.api.http import Call
from coordinator.errors import InvalidInput, NotFound
from coordinator.infra.file_bytes import FileBytes
from coordinator.spec import models
from coordinator.spec.validation import Problems, as_int, as_text, present, unknown_keys
from coordinator.state.files import Files

MAX_FILE_BYTES = 10 * 2**20  # 10 MiB: an upload is read whole, and may be kept in Redis
CONTENT_TYPE = re.compile(r"^[\w.+-]{1,60}/[\w.+-]{1,60}$")
FILE_KEYS = models.keys(models.FileCreate)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _md5(raw: Any, problems: Problems) -> str | None:
    try:
        ok = isinstance(raw, str) and len(base64.b64decode(raw, validate=True)) == 16
    except (binascii.Error, ValueError):
        ok = False
    if not ok:
        problems.add("content_md5", "must be the base64 of the file's 16-byte MD5 digest")
        return None
    return str(raw)


def _declared(body: dict[str, Any]) -> dict[str, Any]:
    problems = Problems()
    unknown_keys(body, FILE_KEYS, "", problems)
    missing = [k for k in FILE_KEYS[:3] if k not in body]
    if missing:
        raise InvalidInput(f"{', '.join(missing)}: required (the client sends them all)")
    length = as_int(body.get("content_length"), "content_length", problems, low=1,
                    high=MAX_FILE_BYTES)
    md5 = _md5(body.get("content_md5"), problems)
    content_type = body.get("content_type")
    if not isinstance(content_type, str) or not CONTENT_TYPE.match(content_type):
        problems.add("content_type", "must be a media type such as image/png")
    name = as_text(body["name"], "name", problems, max_len=100) if "name" in body else None
    filename = as_text(body["filename"], "filename", problems, max_len=300) \
        if "filename" in body else None
    models.check(models.FileCreate, body, problems)
    raise_problems(problems)
    return {"name": name, "filename": filename, "content_type": content_type,
            "content_length": length, "content_md5": md5}


def _add_file(file_id: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        run = json.loads(text)
        run["files"] = [*(run.get("files") or []), file_id]
        run["updated"] = int(time.time())
        return runs.bounded(run)
    return change


def _attacher(call: Call) -> tuple[str, Callable[[str], object]]:
    """The run's id, and how to add a file to its `files` (another client's run is not
    found: nothing is allocated or written for it)."""
    located = project_runs.locate(call.service, call.path["run_id"], call.token.client)
    if located is not None:
        return located.run_id, lambda file_id: located.store.update(
            located.client, located.project, located.run_id, _add_file(file_id))
    experiment, run_id = runs.locate(call.service, call.path["run_id"], call.token.client)
    return run_id, lambda file_id: call.service.update_run(
        experiment.id, run_id, _add_file(file_id))


def base_url(call: Call) -> str:
    """This server as the client reached it (the upload goes back to the same address)."""
    scheme = call.headers.get("x-forwarded-proto", "http")
    host = call.headers.get("host") or "127.0.0.1"
    return f"{scheme if scheme in ('http', 'https') else 'http'}://{host}"


def render(record: dict[str, Any], call: Call) -> dict[str, Any]:
    shown = {k: v for k, v in record.items() if k not in ("client", "location")}
    shown["download"] = {"method": "GET", "headers": {},
                         "url": f"{base_url(call)}/v1/files/{record['id']}/content"} \
        if record.get("uploaded") else None
    return shown


def post_file(call: Call) -> dict[str, Any]:
    run_id, attach = _attacher(call)
    declared = _declared(present(call.body))
    file_id = call.service.store.allocate_ids(1)[0]
    attach(file_id)
    record = {"object": "file", "id": file_id, **declared, "created": int(time.time()),
              "training_run": run_id, "client": call.token.client, "uploaded": False}
    key = secrets.token_urlsafe(32)
    Files(call.service.store).add(file_id, json.dumps(record), key_digest(key))
    upload = {"method": "PUT", "url": f"{base_url(call)}/v1/uploads/{file_id}?key={key}",
              "headers": {"Content-Type": declared["content_type"],
                          "Content-MD5": declared["content_md5"]}}
    return {**render(record, call), "upload": upload}


def _record(call: Call) -> dict[str, Any]:
    raw = call.path["file_id"]
    file_id = object_id(raw, "file", Problems())
    text = Files(call.service.store).record(file_id) if file_id else None
    record: dict[str, Any] | None = json.loads(text) if text else None
    if record is None or record.get("client") != call.token.client:
        raise NotFound(f"file {raw[:40]!r} not found")
    return record


def get_file(call: Call) -> dict[str, Any]:
    return render(_record(call), call)


def get_content(call: Call) -> Response:
    """The bytes as an attachment of no runnable type: an uploaded SVG must never run as a
    page of this origin (the dashboard's)."""
    record = _record(call)
    content = FileBytes(Files(call.service.store)).load(record) if record.get("uploaded") \
        else None
    if content is None:
        raise NotFound(f"file {record['id']} has no content yet: its upload has not arrived")
    return Response(content, media_type="application/octet-stream", headers={
        "Content-Disposition": f"attachment; filename=file-{record['id']}",
        "Content-Security-Policy": "sandbox", "X-Declared-Content-Type":
        record["content_type"]})
