"""The checkpoint store: where evaluations save training state so that a run resumes on any
worker after its first one died or was preempted.

A directory every worker reaches (shared storage; by default CELERIAC_CHECKPOINT_STORE, else the
worker's own data directory, which only the workers of one machine share), or any fsspec URL (s3://...,
gs://..., with that filesystem's package installed). Each checkpoint is named by experiment,
suggestion, fencing epoch and step, so a zombie's checkpoint never overwrites the current
claimant's; which one a resumed run starts from is recorded, fenced, in Redis.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import fsspec

from coordinator.infra.embedded import data_home
from coordinator.state.store import step_text

STORE_ENV = "CELERIAC_CHECKPOINT_STORE"  # a worker's default when the experiment names none


class CheckpointStore:
    def __init__(self, url: str) -> None:
        url = url or os.environ.get(STORE_ENV) or str(data_home() / "checkpoints")
        self.url = os.path.expanduser(url) if "://" not in url else url
        self.fs: Any
        self.fs, self.root = fsspec.core.url_to_fs(self.url)
        self.root = self.root.rstrip("/")

    def run_dir(self, experiment_id: str, suggestion_id: str) -> str:
        return f"{self.root}/{experiment_id}/{suggestion_id}"

    def location(self, experiment_id: str, suggestion_id: str, epoch: int, step: float) -> str:
        return f"{self.run_dir(experiment_id, suggestion_id)}/{epoch}-{step_text(step)}.ckpt"

    def put(self, local_file: Path, location: str) -> None:
        """Whole or not at all: written under a temporary name, then moved into place."""
        parent = location.rsplit("/", 1)[0]
        self.fs.makedirs(parent, exist_ok=True)
        partial = f"{location}.{uuid.uuid4().hex}.partial"
        self.fs.put_file(str(local_file), partial)
        self.fs.mv(partial, location)

    def get(self, location: str, local_file: Path) -> Path:
        self.fs.get_file(location, str(local_file))
        return local_file

    def exists(self, location: str) -> bool:
        return bool(self.fs.exists(location))

    def delete(self, location: str) -> None:
        if location and self.fs.exists(location):
            self.fs.rm(location)

    def delete_run(self, experiment_id: str, suggestion_id: str) -> None:
        path = self.run_dir(experiment_id, suggestion_id)
        if self.fs.exists(path):
            self.fs.rm(path, recursive=True)

    def files(self, experiment_id: str, suggestion_id: str) -> list[str]:
        path = self.run_dir(experiment_id, suggestion_id)
        if not self.fs.exists(path):
            return []
        return sorted(p for p in self.fs.ls(path, detail=False) if p.endswith(".ckpt"))
