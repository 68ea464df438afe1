"""Where the bytes of uploaded files (`run.log_image`) go: the checkpoint store when the API
server has one (CELERIAC_CHECKPOINT_STORE: a directory every server reaches, or an fsspec URL
such as s3://bucket/prefix), else Redis (state/files.py), base64, beside the file's record.

The record keeps the full location, so any server that reaches the store can serve the file.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import fsspec

from coordinator.state.files import Files

STORE_ENV = "CELERIAC_CHECKPOINT_STORE"  # the workers' checkpoint store, shared with them


class FileBytes:
    def __init__(self, files: Files, url: str | None = None) -> None:
        url = os.environ.get(STORE_ENV, "") if url is None else url
        self.files = files
        self.root = (os.path.expanduser(url) if "://" not in url else url).rstrip("/")

    def save(self, record: dict[str, Any], content: bytes) -> dict[str, Any]:
        """Stores the bytes and the record marked uploaded (with their location); returns it."""
        file_id = str(record["id"])
        if not self.root:
            uploaded = {**record, "uploaded": True, "location": None}
            self.files.store_content(file_id, json.dumps(uploaded), content)
            return uploaded
        location = f"{self.root}/files/{file_id}"
        fs, path = fsspec.core.url_to_fs(location)
        fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        partial = f"{path}.{uuid.uuid4().hex}.partial"  # whole or not at all
        fs.pipe_file(partial, content)
        fs.mv(partial, path)
        uploaded = {**record, "uploaded": True, "location": location}
        self.files.mark_uploaded(file_id, json.dumps(uploaded))
        return uploaded

    def load(self, record: dict[str, Any]) -> bytes | None:
        location = record.get("location")
        if not location:
            return self.files.content(str(record["id"]))
        fs, path = fsspec.core.url_to_fs(location)
        try:
            return bytes(fs.cat_file(path))
        except FileNotFoundError:
            return None
