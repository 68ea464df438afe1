"""SigOpt runs outside an AI experiment (`sigopt.create_run`, `sigopt.upload_runs`, `sigopt run`)
and their files (`run.log_image`), with the official client against a real `coordinator serve`."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest
from sigopt import Connection
from sigopt.exception import ApiException

from coordinator.state.tokens import Tokens
from tests.integration.api_fixtures import *  # noqa: F403
from tests.integration.api_fixtures import ApiServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]

PROJECT = "celeriac-tests"


def connection(api: ApiServer) -> Connection:
    conn = Connection(client_token=api.token)
    conn.set_api_url(api.url)
    return conn


def project_runs(conn: Connection):
    return conn.clients("default").projects(PROJECT).training_runs()


def test_a_run_outside_an_experiment_keeps_what_it_logged_and_reads_back(api, sigopt_module):
    with sigopt_module.create_run(name="solo") as run:
        run.log_metric("accuracy", 0.91, stddev=0.01)
        run.params.lr = 0.05
        run.log_metadata("owner", "ana")
        run.log_dataset("iris")
        run.log_model("svm")
        run.set_logs({"stdout": "epoch 1\n"})
    with sigopt_module.create_run(name="broken") as failing:
        failing.log_failure()
    fetched = connection(api).training_runs(run.id).fetch()
    assert (fetched.state, fetched.experiment, fetched.project) == ("completed", None, PROJECT)
    assert fetched.values["accuracy"].value == 0.91
    assert fetched.values["accuracy"].value_stddev == 0.01
    assert dict(fetched.assignments) == {"lr": 0.05}
    assert fetched.metadata["owner"] == "ana" and fetched.name == "solo"
    assert fetched.to_json()["logs"]["stdout"]["content"] == "epoch 1\n"
    assert fetched.finished and fetched.observation is None
    assert connection(api).training_runs(failing.id).fetch().state == "failed"


def test_the_project_listing_shows_project_runs_beside_experiment_runs(api, sigopt_module):
    solo = sigopt_module.create_run(name="listed")
    solo.end()
    experiment = sigopt_module.create_experiment(
        name="beside", parameters=[{"name": "x", "type": "double",
                                    "bounds": {"min": 0, "max": 1}}],
        metrics=[{"name": "v"}], budget=1)
    for run in experiment.loop():
        with run:
            run.log_metric("v", 1.0)
    listed = {r.id: r for r in project_runs(connection(api)).fetch().iterate_pages()}
    assert solo.id in listed and listed[solo.id].experiment is None
    assert any(r.experiment == experiment.id for r in listed.values())
    only = list(sigopt_module.get_aiexperiment(experiment.id).get_runs())
    assert only and all(r.experiment == experiment.id for r in only)


def test_a_project_run_archives_and_unarchives(api, sigopt_module):
    run = sigopt_module.create_run(name="archived")
    run.end()
    sigopt_module.archive_run(run.id)
    assert sigopt_module.get_run(run.id).deleted is True
    sigopt_module.unarchive_run(run.id)
    assert sigopt_module.get_run(run.id).deleted is False


def test_a_project_run_refuses_checkpoints_saying_why(api, sigopt_module):
    run = sigopt_module.create_run(name="no checkpoints")
    with pytest.raises(ApiException) as refused:
        run.log_checkpoint({"loss": 0.5})
    assert refused.value.status_code == 400
    assert "belongs to no experiment" in str(refused.value)
    run.end()


def test_upload_runs_stores_a_batch_and_refuses_a_bad_run_by_its_path(api, sigopt_module):
    batch = [{"name": f"uploaded {i}", "assignments": {"depth": i},
              "values": {"accuracy": {"value": i / 25}}, "metadata": {"batch": "b1"}}
             for i in range(25)]
    uploaded = sigopt_module.upload_runs(batch)
    assert len(uploaded) == 25 and len({r.id for r in uploaded}) == 25
    third = sigopt_module.get_run(uploaded[3].id)
    assert (third.name, third.state, third.values["accuracy"].value) == \
        ("uploaded 3", "completed", 3 / 25)
    bad = [dict(item) for item in batch[:5]]
    bad[3] = {**bad[3], "values": {"accuracy": {"value": "high"}}}
    with pytest.raises(ApiException) as refused:
        sigopt_module.upload_runs(bad)
    assert refused.value.status_code == 400
    assert "runs[3].values.accuracy.value" in str(refused.value)
    names = [r.name for r in project_runs(connection(api)).fetch().iterate_pages()]
    assert names.count("uploaded 0") == 1  # the refused batch stored nothing


LOG_IMAGES = """
import numpy, sigopt, sys
with sigopt.create_run(name="pictures") as run:
    run.log_image(numpy.arange(48, dtype="uint8").reshape(4, 4, 3), name="gradient")
    run.log_image(sys.argv[1], name="from a file")
    run.log_metric("accuracy", 0.5)
