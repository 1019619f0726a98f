"""The token cache: ``cache.json`` in the Go helper's format, per-key fetch locks, atomic writes.

Readers never lock: writes replace the file atomically (temp file in the same directory, fsync,
rename), so a reader sees the old or the new file, never a torn one. Writers merge into the latest
file under a short write lock, so concurrent writers lose none of each other's entries. A fetch
lock per cache key makes N processes racing on a cold cache share one AWS call.

The read path uses only C modules (``_json`` through ``_fastjson``, ``binascii``): it is the
cache-hit path.
"""

from __future__ import annotations

import errno
import os
import time

from docker_credential_ecr_py import _fastjson, _hashing

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~10 ms)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

    from docker_credential_ecr_py._identity import Identity
    from docker_credential_ecr_py._log import Log
    from docker_credential_ecr_py._registry import Registry

CACHE_FILE = "cache.json"
VERSION = "1.0"
# A cached token is served after a failed refresh only while it has this long left.
FALLBACK_MIN_REMAINING = 300.0
# A fetch failure recorded this recently makes waiters fail fast instead of fetching again.
FAILURE_TTL = 5.0
# A cache file larger than this is treated as corrupt (the Go helper's grew without bound).
MAX_CACHE_BYTES = 16 * 1024 * 1024
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class CacheError(Exception):
    """The cache could not be read or written; never fatal to a request."""


# ---------------------------------------------------------------------------------------------
# Time: RFC 3339 as Go's time.Time marshals it, without importing datetime.


def _days_from_civil(year: int, month: int, day: int) -> int:
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(days: int) -> tuple[int, int, int]:
    days += 719468
    era = days // 146097
    doe = days - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (month <= 2), month, day


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def parse_time(text: str) -> float:
    """Seconds since the epoch from an RFC 3339 timestamp (``Z`` or ``±hh:mm``, any fraction)."""
    if len(text) < 20 or text[4] != "-" or text[7] != "-" or text[10] not in "Tt":
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    if text[13] != ":" or text[16] != ":":
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    year, month, day = int(text[0:4]), int(text[5:7]), int(text[8:10])
    hour, minute, second = int(text[11:13]), int(text[14:16]), int(text[17:19])
    if not (1 <= month <= 12 and 1 <= day <= _days_in_month(year, month)):
        raise ValueError(f"day out of range: {text!r}")
    if not (hour < 24 and minute < 60 and second < 60):
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    rest = text[19:]
    fraction = 0.0
    if rest.startswith("."):
        digits = 1
        while digits < len(rest) and rest[digits].isdigit():
            digits += 1
        if digits == 1:
            raise ValueError(f"not an RFC 3339 time: {text!r}")
        fraction = float("0" + rest[:digits])
        rest = rest[digits:]
    if rest in ("Z", "z"):
        offset = 0
    elif len(rest) == 6 and rest[0] in "+-" and rest[3] == ":":
        offset = int(rest[1:3]) * 3600 + int(rest[4:6]) * 60
        if rest[0] == "-":
            offset = -offset
    else:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    days = _days_from_civil(year, month, day)
    return days * 86400 + hour * 3600 + minute * 60 + second - offset + fraction


def format_time(epoch: float) -> str:
    """UTC RFC 3339 with Go's ``RFC3339Nano`` fraction (trailing zeros dropped)."""
    nanos = round(epoch * 1e6) * 1000  # float seconds carry microseconds, not nanoseconds
    seconds, frac = divmod(nanos, 1_000_000_000)
    days, secs = divmod(seconds, 86400)
    year, month, day = _civil_from_days(days)
    hour, rem = divmod(secs, 3600)
    minute, second = divmod(rem, 60)
    text = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
    if frac:
        text += "." + f"{frac:09d}".rstrip("0")
    return text + "Z"


# ---------------------------------------------------------------------------------------------
# Entries and keys


