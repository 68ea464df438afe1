"""Every Redis key name Celeriac uses, and nothing else.

All keys of one experiment share the hash tag `{exp:<id>}` so that an experiment lives in a
single Redis Cluster slot and its Lua scripts stay single-slot. Global keys (the id counter and
the experiment index) are only touched by single commands, never inside a multi-key script.
"""

from __future__ import annotations

PREFIX = "celeriac:"
BROKER_PREFIX = PREFIX + "broker:"

IDS = PREFIX + "ids"  # INCR counter: suggestion, observation, run and checkpoint ids (digits)
EXPERIMENT_IDS = PREFIX + "experiment_ids"  # INCR counter: experiment ids 1, 2, 3, ...
EXPERIMENTS = PREFIX + "experiments"  # ZSET experiment id -> id, the list of experiments
TOKENS = PREFIX + "tokens"  # HASH sha256(token) -> token record JSON
PROJECTS = PREFIX + "projects"  # HASH "<client>/<project>" -> project record JSON (HTTP API)
RUN_EXPERIMENT = PREFIX + "run_experiment"  # HASH training run id -> experiment id (HTTP API)


def rate_limit(token_digest: str) -> str:
    """HASH {tokens, at}: the rate-limit bucket of one API token (named by its SHA-256 digest,
    never the token), shared by every API server on this Redis; it expires when full."""
    return f"{PREFIX}ratelimit:{token_digest}"


class ExperimentKeys:
    """Key builders for one experiment."""

    def __init__(self, experiment_id: str) -> None:
        self.experiment_id = str(experiment_id)
        self.base = f"{PREFIX}{{exp:{self.experiment_id}}}"

    @property
    def meta(self) -> str:  # HASH: spec JSON, state, counters
        return f"{self.base}:meta"

    @property
    def suggestions(self) -> str:  # ZSET sid -> sid, every non-deleted suggestion
        return f"{self.base}:suggestions"

    @property
    def open(self) -> str:  # ZSET sid -> sid, queued or running suggestions
        return f"{self.base}:open"

    @property
    def open_points(self) -> str:  # HASH canonical assignments -> sid, for open suggestions
        return f"{self.base}:open_points"

    @property
    def leases(self) -> str:  # ZSET sid -> deadline (ms, Redis server clock)
        return f"{self.base}:leases"

    @property
    def observations(self) -> str:  # HASH oid -> observation JSON
        return f"{self.base}:observations"

    @property
    def front(self) -> str:  # HASH oid -> scores: the running summary's best (prelude.lua)
        return f"{self.base}:front"

    @property
    def reasons(self) -> str:  # ZSET failure headline -> minus its count (running summary)
        return f"{self.base}:reasons"

    @property
    def recent(self) -> str:  # LIST: the latest observation ids, newest first (summary)
        return f"{self.base}:recent"

    @property
    def improvements(self) -> str:  # LIST: ids that improved the best so far (summary)
        return f"{self.base}:improvements"

    @property
    def backlog(self) -> str:  # LIST of "strategy\tassignments-json", ready to hand out
        return f"{self.base}:backlog"

    @property
    def queue(self) -> str:  # ZSET "qid\tcreated\tassignments-json\tmetadata-json" -> qid:
        return f"{self.base}:queue"  # queued suggestions, handed out before the backlog

    @property
    def events(self) -> str:  # STREAM of state changes, for progress and the dashboard
        return f"{self.base}:events"

    @property
    def refill_lock(self) -> str:  # STRING, short lock around computing suggestions
        return f"{self.base}:refill_lock"

    @property
    def runs(self) -> str:  # HASH run id -> training run JSON (AI experiments, HTTP API)
        return f"{self.base}:runs"

    @property
    def no_backlog(self) -> str:  # LIST never written: take_suggestion for manual assignments
        return f"{self.base}:no_backlog"

    def suggestion(self, sid: str) -> str:  # HASH: one suggestion's fields
        return f"{self.base}:s:{sid}"

    def curve(self, sid: str) -> str:  # HASH step -> report JSON: one run's learning curve
        return f"{self.base}:curve:{sid}"

    def rung(self, bracket: int, index: int) -> str:  # ZSET sid -> score at an ASHA rung
        return f"{self.base}:rung:{bracket}:{index}"

    def at_step(self, step: str) -> str:  # ZSET sid -> best score so far (median rule)
        return f"{self.base}:step:{step}"

    @property
    def summary_keys(self) -> list[str]:
        """The running summary's keys beside meta, in the order the scripts take them."""
        return [self.front, self.reasons, self.recent, self.improvements]

    def all_fixed(self) -> list[str]:
        """Every key of the experiment except the per-suggestion hashes."""
        return [self.meta, self.suggestions, self.open, self.open_points, self.leases,
                self.observations, self.backlog, self.events, self.refill_lock, self.runs,
                self.queue, self.front, self.reasons, self.recent,
                self.improvements]


# training runs outside an experiment (SigOpt's project runs, `sigopt.create_run`), and files
RUN_PROJECT = PREFIX + "run_project"  # HASH run id -> "<client>/<project>" (HTTP API)
FILES = PREFIX + "files"  # HASH file id -> file record JSON (log_image; HTTP API)
UPLOADS = PREFIX + "uploads"  # HASH file id -> sha256 of its one-time upload key, until used


def project_runs(client: str, project_id: str) -> str:
    """HASH run id -> training run JSON: the runs of one project that belong to no experiment."""
    return f"{PREFIX}{{project:{client}/{project_id}}}:runs"


def file_content(file_id: str) -> str:
    """STRING: an uploaded file's bytes, base64 (clients decode replies as text)."""
    return f"{PREFIX}file:{file_id}:content"
