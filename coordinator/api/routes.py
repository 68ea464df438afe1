"""The endpoint table: one place that both the router and the OpenAPI document read."""

from __future__ import annotations

from dataclasses import dataclass

from coordinator.api import ai, checkpoints, core, runs
from coordinator.api.http import Handler

EXP = "/v1/experiments/{experiment_id}"
AIEXP = "/v1/aiexperiments/{experiment_id}"
PROJECT = "/v1/clients/{client_id}/projects/{project_id}"
RUN = "/v1/training_runs/{run_id}"


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    body: str | None = None  # name of the request schema in openapi.SCHEMAS
    returns: str = "object"  # name of the response schema, or "none" for 204


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("POST", "/v1/experiments", core.post_experiment, "Create an experiment",
             "ExperimentCreate", "Experiment"),
    Endpoint("GET", EXP, core.get_experiment, "Fetch an experiment", None, "Experiment"),
    Endpoint("PUT", EXP, core.put_experiment, "Update an experiment: budget, name, metadata, "
             "parallel bandwidth, state (archive or unarchive)", "ExperimentUpdate",
             "Experiment"),
    Endpoint("DELETE", EXP, core.delete_experiment, "Archive an experiment (it still reads, "
             "state deleted)", None, "none"),
    Endpoint("POST", EXP + "/suggestions", core.post_suggestion, "Create a suggestion",
             "SuggestionCreate", "Suggestion"),
    Endpoint("GET", EXP + "/suggestions", core.list_suggestions, "List suggestions", None,
             "Pagination"),
    Endpoint("DELETE", EXP + "/suggestions", core.delete_suggestions,
             "Delete open suggestions", None, "none"),
    Endpoint("GET", EXP + "/suggestions/{suggestion_id}", core.get_suggestion,
             "Fetch a suggestion", None, "Suggestion"),
    Endpoint("DELETE", EXP + "/suggestions/{suggestion_id}", core.delete_suggestion,
             "Delete an open suggestion", None, "none"),
    Endpoint("POST", EXP + "/observations", core.post_observation, "Report an observation",
             "ObservationCreate", "Observation"),
    Endpoint("POST", EXP + "/observations/batch", core.post_observation_batch,
             "Report several observations", "ObservationBatch", "Pagination"),
    Endpoint("GET", EXP + "/observations", core.list_observations, "List observations", None,
             "Pagination"),
    Endpoint("GET", EXP + "/observations/{observation_id}", core.get_observation,
             "Fetch an observation", None, "Observation"),
    Endpoint("GET", EXP + "/best_assignments", core.best_assignments,
             "Best observation, or the Pareto front", None, "Pagination"),
    Endpoint("GET", "/v1/tokens/self", ai.token_self, "The caller's token", None, "Token"),
    Endpoint("GET", PROJECT, ai.get_project, "Fetch (creating on first use) a project", None,
             "Project"),
    Endpoint("GET", PROJECT + "/training_runs", ai.project_runs,
             "List a project's training runs", None, "Pagination"),
    Endpoint("POST", "/v1/clients/{client_id}/projects", ai.post_project, "Create a project",
             "ProjectCreate", "Project"),
    Endpoint("POST", PROJECT + "/aiexperiments", ai.post_aiexperiment,
             "Create an AI experiment", "AIExperimentCreate", "AIExperiment"),
    Endpoint("GET", AIEXP, ai.get_aiexperiment, "Fetch an AI experiment", None,
             "AIExperiment"),
    Endpoint("PUT", AIEXP, ai.put_aiexperiment, "Update an AI experiment: budget, name, "
             "metadata, parallel bandwidth, state (archive or unarchive)", "ExperimentUpdate",
             "AIExperiment"),
    Endpoint("DELETE", AIEXP, core.delete_experiment, "Archive an AI experiment; "
             "include_runs=true archives its runs too", None, "none"),
    Endpoint("POST", AIEXP + "/training_runs", ai.post_run, "Create a training run",
             "RunCreate", "TrainingRun"),
    Endpoint("GET", AIEXP + "/best_training_runs", ai.best_runs, "Runs of the best observations",
             None, "Pagination"),
    Endpoint("DELETE", "/v1/training_runs/{run_id}", runs.delete_run,
             "Archive a training run (it still reads, deleted: true)", None, "none"),
    Endpoint("PUT", "/v1/training_runs/{run_id}", runs.merge_run,
             "Update a training run (deleted: false unarchives it)", "RunMerge",
             "TrainingRun"),
    Endpoint("GET", "/v1/training_runs/{run_id}", runs.get_run, "Fetch a training run", None,
             "TrainingRun"),
    Endpoint("MERGE", "/v1/training_runs/{run_id}", runs.merge_run,
             "Merge values or state into a run", "RunMerge", "TrainingRun"),
    Endpoint("POST", EXP + "/training_runs", ai.post_run,
             "Create a training run of a core experiment", "RunCreate", "TrainingRun"),
    Endpoint("POST", RUN + "/checkpoints", checkpoints.post_checkpoint,
             "Log a checkpoint: the early stopping's decision comes back in should_stop "
             "(header X-Response-Content: skip gives 204)", "CheckpointCreate", "Checkpoint"),
    Endpoint("GET", RUN + "/checkpoints", checkpoints.list_checkpoints,
             "List a run's checkpoints, newest first", None, "Pagination"),
    Endpoint("GET", RUN + "/checkpoints/{checkpoint_id}", checkpoints.get_checkpoint,
             "Fetch a checkpoint", None, "Checkpoint"),
)