class Entry:
    """One cached authorization token; constructing it decodes the token (``ValueError`` if bad)."""

    __slots__ = (
        "expires_at",
        "password",
        "proxy_endpoint",
        "requested_at",
        "service",
        "token",
        "username",
    )

    def __init__(
        self, token: str, requested_at: float, expires_at: float, proxy_endpoint: str, service: str
    ) -> None:
        self.username, self.password = decode_token(token)
        self.token = token
        self.requested_at = requested_at
        self.expires_at = expires_at
        self.proxy_endpoint = proxy_endpoint
        self.service = service

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

    def expired(self, now: float) -> bool:
        """Past its ``ExpiresAt``."""
        return now >= self.expires_at

    def to_json(self) -> dict[str, str]:
        """The Go helper's ``AuthEntry`` field order."""
        return {
            "AuthorizationToken": self.token,
            "RequestedAt": format_time(self.requested_at),
            "ExpiresAt": format_time(self.expires_at),
            "ProxyEndpoint": self.proxy_endpoint,
            "Service": self.service,
        }

    @classmethod
    def from_json(cls, value: object) -> Entry | None:
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


def decode_token(token: str) -> tuple[str, str]:
    """``base64("user:password")`` decoded strictly, as the Go helper's ``extractToken``."""
    from binascii import Error as BinasciiError
    from binascii import a2b_base64

    try:
        raw = a2b_base64(token.encode("ascii"), strict_mode=True)
    except (BinasciiError, UnicodeEncodeError, ValueError) as err:
        raise ValueError(f"invalid token: {err}") from None
    text = raw.decode("utf-8", "surrogateescape")
    user, sep, password = text.partition(":")
    if not sep:
        raise ValueError("invalid token: expected two parts, got 1")
    return user, password


def fips_mode(godebug: str) -> bool:
    """``GODEBUG`` asks for FIPS 140 mode: the Go helper then skips its legacy MD5-shaped keys."""
    return any(item.strip() in ("fips140=on", "fips140=only") for item in godebug.split(","))


def keys_for(identity: Identity, registry: Registry, legacy: bool = True) -> list[str]:
    """Cache keys to look up, current shape first, then the Go helper's legacy shape."""
    parts = [identity.key_part]
    if legacy and identity.legacy_key_part:
        parts.append(identity.legacy_key_part)
    if registry.is_public:
        return [f"ecr-public-{part}" for part in parts]
    return [f"{registry.region}-{part}-{registry.account}" for part in parts]


def default_registry_key(identity: Identity, region: str) -> str:
    """Where ``list`` remembers the caller's default registry in a region (no account in it)."""
    return f"{region}-{identity.key_part}-default"


def _key_hash(key: str) -> str:
    return _hashing.sha256(key.encode("utf-8")).hex()[:24]


# ---------------------------------------------------------------------------------------------
# Caches


class NullCache:
    """Used when caching is off or no directory is usable: always misses, stores nothing."""

    directory = ""
    path = ""

    def lookup(self, keys: list[str]) -> tuple[str, Entry] | None:
        """Always a miss."""
        return None

    def registries(self) -> dict[str, Any]:
        """Nothing cached."""
        return {}

    def store(self, key: str, entry: Entry, timeout: float = 5.0) -> None:
        """Drop it."""

    def fetch_lock(self, key: str, timeout: float) -> _Lock:
        """A lock that is always held at once."""
        return NO_LOCK

    def recent_failure(self, key: str, ttl: float = FAILURE_TTL) -> str | None:
        """No failure memory without a directory."""
        return None

    def mark_failure(self, key: str, message: str) -> None:
        """Nothing to record."""

    def clear(self) -> None:
        """Nothing to clear."""

    def prune(self) -> None:
        """Nothing to prune."""


