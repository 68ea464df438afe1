"""Files of training runs (`run.log_image`): the record, the one-time upload key's digest, and
the bytes when no file store holds them (infra/file_bytes.py), kept in Redis as base64 (the API
caps a file at api/files.py's MAX_FILE_BYTES).

An upload is claimed by deleting its key's digest (HDEL answers 1 to one caller only), so a key
works once even when two uploads race; the bytes and the uploaded record then go in together.
"""

from __future__ import annotations

import base64
from typing import Any, cast

from coordinator.state import keys
from coordinator.state.store import Store
from coordinator.state.together import together


class Files:
    def __init__(self, store: Store) -> None:
        self.redis: Any = store.redis

    def add(self, file_id: str, record: str, key_digest: str) -> None:
        pipe = together(self.redis)
        pipe.hset(keys.FILES, file_id, record)
        pipe.hset(keys.UPLOADS, file_id, key_digest)
        pipe.execute()

    def record(self, file_id: str) -> str | None:
        return cast(str | None, self.redis.hget(keys.FILES, file_id))

    def key_digest(self, file_id: str) -> str | None:
        """None once the file was uploaded (or for an unknown file)."""
        return cast(str | None, self.redis.hget(keys.UPLOADS, file_id))

    def claim_upload(self, file_id: str) -> bool:
        """True for the one caller that may now store the bytes."""
        return bool(self.redis.hdel(keys.UPLOADS, file_id))

    def store_content(self, file_id: str, record: str, content: bytes) -> None:
        pipe = together(self.redis)  # record, then index (state/together.py)
        pipe.set(keys.file_content(file_id), base64.b64encode(content).decode("ascii"))
        pipe.hset(keys.FILES, file_id, record)
        pipe.execute()

    def mark_uploaded(self, file_id: str, record: str) -> None:
        """The bytes went to a file store; the record says where."""
        self.redis.hset(keys.FILES, file_id, record)

    def content(self, file_id: str) -> bytes | None:
        text = self.redis.get(keys.file_content(file_id))
        return None if text is None else base64.b64decode(text)
