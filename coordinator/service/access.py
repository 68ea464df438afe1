"""Who may see what: API tokens checked, and each client's experiments kept to itself.

Shared by the HTTP API and the dashboard, which both answer "not found" for another client's
experiment so that a token cannot learn which ids exist.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from coordinator.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from coordinator.state.records import Experiment
from coordinator.state.tokens import StaticTokens, TokenRecord, Tokens

CLI_CLIENT = "default"  # the client that owns experiments made by `coordinator create`


class RevokedToken(Forbidden):
    """SigOpt marks this 403 with `token_status: "revoked"` so a client can tell it apart."""


def token_from_header(header: str | None) -> str:
    """HTTP Basic with the token as user name (SigOpt's scheme); a bare token is accepted."""
    if not header:
        raise Unauthorized("no API token: send HTTP basic auth with the token as user name "
                           "(SIGOPT_API_TOKEN); `coordinator token create` makes one")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        raise InvalidInput("Authorization: expected 'Basic base64(token:)'")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidInput("Authorization: the basic credentials are not valid base64") from None
    token = decoded.partition(":")[0]
    if not token:
        raise Unauthorized("no API token in the basic credentials' user name")
    return token


def authenticate(tokens: Tokens, header: str | None,
                 static: StaticTokens | Mapping[str, TokenRecord]) -> tuple[str, TokenRecord]:
    """Both lookups go by the token's digest, never comparing the secret itself (tokens.py)."""
    token = token_from_header(header)
    if not isinstance(static, StaticTokens):
        static = StaticTokens(static)
    record = static.lookup(token) or tokens.lookup(token)
    if record is None:
        raise Forbidden("unknown API token; `coordinator token list` shows the valid ones")
    if record.revoked:
        raise RevokedToken("this API token was revoked; `coordinator token create` makes a "
                           "new one")
    return token, record


def visible(experiment: Experiment, client: str) -> bool:
    """A token sees only its own client's experiments. `coordinator create` records no owner:
    such experiments belong to client `default` (the client `coordinator token create` and
    CELERIAC_API_TOKENS act for), so one operator can mix the CLI and the SigOpt client."""
    return (experiment.owner or CLI_CLIENT) == client


def not_found(raw_id: str) -> NotFound:
    """One answer for "no such experiment" and "another client's experiment", so that a token
    cannot learn which ids exist."""
    return NotFound(f"experiment {raw_id[:40]!r} not found")