class _Lock:
    """An ``flock`` held on an open file descriptor (or nothing, for the null cache)."""

    def __init__(self, fd: int | None, acquired: bool = True) -> None:
        self.fd = fd
        self.acquired = acquired

    def __enter__(self) -> _Lock:
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
    """``<dir>/cache.json`` plus its lock files, in a directory already checked to be ours."""

    def __init__(self, directory: str, log: Log) -> None:
        self.directory = directory
        self.path = os.path.join(directory, CACHE_FILE)
        self.log = log

    # -- reading (no locks, no imports) --------------------------------------------------------

    def registries(self, strict: bool = False) -> dict[str, Any]:
        """The ``Registries`` map as stored; ``{}`` (and a log line) when unreadable or corrupt.

        ``strict`` (before a rewrite): an I/O error raises ``CacheError`` instead, so that a
        transient read failure never makes a writer drop everyone else's entries.
        """
        try:
            fd = os.open(self.path, os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC)
        except FileNotFoundError:
            return {}
        except OSError as err:
            if strict and err.errno != errno.ELOOP:  # a planted symlink is replaced, not kept
                raise CacheError(f"cannot open {self.path}: {err.strerror}") from None
            self.log.warning("cache: cannot open %s (%s); ignoring it", self.path, err.strerror)
            return {}
        try:
            # Read what fstat says (plus one byte to see growth), not a 16 MiB buffer per hit.
            want = min(os.fstat(fd).st_size, MAX_CACHE_BYTES) + 1
            data = os.read(fd, want)
            while len(data) <= MAX_CACHE_BYTES:
                more = os.read(fd, max(want - len(data), 65536))
                if not more:
                    break
                data += more
        except OSError as err:
            if strict:
                raise CacheError(f"cannot read {self.path}: {err.strerror}") from None
            self.log.warning("cache: cannot read %s (%s); ignoring it", self.path, err.strerror)
            return {}
        finally:
            os.close(fd)
        if len(data) > MAX_CACHE_BYTES:
            self.log.warning("cache: %s is over %d bytes; replacing it", self.path, MAX_CACHE_BYTES)
            return {}
        try:
            doc = _fastjson.loads(data.decode("utf-8"))
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

    def lookup(self, keys: list[str]) -> tuple[str, Entry] | None:
        """The first key that holds a well-formed entry (its token decodes), with the entry."""
        registries = self.registries()
        for key in keys:
            entry = Entry.from_json(registries.get(key))
            if entry is not None:
                return key, entry
        return None

    # -- writing ---------------------------------------------------------------------------------

    def store(self, key: str, entry: Entry, timeout: float = 5.0) -> None:
        """Merge one entry into the latest file, pruning expired and malformed entries."""

        def change(current: dict[str, Any]) -> dict[str, Any]:
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
        self, change: Callable[[dict[str, Any]], dict[str, Any]], timeout: float = 5.0
    ) -> None:
        """Read the latest file, change it and replace it, under the write lock."""
        with self._write_lock(timeout):
            self._write(change(self.registries(strict=True)))
            self._remove_stale_temp_files()

    def _remove_stale_temp_files(self) -> None:
        """Temp files of writers killed mid-write (best effort, only when a minute old)."""
        prefix = f".{CACHE_FILE}."
        cutoff = time.time() - 60
        try:
            names = os.listdir(self.directory)
        except OSError:
            return
        for name in names:
            if name.startswith(prefix) and name.endswith(".tmp"):
                path = os.path.join(self.directory, name)
                try:
                    if os.lstat(path).st_mtime < cutoff:
                        os.unlink(path)
                except OSError:
                    pass

    def _write(self, registries: dict[str, Any]) -> None:
        import json

        doc = {"Registries": dict(sorted(registries.items())), "Version": VERSION}
        data = json.dumps(doc, indent=2).encode("utf-8")
        tmp = os.path.join(self.directory, f".{CACHE_FILE}.{os.getpid()}.{time.monotonic_ns()}.tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC
        try:
            fd = os.open(tmp, flags, 0o600)
        except OSError as err:
            raise CacheError(f"cannot create {tmp}: {err.strerror}") from None
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
        except OSError as err:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise CacheError(f"cannot write {self.path}: {err.strerror}") from None
        try:
            dir_fd = os.open(self.directory, os.O_RDONLY | _O_CLOEXEC)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError:
            pass  # the rename is done; a directory fsync is best effort

    def _write_lock(self, timeout: float) -> _Lock:
        lock = self._lock(os.path.join(self.directory, ".cache.json.lock"), timeout)
        if not lock.acquired:
            raise CacheError("timed out waiting for the cache write lock")
        return lock

    # -- fetch locks and failure markers ---------------------------------------------------------

    def fetch_lock(self, key: str, timeout: float) -> _Lock:
        """The per-key fetch lock, waiting at most ``timeout`` seconds (``acquired`` says)."""
        return self._lock(os.path.join(self.directory, f".fetch-{_key_hash(key)}.lock"), timeout)

    def _lock(self, path: str, timeout: float) -> _Lock:
        import fcntl

        flags = os.O_RDWR | os.O_CREAT | _O_NOFOLLOW | _O_CLOEXEC
        try:
            fd = os.open(path, flags, 0o600)
        except OSError as err:
            raise CacheError(f"cannot open lock {path}: {err.strerror}") from None
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return _Lock(fd)
            except BlockingIOError:
                pass
            except OSError as err:
                os.close(fd)
                raise CacheError(f"cannot lock {path}: {err.strerror}") from None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                os.close(fd)
                return _Lock(None, acquired=False)
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, 0.05)

    def _marker(self, key: str) -> str:
        return os.path.join(self.directory, f".fetch-{_key_hash(key)}.failed")

    def recent_failure(self, key: str, ttl: float = FAILURE_TTL) -> str | None:
        """The message of a fetch failure for ``key`` in the last ``ttl`` seconds."""
        path = self._marker(key)
        try:
            fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC)
        except OSError:
            return None
        try:
            if time.time() - os.fstat(fd).st_mtime > ttl:
                return None
            return os.read(fd, 4096).decode("utf-8", "replace") or "an earlier fetch failed"
        except OSError:
            return None
        finally:
            os.close(fd)

    def mark_failure(self, key: str, message: str) -> None:
        """Record a failed fetch (best effort) so waiters on the same key fail fast."""
        path = self._marker(key)
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _O_NOFOLLOW, 0o600)
            try:
                os.write(fd, message.encode("utf-8", "replace")[:4096])
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except OSError:
            pass

    def clear_failure(self, key: str) -> None:
        """Forget a failure after a successful fetch."""
        try:
            os.unlink(self._marker(key))
        except OSError:
            pass


