"""The OpenAPI 3.1 document at /openapi.json, built from the endpoint table and the models.

Every request body's schema comes from the pydantic models in coordinator.spec.models, the same
models the validators check bodies against, so the document cannot drift from what is accepted.
The responses are described here: they are what coordinator.api.serialize writes.

MERGE is not an OpenAPI method, so `MERGE /v1/training_runs/{run_id}` is described in the
`x-merge` extension of its path instead of as an operation.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from coordinator.api.files import MAX_FILE_BYTES
from coordinator.api.routes import ENDPOINTS, Endpoint
from coordinator.spec.models import schemas

ID = {"type": "string", "pattern": "^[0-9]+$"}
NUMBER = {"type": "number"}
METADATA = {"type": ["object", "null"], "maxProperties": 100,
            "additionalProperties": {"anyOf": [{"type": "string", "maxLength": 500},
                                               {"type": "number"}, {"type": "null"}]}}
VALUE = {"type": "object", "required": ["value"], "properties": {
    "name": {"type": "string"}, "value": NUMBER,
    "value_stddev": {"type": ["number", "null"], "minimum": 0}}}
OBJECT = {"type": "object", "required": ["object"], "properties": {"object": {"type": "string"},
                                                                   "id": ID}}
RESPONSES: dict[str, Any] = {
    "Checkpoint": {"type": "object", "required": ["object", "id", "should_stop"],
                   "properties": {
                       "object": {"enum": ["checkpoint"]}, "id": ID, "training_run": ID,
                       "created": {"type": "integer"}, "metadata": METADATA,
                       "should_stop": {"type": "boolean"},
                       "stopping_reasons": {"type": "object",
                                            "additionalProperties": {"type": "boolean"}},
                       "values": {"type": "array", "items": VALUE}}},
    "Error": {"type": "object", "required": ["message", "status"], "properties": {
        "message": {"type": "string"}, "status": {"type": "integer"}}},
    "Pagination": {"type": "object", "required": ["object", "data", "count", "paging"],
                   "properties": {"object": {"enum": ["pagination"]},
                                  "data": {"type": "array", "items": {"type": "object"}},
                                  "count": {"type": "integer"},
                                  "paging": {"type": "object"}}},
    **{name: OBJECT for name in ("Experiment", "AIExperiment", "Suggestion",
                                 "QueuedSuggestion", "Observation", "Token", "Project",
                                 "TrainingRun", "File")},
}
PAGING_PARAMS = [{"name": n, "in": "query", "required": False, "schema": s} for n, s in (
    ("limit", {"type": "integer", "minimum": 0, "maximum": 1000}),
    ("before", ID), ("after", ID))]
UPLOAD: dict[str, Any] = {"put": {
    "summary": "Upload the bytes of a file declared by POST .../files (the key in the URL is "
               "the permission, good once; no token)",
    "security": [],
    "parameters": [{"name": "file_id", "in": "path", "required": True, "schema": ID},
                   {"name": "key", "in": "query", "required": True,
                    "schema": {"type": "string"}}],
    "requestBody": {"required": True, "content": {"application/octet-stream": {
        "schema": {"type": "string", "format": "binary", "maxLength": MAX_FILE_BYTES}}}},
    "responses": {"200": {"description": "stored"}}}}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _errors(*extra: tuple[int, str]) -> dict[str, Any]:
    body = {"content": {"application/json": {"schema": _ref("Error")}}}
    return {str(code): {"description": text, **body} for code, text in (
        (400, "invalid request"), (401, "no token"), (403, "unknown or revoked token"),
        (404, "not found"), (409, "conflicts with the stored state"), *extra)}


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    names = re.findall(r"{(\w+)}", endpoint.path)
    params = [{"name": n, "in": "path", "required": True, "schema": ID if n != "project_id"
               and n != "client_id" else {"type": "string"}} for n in names]
    if endpoint.returns == "Pagination" and endpoint.path.endswith((
            "suggestions", "observations", "training_runs", "checkpoints")):
        params += PAGING_PARAMS
    if endpoint.path.endswith("/training_runs") and endpoint.method == "GET":
        params.append({"name": "filters", "in": "query", "required": False,
                       "schema": {"type": "string"}})
    if endpoint.path.endswith(("/experiments", "/aiexperiments")) and endpoint.method == "GET":
        params += PAGING_PARAMS + [{"name": "state", "in": "query", "required": False,
                                    "schema": {"enum": ["active", "deleted", "all"]}}]
    if endpoint.path.endswith("/suggestions"):
        params.append({"name": "state", "in": "query", "required": False,
                       "schema": {"enum": ["open", "closed"]}})
    ok = ({"204": {"description": "done"}} if endpoint.returns == "none" else
          {"200": {"description": "the bytes", "content": {"application/octet-stream": {
              "schema": {"type": "string", "format": "binary"}}}}}
          if endpoint.returns == "bytes" else
          {"200": {"description": "ok", "content": {"application/json": {
              "schema": _ref(endpoint.returns)}}}})
    if endpoint.method == "POST" and endpoint.path.endswith("/checkpoints"):
        ok["204"] = {"description": "logged (the request had X-Response-Content: skip)"}
    operation: dict[str, Any] = {"summary": endpoint.summary, "parameters": params,
                                 "responses": {**ok, **_errors()}}
    if endpoint.body:
        operation["requestBody"] = {"required": False, "content": {"application/json": {
            "schema": _ref(endpoint.body)}}}
    return operation


@cache
def document() -> dict[str, Any]:
    """Built once per process: the endpoint table and the models are fixed."""
    bodies = schemas()
    missing = sorted({e.body for e in ENDPOINTS if e.body and e.body not in bodies})
    if missing:
        raise RuntimeError(f"endpoint bodies without a model: {', '.join(missing)}")
    paths: dict[str, Any] = {}
    for endpoint in ENDPOINTS:
        item = paths.setdefault(endpoint.path, {})
        key = "x-merge" if endpoint.method == "MERGE" else endpoint.method.lower()
        item[key] = _operation(endpoint)
    upload = UPLOAD["put"]
    paths["/v1/uploads/{file_id}"] = {"put": {**upload, "responses": {
        **upload["responses"], **_errors((413, "more bytes than declared or allowed"))}}}
    return {"openapi": "3.1.0",
            "info": {"title": "Celeriac SigOpt-compatible API", "version": "1",
                     "description": "The SigOpt v1 subset the official sigopt client uses. "
                                    "Authenticate with HTTP basic auth, the token as user "
                                    "name. Errors are {message, status}."},
            "servers": [{"url": "/"}], "paths": paths,
            "components": {"schemas": {**bodies, **RESPONSES}, "securitySchemes": {
                "token": {"type": "http", "scheme": "basic"}}},
            "security": [{"token": []}]}
