"""API tokens for `coordinator serve`: created by `coordinator token create`, kept in Redis.

Only a SHA-256 digest of each token is stored, so a copy of the Redis data does not hand out
working tokens; the token itself is shown once, when it is created.

Why lookups leak nothing an attacker can use: a presented token is never compared with a secret
character by character. Stored tokens are found by the digest of the presented token (an HGET),
so any timing difference depends on the digest, and learning a digest's prefix does not help to
build a token that hashes to it. Tokens from the server's configuration are kept as digests too
and compared with `hmac.compare_digest` against every configured one, without stopping early.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import redis

from coordinator.errors import InvalidInput, NotFound
from coordinator.state import keys

CLIENT_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class TokenRecord:
    id: str  # the digest's first 12 hex digits: names a token in lists without revealing it
    client: str
    user: str
    created: int
    revoked: bool = False

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class StaticTokens:
    """Tokens given in the server's configuration (`CELERIAC_API_TOKENS`), held as digests only,
    so the plain tokens do not linger in the app's state."""

    def __init__(self, plain: Mapping[str, TokenRecord] | None = None) -> None:
        self.records = [(digest(token), record) for token, record in (plain or {}).items()]

    def lookup(self, token: str) -> TokenRecord | None:
        """Constant time in the token: every configured digest is compared, none skipped."""
        presented = digest(token).encode()
        found = None
        for hashed, record in self.records:
            if hmac.compare_digest(presented, hashed.encode()):
                found = record
        return found

    def __len__(self) -> int:
        return len(self.records)


class Tokens:
    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def create(self, client: str = "default") -> tuple[str, TokenRecord]:
        """A new token for `client` (the SigOpt client id projects live under)."""
        if not CLIENT_NAME.match(client):
            raise InvalidInput(f"client: {client!r} must be 1-64 lowercase letters, digits, "
                               f"'-', '_' or '.'")
        token = secrets.token_hex(24)
        hashed = digest(token)
        record = TokenRecord(id=hashed[:12], client=client, user=client,
                             created=int(time.time()))
        self.redis.hset(keys.TOKENS, hashed, record.to_json())
        return token, record

    def lookup(self, token: str) -> TokenRecord | None:
        text = self.redis.hget(keys.TOKENS, digest(token))
        return TokenRecord(**json.loads(text)) if text else None

    def all(self) -> list[TokenRecord]:
        records = [TokenRecord(**json.loads(t)) for t in self.redis.hvals(keys.TOKENS)]
        return sorted(records, key=lambda r: (r.created, r.id))

    def revoke(self, token_id: str) -> TokenRecord:
        """Revoked tokens stay listed (and answer 403 rather than 401), as in SigOpt."""
        for hashed, text in self.redis.hgetall(keys.TOKENS).items():
            record = TokenRecord(**json.loads(text))
            if token_id and record.id == token_id:
                revoked = TokenRecord(**{**asdict(record), "revoked": True})
                self.redis.hset(keys.TOKENS, hashed, revoked.to_json())
                return revoked
        raise NotFound(f"no token with id {token_id!r}; `coordinator token list` shows the ids")
