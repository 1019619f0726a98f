"""The seams between the policy (``_helper``) and what it drives: typing protocols only.

Imported under ``TYPE_CHECKING`` by the core (``typing`` costs ~10 ms, more than a cache hit) and
for real by the tests, whose fakes implement these protocols; ``tests/unit/test_cache_contract``
runs one set of cases against every ``TokenCache``.
"""

from __future__ import annotations

from typing import Any, Protocol

from docker_credential_ecr_py._cache import Entry
from docker_credential_ecr_py._registry import Registry
from docker_credential_ecr_py._token import Token


class TokenSource(Protocol):
    """Where tokens come from on a miss (``_aws.BotocoreTokenSource``; fakes in the tests).

    Both calls should honour ``deadline`` (a ``time.monotonic()`` value) themselves; the policy
    also abandons a call that outlives it. Failures raise ``_errors.AwsError``.
    """

    def fetch(
        self,
        registry: Registry,
        profile: str | None,
        deadline: float,
        web_identity: tuple[str, str] | None = None,
    ) -> Token:
        """``GetAuthorizationToken`` for one registry; with ``web_identity`` (role ARN, token),
        with that role's credentials instead of the default chain's."""
        ...

    def fetch_default(self, region: str, profile: str | None, deadline: float) -> tuple[str, Token]:
        """The caller's default registry in ``region``: ``(account, token)``."""
        ...


class Lock(Protocol):
    """A held (or not acquired) lock; a context manager that releases it."""

    acquired: bool

    def __enter__(self) -> Lock: ...

    def __exit__(self, *exc: object) -> None: ...


class TokenCache(Protocol):
    """Cached tokens by key, per-key fetch locks and short-lived failure markers.

    ``FileCache`` (``cache.json``) and ``NullCache`` (caching off) implement all of it.
    """

    directory: str
    path: str
    persistent: bool
    fd: int | None  # the open cache directory (every file is reached through it), if any

    def close(self) -> None:
        """Release the directory."""
        ...

    def registries(self, strict: bool = False) -> dict[str, Any]:
        """The raw ``Registries`` map."""
        ...

    def lookup(self, keys: list[str]) -> tuple[str, Entry] | None:
        """The first key holding a well-formed entry, with the entry."""
        ...

    def store(self, key: str, entry: Entry, timeout: float = 5.0) -> None:
        """Save one entry (``CacheError`` when it cannot)."""
        ...

    def prune(self) -> None:
        """Drop expired and malformed entries."""
        ...

    def clear(self) -> None:
        """Drop every entry."""
        ...

    def fetch_lock(self, key: str, timeout: float) -> Lock:
        """The per-key fetch lock, waiting at most ``timeout`` seconds."""
        ...

    def recent_failure(self, key: str, ttl: float = ...) -> tuple[str, float] | None:
        """``(message, seconds until it expires)`` of a fetch failure for ``key`` recorded
        ``0 <= age <= ttl`` seconds ago."""
        ...

    def mark_failure(self, key: str, message: str) -> None:
        """Remember a failed fetch."""
        ...

    def clear_failure(self, key: str) -> None:
        """Forget it after a successful fetch."""
        ...
