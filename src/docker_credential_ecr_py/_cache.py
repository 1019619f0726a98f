"""The token cache: ``cache.json`` in the Go helper's format, per-key fetch locks, atomic writes.

Readers never lock: writes replace the file atomically (temp file in the same directory, fsync,
rename), so a reader sees the old or the new file, never a torn one. Writers merge into the latest
file under a short write lock, so concurrent writers lose none of each other's entries. A fetch
lock per cache key makes N processes racing on a cold cache share one AWS call.

The read path uses only C modules (``_json`` through ``_lean.loads``, ``binascii``): it is
the cache-hit path. ``FileCache`` and ``NullCache`` both implement ``_interfaces.TokenCache`` in
full, so no caller needs to ask which one it has (``persistent`` says whether anything is kept).
"""

import errno
import os
import time

from docker_credential_ecr_py import _lean
from docker_credential_ecr_py._lean import format_time, parse_time
from docker_credential_ecr_py._token import Token

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~10 ms)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

    from docker_credential_ecr_py._identity import Identity
    from docker_credential_ecr_py._log import Log
    from docker_credential_ecr_py._registry import Registry
    from docker_credential_ecr_py._settings import Settings

CACHE_FILE = "cache.json"
VERSION = "1.0"
# A cached token is served after a failed refresh only while it has this long left.
FALLBACK_MIN_REMAINING = 300.0
# A fetch failure recorded this recently makes waiters fail fast instead of fetching again.
FAILURE_TTL = 5.0
# A cache file larger than this is treated as corrupt (the Go helper's grew without bound).
MAX_CACHE_BYTES = 16 * 1024 * 1024
# ``list`` does not retry a failed default-registry fetch for this long (it is called on every
# ``docker build``; offline, each try would cost the whole time bound).
LIST_FAILURE_TTL = 60.0
# Failure markers live at most this long; older ones are pruned.
MAX_MARKER_AGE = max(FAILURE_TTL, LIST_FAILURE_TTL)
_SIDE_PREFIX = ".fetch-"  # fetch locks and failure markers: .fetch-<key hash>.lock / .failed
_O_NOFOLLOW = _lean.O_NOFOLLOW
_O_CLOEXEC = _lean.O_CLOEXEC
_O_DIRECTORY = _lean.O_DIRECTORY
_O_NONBLOCK = _lean.O_NONBLOCK


# ---------------------------------------------------------------------------------------------
# Entries and keys


class Entry(Token):
    """One cached authorization token: a ``Token`` and when it was requested (``ValueError`` when
    the token does not decode)."""

    __slots__ = ("requested_at", "service")

    def __init__(
        self, token: str, requested_at: float, expires_at: float, proxy_endpoint: str, service: str
    ) -> None:
        super().__init__(token, expires_at, proxy_endpoint)
        self.requested_at = requested_at
        self.service = service

    @classmethod
    def issued(
        cls, token: "Token", requested_at: float, service: str, proxy_endpoint: "str | None" = None
    ) -> "Entry":
        """The entry for a token just fetched (``proxy_endpoint`` replaces the token's)."""
        proxy = token.proxy_endpoint if proxy_endpoint is None else proxy_endpoint
        return cls(token.token, requested_at, token.expires_at, proxy, service)

    @property
    def fresh_until(self) -> float:
        """Half the token's lifetime (the Go helper's rule), and never past its expiry."""
        return min(self.expires_at, self.expires_at - (self.expires_at - self.requested_at) / 2)

    def fresh(self, now: float) -> bool:
        """Served from the cache without a refresh (strictly before ``fresh_until``)."""
        return now < self.fresh_until

    def usable_fallback(self, now: float) -> bool:
        """Servable after a failed refresh: at least ``FALLBACK_MIN_REMAINING`` seconds left."""
        return self.expires_at - now >= FALLBACK_MIN_REMAINING

    def to_json(self) -> "dict[str, str]":
        """The Go helper's ``AuthEntry`` field order."""
        return {
            "AuthorizationToken": self.token,
            "RequestedAt": format_time(self.requested_at),
            "ExpiresAt": format_time(self.expires_at),
            "ProxyEndpoint": self.proxy_endpoint,
            "Service": self.service,
        }

    @classmethod
    def from_json(cls, value: object) -> "Entry | None":
        """An entry from its JSON object, ``None`` when it is not one (``null``, missing fields)."""
        if not isinstance(value, dict):
            return None
        try:
            token = value["AuthorizationToken"]
            requested = parse_time(value["RequestedAt"])
            expires = parse_time(value["ExpiresAt"])
            proxy = value.get("ProxyEndpoint", "")
            service = value.get("Service") or "ecr"
        except (KeyError, TypeError, ValueError):
            return None
        if not isinstance(token, str) or not isinstance(proxy, str) or not isinstance(service, str):
            return None
        try:
            return cls(token, requested, expires, proxy, service)
        except ValueError:
            return None  # a token that does not decode is as good as no entry


