"""The OpenAPI 3.0 document at /openapi.json, built from the endpoint table.

MERGE is not an OpenAPI method, so `MERGE /v1/training_runs/{run_id}` is described in the
`x-merge` extension of its path instead of as an operation.
"""

from __future__ import annotations

import re
from typing import Any

from coordinator.api.routes import ENDPOINTS
from coordinator.state.states import RunState

ID = {"type": "string", "pattern": "^[0-9]+$"}
NUMBER = {"type": "number"}
METADATA = {"type": "object", "nullable": True, "maxProperties": 100,
            "additionalProperties": {"oneOf": [{"type": "string", "maxLength": 500},
                                               {"type": "number"}], "nullable": True}}
PARAMETER = {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string"}, "type": {"enum": ["double", "int", "categorical"]},
    "bounds": {"type": "object", "properties": {"min": NUMBER, "max": NUMBER}},
    "categorical_values": {"type": "array", "items": {"oneOf": [
        {"type": "string"}, {"type": "object", "properties": {"name": {"type": "string"}}}]}},
    "transformation": {"enum": ["log", "none"]}}}
METRIC = {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string"}, "objective": {"enum": ["maximize", "minimize"]},
    "strategy": {"enum": ["optimize", "constraint", "store"]}, "threshold": NUMBER}}
COUNT = {"type": "integer", "minimum": 1}
POSITIVE = {"type": "number", "exclusiveMinimum": True, "minimum": 0}
FRACTION = {"type": "number", "minimum": 0, "exclusiveMaximum": True, "maximum": 1}
CRITERION = {"type": "object", "required": ["lookback_checkpoints"], "properties": {
    "type": {"enum": ["convergence"]}, "name": {"type": "string"}, "metric": {"type": "string"},
    "lookback_checkpoints": COUNT, "min_checkpoints": COUNT,
    "min_relative_improvement": FRACTION}}
TRAINING_MONITOR = {"type": "object", "nullable": True,
                    "description": "SigOpt's: stop a run once a metric stops improving; "
                                   "checkpoints are its steps",
                    "properties": {"max_checkpoints": COUNT, "early_stopping_criteria": {
                        "type": "array", "items": CRITERION}}}
EARLY_STOPPING = {"type": "object", "nullable": True, "required": ["scheduler"],
                  "description": "Celeriac's schedulers; over the API a run's step is its "
                                 "checkpoint number",
                  "properties": {
                      "scheduler": {"enum": ["asha", "hyperband", "median", "convergence"]},
                      "metric": {"type": "string"}, "resource": {"type": "string"},
                      "min_resource": POSITIVE, "max_resource": POSITIVE,
                      "reduction_factor": {"type": "number", "minimum": 2},
                      "brackets": COUNT, "min_samples": COUNT, "max_checkpoints": COUNT,
                      "lookback_checkpoints": COUNT, "min_checkpoints": COUNT,
                      "min_relative_improvement": FRACTION}}
EXPERIMENT_FIELDS = {"name": {"type": "string"}, "parameters": {"type": "array",
                                                                "items": PARAMETER},
                     "metrics": {"type": "array", "items": METRIC},
                     "parallel_bandwidth": {"type": "integer", "minimum": 1},
                     "metadata": METADATA, "type": {"type": "string"},
                     "training_monitor": TRAINING_MONITOR, "early_stopping": EARLY_STOPPING,
                     "tasks": {"type": "array", "minItems": 2, "maxItems": 10,
                               "description": "SigOpt's multitask: cheaper evaluations, one "
                                              "of cost 1",
                               "items": {"type": "object", "required": ["name", "cost"],
                                         "properties": {
                                             "name": {"type": "string"},
                                             "cost": {**POSITIVE, "maximum": 1}}}}}
VALUE = {"type": "object", "required": ["value"], "properties": {
    "name": {"type": "string"}, "value": NUMBER,
    "value_stddev": {"type": "number", "minimum": 0, "nullable": True}}}
OBSERVATION: dict[str, Any] = {"type": "object", "properties": {
    "suggestion": ID, "assignments": {"type": "object"}, "value": NUMBER,
    "value_stddev": {"type": "number", "minimum": 0}, "values": {"type": "array",
                                                                "items": VALUE},
    "failed": {"type": "boolean"}, "metadata": METADATA, "no_optimize": {"type": "boolean"}}}
OBJECT = {"type": "object", "required": ["object"], "properties": {"object": {"type": "string"},
                                                                   "id": ID}}

