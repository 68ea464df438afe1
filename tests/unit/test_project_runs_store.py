"""Project runs and files in Redis (fakeredis with Lua): ids shared with experiments' runs, the
run state machine kept, an upload key that works once, bytes in Redis or in a file store."""

from __future__ import annotations

import json

import pytest

from coordinator.errors import RunStateRefused, TrainingRunNotFound
from coordinator.infra.file_bytes import FileBytes
from coordinator.state.files import Files
from coordinator.state.project_runs import ProjectRuns
from coordinator.state.store import Store


def record(run_id: str, state: str = "active") -> str:
    return json.dumps({"id": run_id, "state": state})


def set_state(state: str):
    return lambda text: json.dumps({**json.loads(text), "state": state})


def test_a_project_run_is_found_by_its_id_and_listed_under_its_project(store: Store):
    runs = ProjectRuns(store)
    first, second = store.allocate_ids(2)
    runs.add("team", "proj", [(first, record(first)), (second, record(second))])
    assert runs.home(first) == ("team", "proj")
    assert runs.home("999") is None
    assert sorted(json.loads(t)["id"] for t in runs.runs("team", "proj")) == [first, second]
    assert runs.runs("other", "proj") == []


def test_a_project_run_moves_only_along_the_run_state_machine(store: Store):
    runs = ProjectRuns(store)
    run_id = store.allocate_ids(1)[0]
    runs.add("team", "proj", [(run_id, record(run_id))])
    assert runs.update("team", "proj", run_id, set_state("completed")).finishes
    assert not runs.update("team", "proj", run_id, set_state("failed")).finishes
    with pytest.raises(RunStateRefused):
        runs.update("team", "proj", run_id, set_state("active"))
    with pytest.raises(TrainingRunNotFound):
        runs.update("team", "other", run_id, set_state("failed"))


def test_an_upload_key_is_claimed_once_and_bytes_come_back_from_redis(store: Store):
    files = Files(store)
    files.add("7", json.dumps({"id": "7"}), "digest")
    assert files.key_digest("7") == "digest"
    assert files.claim_upload("7") and not files.claim_upload("7")
    saved = FileBytes(files, url="").save({"id": "7"}, b"\x00\xffbytes")
    assert saved["uploaded"] and saved["location"] is None
    assert FileBytes(files, url="").load(saved) == b"\x00\xffbytes"
    assert json.loads(files.record("7") or "{}")["uploaded"] is True


def test_with_a_file_store_the_bytes_go_there_and_redis_keeps_the_location(store: Store,
                                                                          tmp_path):
    files = Files(store)
    files.add("8", json.dumps({"id": "8"}), "digest")
    saved = FileBytes(files, url=str(tmp_path)).save({"id": "8"}, b"png")
    assert saved["location"] == f"{tmp_path}/files/8"
    assert (tmp_path / "files" / "8").read_bytes() == b"png"
    assert files.content("8") is None
    assert FileBytes(files, url="").load(json.loads(files.record("8") or "{}")) == b"png"
