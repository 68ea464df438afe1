"""One error hierarchy: every error a user can cause says what was wrong and what to do.

The CLI prints `str(error)` on one line and exits non-zero; the HTTP front ends give each kind
its status code (coordinator/web/statuses.py) in SigOpt's `{"message", "status"}` bodies.
Anything that is not a `CeleriacError` is a bug.
"""

from __future__ import annotations


class CeleriacError(Exception):
    """Base class: the message is complete and meant for a person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(CeleriacError):
    """An experiment config is invalid; `problems` holds one line per problem."""

    def __init__(self, problems: list[str], source: str = "config") -> None:
        self.problems = problems
        lines = "\n".join(problems)
        super().__init__(f"{source}: {len(problems)} problem(s)\n{lines}" if len(problems) > 1
                         else f"{source}: {problems[0]}")


class InvalidInput(CeleriacError):
    """A request or command argument is malformed."""


class NotFound(CeleriacError):
    """What was asked for does not exist (or is not the caller's to see)."""


class Conflict(CeleriacError):
    """The request is valid but clashes with what is stored."""


class Unauthorized(CeleriacError):
    """No credentials were given."""


class Forbidden(CeleriacError):
    """The credentials given are not accepted."""


# Named for the domain: the store raises these for Lua replies that are an error for every
# caller; each is a kind of the general error above, whose HTTP status the front ends give.


class ExperimentNotFound(NotFound):
    """The experiment does not exist or was deleted."""


class SuggestionNotFound(NotFound):
    """The suggestion does not exist or was deleted."""


class SuggestionClosed(Conflict):
    """The suggestion already has its observation: a second one is never recorded."""


class TrainingRunNotFound(NotFound):
    """The training run does not exist (or belongs to another client)."""


class RunStateRefused(Conflict):
    """A change of a training run's state that its state machine does not allow."""


class RedisUnavailable(CeleriacError):
    """Redis cannot be reached or the embedded server cannot start."""


class RedisFull(CeleriacError):
    """Redis is at maxmemory (policy noeviction) and refuses writes until memory is freed."""
