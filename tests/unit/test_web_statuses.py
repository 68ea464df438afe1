"""Errors carry no HTTP status; the front ends' one table gives each kind its code."""

from __future__ import annotations

import pytest

from coordinator.errors import (
    ConfigError,
    ExperimentNotFound,
    InvalidInput,
    RedisUnavailable,
    RunStateRefused,
    SuggestionClosed,
    Unauthorized,
)
from coordinator.service.access import RevokedToken
from coordinator.web.statuses import http_status


@pytest.mark.parametrize(("error", "status"), [
    (InvalidInput("x"), 400),
    (ConfigError(["budget: required"]), 400),
    (ExperimentNotFound("x"), 404),
    (SuggestionClosed("x"), 409),
    (RunStateRefused("x"), 409),
    (Unauthorized("x"), 401),
    (RevokedToken("x"), 403),
    (RedisUnavailable("x"), 503),
])
def test_each_kind_of_error_answers_with_the_status_of_its_nearest_listed_kind(error, status):
    assert http_status(error) == status