# ---------------------------------------------------------------------------------------------
# Choosing the directory


def _dir_usable(path: str, strict: bool) -> str:
    """``""`` when ``path`` is a directory we may use, else the reason it is not.

    Creates it (0700, whatever the umask) when missing. ``strict`` (for shared places such as
    ``/tmp``) also refuses a symlink and any group or other permission bit.
    """
    try:
        st = os.lstat(path) if strict else os.stat(path)
    except FileNotFoundError:
        from docker_credential_ecr_py._log import makedirs_private

        try:
            makedirs_private(path)
            st = os.lstat(path)
        except OSError as err:
            return f"cannot create {path}: {err.strerror}"
    except OSError as err:
        return f"cannot stat {path}: {err.strerror}"
    import stat

    if not stat.S_ISDIR(st.st_mode):
        return f"{path} is not a directory"
    if st.st_uid != os.geteuid():
        return f"{path} is owned by uid {st.st_uid}, not {os.geteuid()}"
    if st.st_mode & (0o077 if strict else 0o022):
        return f"{path} is accessible to other users (mode {stat.S_IMODE(st.st_mode):o})"
    if not os.access(path, os.W_OK | os.X_OK):
        return f"{path} is not writable"
    return ""


def fallback_dirs(env: dict[str, str] | Any) -> list[str]:
    """Private per-user places used when the configured directory cannot be."""
    uid = os.geteuid()
    out = []
    runtime = env.get("XDG_RUNTIME_DIR", "")
    if runtime and os.path.isabs(runtime):
        out.append(os.path.join(runtime, "docker-credential-ecr-login"))
    tmp = env.get("TMPDIR", "") or "/tmp"
    out.append(os.path.join(tmp, f"docker-credential-ecr-login-{uid}"))
    return out


def open_cache(
    directory: str, disabled: bool, env: Any, log: Log
) -> tuple[FileCache | NullCache, list[str]]:
    """The cache to use and the reasons any better choice was passed over."""
    if disabled:
        return NullCache(), ["caching is disabled by AWS_ECR_DISABLE_CACHE"]
    reasons: list[str] = []
    if directory:
        reason = _dir_usable(directory, strict=False)
        if not reason:
            return FileCache(directory, log), reasons
        reasons.append(reason)
    else:
        reasons.append("no home directory to put ~/.ecr in")
    for candidate in fallback_dirs(env):
        reason = _dir_usable(candidate, strict=True)
        if not reason:
            return FileCache(candidate, log), reasons
        reasons.append(reason)
    return NullCache(), reasons


def _unexpired(registries: dict[str, Any], now: float) -> dict[str, Any]:
    """Well-formed, unexpired entries, kept exactly as written (whoever wrote them)."""
    kept: dict[str, Any] = {}
    for key, value in registries.items():
        parsed = Entry.from_json(value)
        if parsed is not None and not parsed.expired(now):
            kept[key] = value
    return kept


def iter_entries(registries: dict[str, Any]) -> Iterator[tuple[str, Entry]]:
    """Well-formed entries of a ``Registries`` map."""
    for key, value in registries.items():
        entry = Entry.from_json(value)
        if entry is not None:
            yield key, entry
