"""The HTTP status of each kind of error. Errors are named for the domain and know nothing of
HTTP; the API and the dashboard answer with the status of the nearest kind listed here."""

from __future__ import annotations

from coordinator.errors import (
    CeleriacError,
    Conflict,
    Forbidden,
    NotFound,
    RedisFull,
    RedisUnavailable,
    Unauthorized,
)

STATUS_OF: dict[type[CeleriacError], int] = {
    NotFound: 404,
    Conflict: 409,
    Unauthorized: 401,
    Forbidden: 403,
    RedisUnavailable: 503,
    RedisFull: 507,  # Insufficient Storage: retrying will not help until memory is freed
}
BAD_REQUEST = 400  # every other user error: the input was wrong


def http_status(error: CeleriacError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS_OF:
            return STATUS_OF[kind]
    return BAD_REQUEST
