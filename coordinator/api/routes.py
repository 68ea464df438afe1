"""The endpoint table: one place that both the router and the OpenAPI document read."""

from __future__ import annotations

from dataclasses import dataclass

from coordinator.api import ai, core, files, listings, project_runs, queued
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
    body: str | None = None  # name of the request model in spec.models.BODIES
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
    Endpoint("PUT", EXP + "/suggestions/{suggestion_id}", core.put_suggestion,
             "Update a suggestion's metadata", "SuggestionUpdate", "Suggestion"),
    Endpoint("DELETE", EXP + "/suggestions/{suggestion_id}", core.delete_suggestion,
             "Delete an open suggestion", None, "none"),
    Endpoint("POST", EXP + "/queued_suggestions", queued.post_queued,
             "Queue a point to be suggested before any new one", "QueuedSuggestionCreate",
             "QueuedSuggestion"),
    Endpoint("GET", EXP + "/queued_suggestions", queued.list_queued,
             "List queued suggestions", None, "Pagination"),
    Endpoint("DELETE", EXP + "/queued_suggestions", queued.delete_all_queued,
             "Delete every queued suggestion", None, "none"),
    Endpoint("GET", EXP + "/queued_suggestions/{queued_suggestion_id}", queued.get_queued,
             "Fetch a queued suggestion", None, "QueuedSuggestion"),
    Endpoint("DELETE", EXP + "/queued_suggestions/{queued_suggestion_id}",
             queued.delete_queued, "Delete a queued suggestion", None, "none"),
    Endpoint("POST", EXP + "/observations", core.post_observation, "Report an observation",
             "ObservationCreate", "Observation"),
    Endpoint("POST", EXP + "/observations/batch", core.post_observation_batch,
             "Report several observations", "ObservationBatch", "Pagination"),
    Endpoint("GET", EXP + "/observations", core.list_observations, "List observations", None,
             "Pagination"),
    Endpoint("DELETE", EXP + "/observations", core.delete_observations,
             "Delete every observation (suggestions stay closed)", None, "none"),
    Endpoint("PUT", EXP + "/observations/{observation_id}", core.put_observation,
             "Update an observation's values, failed flag or metadata", "ObservationUpdate",
             "Observation"),
    Endpoint("DELETE", EXP + "/observations/{observation_id}", core.delete_observation,
             "Delete an observation", None, "none"),
    Endpoint("GET", EXP + "/observations/{observation_id}", core.get_observation,
             "Fetch an observation", None, "Observation"),
    Endpoint("GET", EXP + "/best_assignments", core.best_assignments,
             "Best observation, or the Pareto front", None, "Pagination"),
    Endpoint("GET", "/v1/tokens/self", ai.token_self, "The caller's token", None, "Token"),
    Endpoint("GET", "/v1/experiments", listings.list_experiments,
             "List the client's experiments (state: active, deleted or all)", None,
             "Pagination"),
    Endpoint("GET", "/v1/clients/{client_id}/experiments", listings.list_experiments,
             "List the client's experiments", None, "Pagination"),
    Endpoint("GET", "/v1/aiexperiments", listings.list_aiexperiments,
             "List the client's AI experiments", None, "Pagination"),
    Endpoint("GET", "/v1/clients/{client_id}/projects", listings.list_projects,
             "List the client's projects", None, "Pagination"),
    Endpoint("GET", PROJECT + "/experiments", listings.project_experiments,
             "List a project's experiments", None, "Pagination"),
    Endpoint("GET", PROJECT + "/aiexperiments", listings.project_aiexperiments,
             "List a project's AI experiments", None, "Pagination"),
    Endpoint("GET", PROJECT, ai.get_project, "Fetch (creating on first use) a project", None,
             "Project"),
    Endpoint("GET", PROJECT + "/training_runs", project_runs.list_runs,
             "List a project's training runs (its experiments' and its own)", None, "Pagination"),
    Endpoint("POST", PROJECT + "/training_runs", project_runs.post_run,
             "Create a training run of the project, outside any experiment", "ProjectRunCreate",
             "TrainingRun"),
    Endpoint("POST", PROJECT + "/training_runs/batch", project_runs.post_batch,
             "Upload finished training runs (all or none; fields=id answers ids only)",
             "RunBatch", "Pagination"),
    Endpoint("POST", RUN + "/files", files.post_file,
             "Create a file of a training run (log_image); the answer's upload says where "
             "to PUT its bytes", "FileCreate", "File"),
    Endpoint("GET", "/v1/files/{file_id}", files.get_file,
             "Fetch a file record, with its download URL once uploaded", None, "File"),
    Endpoint("GET", "/v1/files/{file_id}/content", files.get_content,
             "Download a file's bytes", None, "bytes"),
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
    Endpoint("DELETE", "/v1/training_runs/{run_id}", project_runs.delete_run,
             "Archive a training run (it still reads, deleted: true)", None, "none"),
    Endpoint("PUT", "/v1/training_runs/{run_id}", project_runs.merge_run,
             "Update a training run (deleted: false unarchives it)", "RunMerge",
             "TrainingRun"),
    Endpoint("GET", "/v1/training_runs/{run_id}", project_runs.get_run, "Fetch a training run",
             None, "TrainingRun"),
    Endpoint("MERGE", "/v1/training_runs/{run_id}", project_runs.merge_run,
             "Merge values or state into a run", "RunMerge", "TrainingRun"),
    Endpoint("POST", EXP + "/training_runs", ai.post_run,
             "Create a training run of a core experiment", "RunCreate", "TrainingRun"),
    Endpoint("POST", RUN + "/checkpoints", project_runs.post_checkpoint,
             "Log a checkpoint: the early stopping's decision comes back in should_stop "
             "(header X-Response-Content: skip gives 204)", "CheckpointCreate", "Checkpoint"),
    Endpoint("GET", RUN + "/checkpoints", project_runs.list_checkpoints,
             "List a run's checkpoints, newest first", None, "Pagination"),
    Endpoint("GET", RUN + "/checkpoints/{checkpoint_id}", project_runs.get_checkpoint,
             "Fetch a checkpoint", None, "Checkpoint"),
)