def keys_for(identity: "Identity", registry: "Registry", legacy: bool = True) -> "list[str]":
    """Cache keys to look up, current shape first, then the Go helper's legacy shape."""
    parts = [identity.key_part]
    if legacy and identity.legacy_key_part:
        parts.append(identity.legacy_key_part)
    if registry.is_public:
        return [f"ecr-public-{part}" for part in parts]
    return [f"{registry.region}-{part}-{registry.account}" for part in parts]


def default_registry_key(identity: "Identity", region: str) -> str:
    """Where ``list`` remembers the caller's default registry in a region (no account in it)."""
    return f"{region}-{identity.key_part}-default"


def _cache_error(message: str) -> Exception:
    """A ``CacheError`` (imported only when there is one: it is not on the hit path)."""
    from docker_credential_ecr_py._errors import CacheError

    return CacheError(message)


def _key_hash(key: str) -> str:
    return _lean.sha256(key.encode("utf-8")).hex()[:24]


# ---------------------------------------------------------------------------------------------
# Caches


class NullCache:
    """Used when caching is off or no directory is usable: always misses, stores nothing."""

    directory = ""
    path = ""
    persistent = False
    fd: "int | None" = None

    def close(self) -> None:
        """Nothing to close."""

    def registries(self, strict: bool = False) -> "dict[str, Any]":
        """Nothing cached."""
        return {}

    def lookup(self, keys: "list[str]") -> "tuple[str, Entry] | None":
        """Always a miss."""
        return None

    def store(self, key: str, entry: "Entry", timeout: float = 5.0) -> None:
        """Drop it."""

    def prune(self) -> None:
        """Nothing to prune."""

    def clear(self) -> None:
        """Nothing to clear."""

    def fetch_lock(self, key: str, timeout: float) -> "_Lock":
        """A lock that is always held at once."""
        return NO_LOCK

    def recent_failure(self, key: str, ttl: float = FAILURE_TTL) -> "tuple[str, float] | None":
        """No failure memory without a directory."""
        return None

    def mark_failure(self, key: str, message: str) -> None:
        """Nothing to record."""

    def clear_failure(self, key: str) -> None:
        """Nothing to forget."""


class _Lock:
    """An ``flock`` held on an open file descriptor (or nothing, for the null cache)."""

    def __init__(self, fd: "int | None", acquired: bool = True) -> None:
        self.fd = fd
        self.acquired = acquired

    def __enter__(self) -> "_Lock":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        """Unlock and close."""
        if self.fd is not None:
            os.close(self.fd)  # closing drops the flock
            self.fd = None


NO_LOCK = _Lock(None)  # held at once, releases nothing