print("RUN", run.id)
"""


def png_file(path: Path) -> bytes:
    import png

    with path.open("wb") as out:
        png.Writer(2, 2, greyscale=True).write(out, [[0, 255], [255, 0]])
    return path.read_bytes()


def test_log_image_of_an_array_and_of_a_png_file_uploads_bytes_that_download_equal(
        api, tmp_path):
    picture = png_file(tmp_path / "tiny.png")
    done = subprocess.run([sys.executable, "-c", LOG_IMAGES, str(tmp_path / "tiny.png")],
                          env=api.client_env(), cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.split("RUN ")[1].split()[0]
    with api.http() as http:
        run = http.get(f"/v1/training_runs/{run_id}").json()
        assert run["state"] == "completed" and len(run["files"]) == 2
        records = [http.get(f"/v1/files/{file_id}").json() for file_id in run["files"]]
        assert [r["name"] for r in records] == ["gradient", "from a file"]
        assert all(r["content_type"] == "image/png" and r["training_run"] == run_id
                   for r in records)
        content = http.get(records[1]["download"]["url"]).content
        assert content == picture
        array_png = http.get(records[0]["download"]["url"]).content
        assert array_png.startswith(b"\x89PNG") and len(array_png) == records[0][
            "content_length"]
        assert httpx.get(records[1]["download"]["url"]).status_code == 401  # token needed


def test_an_upload_with_a_wrong_key_a_wrong_md5_or_a_second_time_is_refused(
        api, sigopt_module):
    run = sigopt_module.create_run(name="uploads")
    content = b"not really a png"
    md5 = base64.b64encode(hashlib.md5(content).digest()).decode()
    with api.http() as http:
        created = http.post(f"/v1/training_runs/{run.id}/files", json={
            "content_length": len(content), "content_md5": md5,
            "content_type": "image/png", "name": "n", "filename": "n.png"}).json()
        url = created["upload"]["url"]
        assert url.startswith(api.url + "/v1/uploads/")
        wrong_key = httpx.put(url.split("?key=")[0] + "?key=guess", content=content)
        assert wrong_key.status_code == 403
        wrong_md5 = httpx.put(url, content=b"not really a pnh")
        assert wrong_md5.status_code == 400 and "MD5" in wrong_md5.json()["message"]
        short = httpx.put(url, content=b"short")
        assert short.status_code == 400 and "content_length" in short.json()["message"]
        long = httpx.put(url, content=content + b"!")
        assert long.status_code == 413 and "content_length" in long.json()["message"]
        assert http.get(f"/v1/files/{created['id']}").json()["download"] is None
        assert httpx.put(url, content=content).status_code == 200
        assert httpx.put(url, content=content).status_code == 409  # the key worked once
        assert http.get(f"/v1/files/{created['id']}/content").content == content
        too_big = http.post(f"/v1/training_runs/{run.id}/files", json={
            "content_length": 11 * 2**20, "content_md5": md5, "content_type": "image/png"})
        assert too_big.status_code == 400 and "content_length" in too_big.json()["message"]
    run.end()


SCRIPT = """
import sigopt
sigopt.log_metric("accuracy", 0.75)
sigopt.params.width = 3
sigopt.log_metadata("from", "cli")
"""


def test_sigopt_run_makes_a_project_run_that_the_script_logs_into(api, tmp_path):
    (tmp_path / "script.py").write_text(textwrap.dedent(SCRIPT))
    sigopt_cli = str(Path(sys.executable).parent / "sigopt")
    done = subprocess.run([sigopt_cli, "run", sys.executable, "script.py"], cwd=tmp_path,
                          env=api.client_env(project="cli-runs"), capture_output=True,
                          text=True, timeout=90)
    assert done.returncode == 0, done.stdout + done.stderr
    with api.http() as http:
        listed = http.get("/v1/clients/default/projects/cli-runs/training_runs").json()
    assert listed["count"] == 1
    run = listed["data"][0]
    assert run["state"] == "completed" and run["experiment"] is None
    assert run["values"]["accuracy"]["value"] == 0.75
    assert run["assignments"] == {"width": 3} and run["metadata"] == {"from": "cli"}


def test_with_a_checkpoint_store_the_bytes_go_there_and_still_download(
        api, tmp_path, monkeypatch):
    store = tmp_path / "store"
    monkeypatch.setenv("CELERIAC_CHECKPOINT_STORE", str(store))
    server = ApiServer(api.redis_url, tmp_path / "server")
    try:
        content = b"\x89PNG stored in the checkpoint store"
        md5 = base64.b64encode(hashlib.md5(content).digest()).decode()
        with server.http() as http:
            run = http.post(f"/v1/clients/default/projects/{PROJECT}/training_runs",
                            json={"name": "stored"}).json()
            created = http.post(f"/v1/training_runs/{run['id']}/files", json={
                "content_length": len(content), "content_md5": md5,
                "content_type": "image/png"}).json()
            assert httpx.put(created["upload"]["url"], content=content).status_code == 200
            assert (store / "files" / created["id"]).read_bytes() == content
            record = http.get(f"/v1/files/{created['id']}").json()
            assert "location" not in record
            assert http.get(record["download"]["url"]).content == content
    finally:
        server.stop()


def test_another_clients_token_finds_no_project_run_and_changes_none(api, sigopt_module):
    run = sigopt_module.create_run(name="private")
    other = Tokens(api.service.store.redis).create("team-x")[0]
    with httpx.Client(base_url=api.url, auth=(other, ""), timeout=30) as http:
        path = f"/v1/training_runs/{run.id}"
        assert http.get(path).status_code == 404
        assert http.request("MERGE", path, json={"state": "failed"}).status_code == 404
        assert http.delete(path).status_code == 404
        assert http.post(path + "/files", json={
            "content_length": 3, "content_md5": "kAFQmDzST7DWlj99KOF/cg==",
            "content_type": "image/png"}).status_code == 404
        mine = http.get(f"/v1/clients/team-x/projects/{PROJECT}/training_runs").json()
        assert run.id not in [r["id"] for r in mine["data"]]
    run.end()
    assert sigopt_module.get_run(run.id).state == "completed"


def test_a_run_of_an_ai_experiment_logs_an_image_too(api, sigopt_module):
    import numpy

    experiment = sigopt_module.create_experiment(
        name="with images", parameters=[{"name": "x", "type": "double",
                                         "bounds": {"min": 0, "max": 1}}],
        metrics=[{"name": "v"}], budget=1)
    for run in experiment.loop():
        with run:
            run.log_image(numpy.zeros((3, 3)), name="blank")
            run.log_metric("v", 1.0)
    [fetched] = list(experiment.get_runs())
    assert len(fetched.files) == 1 and fetched.state == "completed"
    with api.http() as http:
        record = http.get(f"/v1/files/{fetched.files[0]}").json()
        assert record["name"] == "blank" and record["training_run"] == fetched.id
        assert http.get(record["download"]["url"]).content.startswith(b"\x89PNG")
