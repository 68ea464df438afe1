"""Numbers from environment variables: defaults when unset, one-line errors naming the variable."""

from __future__ import annotations

import pytest

from coordinator.env_numbers import env_int, env_seconds
from coordinator.errors import InvalidInput

NAME = "CELERIAC_TEST_NUMBER"


def test_unset_or_blank_gives_the_default(monkeypatch):
    monkeypatch.delenv(NAME, raising=False)
    assert env_int(NAME, 3, 0, 9) == 3 and env_seconds(NAME, 2.5, 0, 9) == 2.5
    monkeypatch.setenv(NAME, "  ")
    assert env_int(NAME, 7, 0, 9) == 7 and env_seconds(NAME, 2.5, 0, 9) == 2.5


def test_values_in_range_are_read(monkeypatch):
    monkeypatch.setenv(NAME, " 9 ")
    assert env_int(NAME, 0, 0, 9) == 9 and env_seconds(NAME, 0, 0, 9) == 9.0
    monkeypatch.setenv(NAME, "0.25")
    assert env_seconds(NAME, 1, 0.05, 600) == 0.25


def whole_bytes() -> object:
    return env_int(NAME, 5, 1, 9, "bytes")


def seconds() -> object:
    return env_seconds(NAME, 1, 0.5, 60)


@pytest.mark.parametrize("read, raw, message", [
    (whole_bytes, "soon", "must be a whole number of bytes from 1 to 9, got 'soon'"),
    (whole_bytes, "1.5", "must be a whole number of bytes from 1 to 9, got '1.5'"),
    (whole_bytes, "-3", "must be a whole number of bytes from 1 to 9, got '-3'"),
    (whole_bytes, "10", "must be from 1 to 9 bytes, got 10"),
    (whole_bytes, "0", "must be from 1 to 9 bytes, got 0"),
    (seconds, "soon", "must be a number of seconds, got 'soon'"),
    (seconds, "nan", "must be between 0.5 and 60 seconds, got nan"),
    (seconds, "inf", "must be between 0.5 and 60 seconds, got inf"),
    (seconds, "0.1", "must be between 0.5 and 60 seconds, got 0.1"),
])
def test_a_bad_value_is_refused_in_one_line_naming_the_variable(monkeypatch, read, raw, message):
    monkeypatch.setenv(NAME, raw)
    with pytest.raises(InvalidInput) as caught:
        read()
    assert str(caught.value) == f"{NAME}: {message}"