class FileCache:
    """``<dir>/cache.json`` plus its lock files, in a directory already checked to be ours.

    The directory is opened once (``fd``) and every later file operation is relative to that
    descriptor: a path swapped for a symlink to someone else's directory after the check is never
    read or written through.
    """

    persistent = True

    def __init__(self, directory: str, log: "Log", fd: "int | None" = None) -> None:
        self.directory = directory
        self.path = os.path.join(directory, CACHE_FILE)
        self.log = log
        if fd is None:
            fd = os.open(directory, os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC)
        self.fd: int | None = fd

    def close(self) -> None:
        """Close the directory (the cache is unusable afterwards)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    # -- reading (no locks, no imports) --------------------------------------------------------

    def registries(self, strict: bool = False) -> "dict[str, Any]":
        """The ``Registries`` map as stored; ``{}`` (and a log line) when unreadable or corrupt.

        ``strict`` (before a rewrite): an I/O error raises ``CacheError`` instead, so that a
        transient read failure never makes a writer drop everyone else's entries.
        """
        try:
            data = _lean.read_bounded(CACHE_FILE, MAX_CACHE_BYTES, dir_fd=self.fd)
        except FileNotFoundError:
            return {}
        except OSError as err:
            # A planted symlink or a FIFO is replaced, not kept.
            if strict and err.errno not in (errno.ELOOP, errno.EINVAL):
                raise _cache_error(f"cannot read {self.path}: {err.strerror}") from None
            self.log.warning("cache: cannot read %s (%s); ignoring it", self.path, err.strerror)
            return {}
        if len(data) > MAX_CACHE_BYTES:
            self.log.warning("cache: %s is over %d bytes; replacing it", self.path, MAX_CACHE_BYTES)
            return {}
        try:
            doc = _lean.loads(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as err:
            self.log.warning("cache: %s is not valid JSON (%s); replacing it", self.path, err)
            return {}
        if not isinstance(doc, dict) or doc.get("Version") != VERSION:
            version = doc.get("Version") if isinstance(doc, dict) else None
            self.log.warning(
                "cache: %s has version %r, not %r; replacing it", self.path, version, VERSION
            )
            return {}
        registries = doc.get("Registries")
        if registries is None:
            return {}
        if not isinstance(registries, dict):
            self.log.warning("cache: %s has no Registries map; replacing it", self.path)
            return {}
        return registries

    def lookup(self, keys: "list[str]") -> "tuple[str, Entry] | None":
        """The first key that holds a well-formed entry (its token decodes), with the entry."""
        registries = self.registries()
        for key in keys:
            entry = Entry.from_json(registries.get(key))
            if entry is not None:
                return key, entry
        return None

    # -- writing ---------------------------------------------------------------------------------

    def store(self, key: str, entry: "Entry", timeout: float = 5.0) -> None:
        """Merge one entry into the latest file, pruning expired and malformed entries."""

        def change(current: "dict[str, Any]") -> "dict[str, Any]":
            merged = _unexpired(current, time.time())
            merged[key] = entry.to_json()
            return merged

        self._update(change, timeout)

    def prune(self) -> None:
        """Drop expired and malformed entries."""
        self._update(lambda current: _unexpired(current, time.time()))

    def clear(self) -> None:
        """Remove every entry (keeps the file, empty)."""
        self._update(lambda current: {})

    def _update(
        self, change: "Callable[[dict[str, Any]], dict[str, Any]]", timeout: float = 5.0
    ) -> None:
        """Read the latest file, change it and replace it, under the write lock; then drop the
        lock files and failure markers that no live entry needs."""
        from docker_credential_ecr_py._lean import files

        with self._write_lock(timeout):
            registries = change(self.registries(strict=True))
            self._write(registries)
            files.remove_stale_temp_files(CACHE_FILE, dir_fd=self.fd)
            self._prune_side_files(registries)

    def _write(self, registries: "dict[str, Any]") -> None:
        import json

        from docker_credential_ecr_py._lean import files

        doc = {"Registries": dict(sorted(registries.items())), "Version": VERSION}
        try:
            files.write_atomic(
                CACHE_FILE, json.dumps(doc, indent=2).encode("utf-8"), dir_fd=self.fd
            )
        except OSError as err:
            raise _cache_error(f"cannot write {self.path}: {err.strerror}") from None

    def _write_lock(self, timeout: float) -> "_Lock":
        lock = self._lock(".cache.json.lock", timeout)
        if not lock.acquired:
            raise _cache_error("timed out waiting for the cache write lock")
        return lock

    def _prune_side_files(self, registries: "dict[str, Any]") -> None:
        """Fetch locks of keys with no entry left (when nobody holds them) and failure markers
        that no longer count (older than the longest marker lifetime, or from the future)."""
        import fcntl

        live = {_key_hash(key) for key in registries}
        now = time.time()
        try:
            names = os.listdir(self.fd) if self.fd is not None else []
        except OSError:
            return
        for name in names:
            if not name.startswith(_SIDE_PREFIX):
                continue
            digest, _, kind = name[len(_SIDE_PREFIX) :].partition(".")
            try:
                if kind == "failed":
                    age = now - os.stat(name, dir_fd=self.fd, follow_symlinks=False).st_mtime
                    if not 0 <= age <= MAX_MARKER_AGE:
                        os.unlink(name, dir_fd=self.fd)
                elif kind == "lock" and digest not in live:
                    fd = os.open(name, os.O_RDWR | _O_NOFOLLOW | _O_CLOEXEC, dir_fd=self.fd)
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        os.unlink(name, dir_fd=self.fd)  # held: nobody is fetching this key
                    finally:
                        os.close(fd)
            except OSError:
                continue  # held by a fetch in progress, or already gone

    # -- fetch locks and failure markers ---------------------------------------------------------

    def fetch_lock(self, key: str, timeout: float) -> "_Lock":
        """The per-key fetch lock, waiting at most ``timeout`` seconds (``acquired`` says)."""
        return self._lock(f"{_SIDE_PREFIX}{_key_hash(key)}.lock", timeout)

    def _lock(self, name: str, timeout: float) -> "_Lock":
        """``flock`` on ``name`` in the directory, waiting at most ``timeout`` seconds."""
        from docker_credential_ecr_py._lean import files

        try:
            fd = files.lock(name, time.monotonic() + timeout, dir_fd=self.fd)
        except OSError as err:
            path = os.path.join(self.directory, name)
            raise _cache_error(f"cannot lock {path}: {err.strerror}") from None
        return _Lock(None, acquired=False) if fd is None else _Lock(fd)

    def _marker(self, key: str) -> str:
        return f"{_SIDE_PREFIX}{_key_hash(key)}.failed"

    def recent_failure(self, key: str, ttl: float = FAILURE_TTL) -> "tuple[str, float] | None":
        """``(message, seconds until it expires)`` of a fetch failure for ``key`` recorded in the
        last ``ttl`` seconds. A marker dated in the future (the clock was stepped back) does not
        count: only ``0 <= age <= ttl`` does."""
        try:
            fd = os.open(
                self._marker(key),
                os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC | _O_NONBLOCK,
                dir_fd=self.fd,
            )
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            age = time.time() - st.st_mtime
            if not _lean.is_regular(st.st_mode) or not 0 <= age <= ttl:
                return None
            message = os.read(fd, 4096).decode("utf-8", "replace") or "an earlier fetch failed"
            return message, ttl - age
        except OSError:
            return None
        finally:
            os.close(fd)

    def mark_failure(self, key: str, message: str) -> None:
        """Record a failed fetch (best effort) so waiters on the same key fail fast."""
        from docker_credential_ecr_py._lean import files

        try:
            files.write_atomic(
                self._marker(key),
                message.encode("utf-8", "replace")[:4096],
                durable=False,
                dir_fd=self.fd,
            )
        except OSError:
            pass

    def clear_failure(self, key: str) -> None:
        """Forget a failure after a successful fetch."""
        try:
            os.unlink(self._marker(key), dir_fd=self.fd)
        except OSError:
            pass


# ---------------------------------------------------------------------------------------------
# Choosing the directory


def _open_dir(path: str, strict: bool) -> "tuple[int | None, str]":
    """``(descriptor, "")`` for a directory we may use, else ``(None, the reason it is not)``.

    The directory is opened once and checked through the descriptor (``fstat``), so what was
    checked is what is used. Created (0700, whatever the umask) when missing. ``strict`` (for
    shared places such as ``/tmp``) also refuses a symlink at ``path`` and any group or other
    permission bit; otherwise a symlink to a directory of ours is followed (once, at the open).
    """
    flags = os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC | (_O_NOFOLLOW if strict else 0)
    try:
        try:
            fd = os.open(path, flags)
        except FileNotFoundError:
            from docker_credential_ecr_py._lean import files

            try:
                files.makedirs_private(path)
            except OSError as err:
                return None, f"cannot create {path}: {err.strerror}"
            fd = os.open(path, flags)
    except OSError as err:
        if err.errno == errno.ELOOP:
            return None, f"{path} is a symlink"
        if err.errno == errno.ENOTDIR:
            return None, f"{path} is not a directory"
        return None, f"cannot open {path}: {err.strerror}"
    reason = _dir_problem(fd, path, strict)
    if reason:
        os.close(fd)
        return None, reason
    return fd, ""


def _dir_problem(fd: int, path: str, strict: bool) -> str:
    st = os.fstat(fd)
    uid = os.geteuid()
    if st.st_uid != uid:
        return f"{path} is owned by uid {st.st_uid}, not {uid}"
    if st.st_mode & (0o077 if strict else 0o022):
        return f"{path} is accessible to other users (mode {st.st_mode & 0o7777:o})"
    if not os.access(".", os.W_OK | os.X_OK, dir_fd=fd):
        return f"{path} is not writable"
    return ""


def open_cache(settings: "Settings", log: "Log") -> "tuple[FileCache | NullCache, list[str]]":
    """The cache to use and the reasons any better choice was passed over."""
    if settings.cache_disabled:
        return NullCache(), ["caching is disabled by AWS_ECR_DISABLE_CACHE"]
    reasons: list[str] = []
    if settings.cache_dir:
        fd, reason = _open_dir(settings.cache_dir, strict=False)
        if fd is not None:
            return FileCache(settings.cache_dir, log, fd), reasons
        reasons.append(reason)
    else:
        reasons.append(settings.cache_dir_problem or "no home directory to put ~/.ecr in")
    for candidate in settings.fallback_dirs():
        fd, reason = _open_dir(candidate, strict=True)
        if fd is not None:
            return FileCache(candidate, log, fd), reasons
        reasons.append(reason)
    return NullCache(), reasons


def _unexpired(registries: "dict[str, Any]", now: float) -> "dict[str, Any]":
    """Well-formed, unexpired entries, kept exactly as written (whoever wrote them)."""
    kept: dict[str, Any] = {}
    for key, value in registries.items():
        parsed = Entry.from_json(value)
        if parsed is not None and not parsed.expired(now):
            kept[key] = value
    return kept


def iter_entries(registries: "dict[str, Any]") -> "Iterator[tuple[str, Entry]]":
    """Well-formed entries of a ``Registries`` map."""
    for key, value in registries.items():
        entry = Entry.from_json(value)
        if entry is not None:
            yield key, entry