SCHEMAS: dict[str, Any] = {
    "ExperimentCreate": {"type": "object", "required": ["name", "parameters"], "properties": {
        **EXPERIMENT_FIELDS, "observation_budget": {"type": "integer", "minimum": 1}}},
    "AIExperimentCreate": {"type": "object", "required": ["name", "parameters", "metrics"],
                           "properties": {**EXPERIMENT_FIELDS,
                                          "budget": {"type": "integer", "minimum": 1}}},
    "ExperimentUpdate": {"type": "object", "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "observation_budget": {"type": "integer", "minimum": 1, "maximum": 1_000_000},
        "budget": {"type": "integer", "minimum": 1, "maximum": 1_000_000},
        "parallel_bandwidth": {"type": "integer", "minimum": 1, "maximum": 10_000},
        "metadata": METADATA, "state": {"enum": ["active", "deleted"]}}},
    "SuggestionUpdate": {"type": "object", "properties": {"metadata": METADATA}},
    "ObservationUpdate": {"type": "object", "properties": {
        k: v for k, v in OBSERVATION["properties"].items()
        if k in ("value", "value_stddev", "values", "failed", "metadata")}},
    "SuggestionCreate": {"type": "object", "properties": {
        "assignments": {"type": "object"}, "metadata": METADATA}},
    "QueuedSuggestionCreate": {"type": "object", "required": ["assignments"], "properties": {
        "assignments": {"type": "object"}, "metadata": METADATA}},
    "ObservationCreate": OBSERVATION,
    "ObservationBatch": {"type": "object", "required": ["observations"], "properties": {
        "observations": {"type": "array", "items": OBSERVATION}}},
    "ProjectCreate": {"type": "object", "required": ["id"], "properties": {
        "id": {"type": "string", "pattern": "^[a-z0-9_.-]{1,64}$"},
        "name": {"type": "string"}, "metadata": METADATA}},
    "RunCreate": {"type": "object", "properties": {"name": {"type": "string"},
                                                   "metadata": METADATA}},
    "RunMerge": {"type": "object", "properties": {
        "state": {"enum": [state.value for state in RunState]},
        "values": {"type": "object", "additionalProperties": VALUE}, "metadata": METADATA,
        "deleted": {"type": "boolean"}}},
    "RunBatch": {"type": "object", "required": ["runs"], "properties": {
        "runs": {"type": "array", "minItems": 1, "items": {
            "type": "object", "properties": {
                "name": {"type": "string"}, "metadata": METADATA,
                "state": {"enum": [state.value for state in RunState]},
                "values": {"type": "object", "additionalProperties": VALUE},
                "assignments": {"type": "object"}}}},
        "fields": {"type": "string"}}},
    "FileCreate": {"type": "object", "required": ["content_length", "content_md5",
                                                  "content_type"], "properties": {
        "content_length": {"type": "integer"}, "content_md5": {"type": "string"},
        "content_type": {"type": "string"}, "name": {"type": "string"},
        "filename": {"type": "string"}}},
    "File": OBJECT,
    "CheckpointCreate": {"type": "object", "required": ["values"], "properties": {
        "values": {"oneOf": [
            {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["name", "value"],
                "properties": {"name": {"type": "string"}, "value": NUMBER}}},
            {"type": "object", "minProperties": 1, "additionalProperties": NUMBER}]},
        "metadata": METADATA}},
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
                                 "QueuedSuggestion", "Observation",
                                 "Token", "Project", "TrainingRun")},
}
PAGING_PARAMS = [{"name": n, "in": "query", "required": False, "schema": s} for n, s in (
    ("limit", {"type": "integer", "minimum": 0, "maximum": 1000}),
    ("before", ID), ("after", ID))]


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _errors() -> dict[str, Any]:
    body = {"content": {"application/json": {"schema": _ref("Error")}}}
    return {str(code): {"description": text, **body} for code, text in (
        (400, "invalid request"), (401, "no token"), (403, "unknown or revoked token"),
        (404, "not found"), (409, "conflicts with the stored state"))}


def _operation(endpoint: Any) -> dict[str, Any]:
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


def document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for endpoint in ENDPOINTS:
        item = paths.setdefault(endpoint.path, {})
        key = "x-merge" if endpoint.method == "MERGE" else endpoint.method.lower()
        item[key] = _operation(endpoint)
    return {"openapi": "3.0.3",
            "info": {"title": "Celeriac SigOpt-compatible API", "version": "1",
                     "description": "The SigOpt v1 subset the official sigopt client uses. "
                                    "Authenticate with HTTP basic auth, the token as user "
                                    "name. Errors are {message, status}."},
            "servers": [{"url": "/"}], "paths": paths,
            "components": {"schemas": SCHEMAS, "securitySchemes": {
                "token": {"type": "http", "scheme": "basic"}}},
            "security": [{"token": []}]}
