"""What ``get``, ``list``, ``store`` and ``erase`` mean: cache policy, locking, fallback rules.

Usable as a library: ``EcrHelper(Settings.from_environ(), memory=True).get(host)`` keeps an
in-process layer (cachetools) so a long-lived process does not re-read ``cache.json`` each time.
"""

from __future__ import annotations

import os
import time

from docker_credential_ecr_py import _cache, _identity
from docker_credential_ecr_py._config import (
    RegistryConfig,
    Settings,
    home_dir,
    load_registry_config,
)
from docker_credential_ecr_py._errors import CredentialsNotFound, NotImplementedByHelper
from docker_credential_ecr_py._log import Log
from docker_credential_ecr_py._registry import Registry, host_of, parse, registry_host

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~10 ms)
if TYPE_CHECKING:
    from typing import Any, TypeVar

    _T = TypeVar("_T")
    from collections.abc import Callable

    from docker_credential_ecr_py._identity import Identity

# ``list`` does not retry a failed default-registry fetch for this long (it is called on every
# ``docker build``; offline, each try would cost the whole time bound).
LIST_FAILURE_TTL = 60.0


class EcrHelper:
    """The credential helper's behaviour, independent of argv, stdin and stdout."""

    def __init__(
        self,
        settings: Settings,
        *,
        start: float | None = None,
        clock: Callable[[], float] = time.time,
        memory: bool = False,
        log: Log | None = None,
    ) -> None:
        self.settings = settings
        self.start = time.monotonic() if start is None else start
        self.clock = clock
        self.log = log or Log(settings.log_file, settings.log_level, settings.log_max_bytes)
        if settings.log_file is None:
            self.log.path_provider = self._default_log_path
        self.abandoned = False  # an AWS call is still running in a thread we gave up on
        self._cache: _cache.FileCache | _cache.NullCache | None = None
        self._memory: Any = None
        if memory:
            from cachetools import TLRUCache

            def until(_key: str, entry: _cache.Entry, now: float) -> float:
                return entry.fresh_until

            self._memory = TLRUCache(maxsize=256, ttu=until, timer=clock)
        self._home = home_dir(settings.env)
        self._config: RegistryConfig | None = None
        for problem in settings.invalid:
            self.log.warning("config: %s", problem)

    # -- pieces ------------------------------------------------------------------------------

    def cache(self) -> _cache.FileCache | _cache.NullCache:
        """The cache, opened on first use (a fallback directory if the configured one fails)."""
        if self._cache is None:
            self._cache, reasons = _cache.open_cache(
                self.settings.cache_dir, self.settings.cache_disabled, self.settings.env, self.log
            )
            if reasons and not self.settings.cache_disabled:
                where = self._cache.directory or "no cache"
                # Said at info once (when the fallback has no cache file yet), then at debug:
                # a line per call would also import re on every cache hit.
                first = not self._cache.path or not os.path.exists(self._cache.path)
                log = self.log.info if first else self.log.debug
                log("cache: using %s: %s", where, "; ".join(reasons))
        return self._cache

    def _default_log_path(self) -> str:
        """``<cache dir>/log/ecr-login.log`` of the directory actually in use (checked first)."""
        directory = self.cache().directory
        return os.path.join(directory, "log", "ecr-login.log") if directory else ""

    def config(self) -> RegistryConfig:
        """Aliases and per-registry profiles; problems are logged and said once on stderr."""
        if self._config is None:
            cache = self.cache()
            self._config = load_registry_config(self.settings.config_file, cache.directory)
            if self._config.problems:
                from docker_credential_ecr_py._log import stderr_line

                for problem in self._config.problems:
                    self.log.warning("config: %s", problem)
                stderr_line(
                    f"docker-credential-ecr-login: config: {self._config.problems[0]}"
                    + (
                        f" (+{len(self._config.problems) - 1} more)"
                        if len(self._config.problems) > 1
                        else ""
                    )
                )
        return self._config

    def identity(self, profile: str | None = None) -> Identity:
        """The caller's identity as the cache sees it (no network)."""
        return _identity.resolve(self.settings.env, self._home, profile)

    def registry(self, server_url: str) -> tuple[Registry | None, str | None]:
        """The registry a server URL names (aliases first) and the profile mapped to it."""
        config = self.config()
        host = host_of(server_url)
        target = config.aliases.get(host)
        registry = parse(target) if target else parse(server_url)
        if registry is None:
            return None, None
        profile = config.profiles.get(host) or config.profiles.get(registry.host)
        return registry, profile

    def _legacy_keys(self) -> bool:
        return not _cache.fips_mode(self.settings.env.get("GODEBUG", ""))

    # -- get -----------------------------------------------------------------------------------

    def get(self, server_url: str) -> tuple[str, str]:
        """``(username, secret)`` for a registry, from cache or from ECR."""
        registry, profile = self.registry(server_url)
        if registry is None:
            raise CredentialsNotFound(f"{server_url!r} is not an Amazon ECR registry")
        identity = self.identity(profile)
        keys = _cache.keys_for(identity, registry, self._legacy_keys())
        now = self.clock()
        if self._memory is not None:
            remembered = self._memory.get(keys[0])
            if remembered is not None:
                return remembered.username, remembered.password
        cache = self.cache()
        hit = cache.lookup(keys)
        if hit is not None and hit[1].fresh(now):
            self._remember(keys[0], hit[1])
            if self.log.enabled("debug"):
                self.log.debug("get: cached token for %s (key %s)", registry.host, hit[0])
            return hit[1].username, hit[1].password
        return self._refresh(registry, identity, keys, hit)

    def _remember(self, key: str, entry: _cache.Entry) -> None:
        if self._memory is not None:
            self._memory[key] = entry

    def _refresh(
        self,
        registry: Registry,
        identity: Identity,
        keys: list[str],
        stale: tuple[str, _cache.Entry] | None,
    ) -> tuple[str, str]:
        cache = self.cache()
        timeout = self.settings.timeout
        waited_from = time.monotonic()
        try:
            lock = cache.fetch_lock(keys[0], timeout)
        except _cache.CacheError as err:
            self.log.warning("cache: %s; fetching without the lock", err)
            lock = _cache.NO_LOCK
        with lock:
            waited = time.monotonic() - waited_from
            now = self.clock()
            again = cache.lookup(keys)  # another process may have fetched while we waited
            if again is not None:
                stale = again
                if again[1].fresh(now):
                    self._remember(keys[0], again[1])
                    return again[1].username, again[1].password
            if not lock.acquired:
                return self._fallback(
                    registry, stale, f"another process held the fetch lock for {timeout:g} s"
                )
            failure = cache.recent_failure(keys[0])
            if failure:
                return self._fallback(registry, stale, f"an AWS call just failed: {failure}")
            deadline = self.start + timeout + waited
            self.log.info(
                "get: fetching a token for %s (account %s, region %s, identity %s)",
                registry.host,
                registry.account or "-",
                registry.api_region,
                identity.kind,
            )
            try:
                token = self._bounded(
                    lambda: _aws().fetch(registry, identity.profile, deadline), deadline
                )
            except _aws_error() as err:
                cache.mark_failure(keys[0], str(err))
                self.log.error("get: GetAuthorizationToken for %s failed: %s", registry.host, err)
                return self._fallback(registry, stale, str(err), aws=err)
            self.log.add_secret(token.password)
            self.log.add_secret(token.token)
            entry = _cache.Entry(
                token.token, self.clock(), token.expires_at, token.proxy_endpoint, registry.service
            )
            self._store(cache, keys[0], entry, deadline)
            self._remember(keys[0], entry)
            return token.username, token.password

    def _store(
        self,
        cache: _cache.FileCache | _cache.NullCache,
        key: str,
        entry: _cache.Entry,
        deadline: float,
    ) -> None:
        # The answer is in hand: wait for the write lock only while the time bound allows.
        timeout = max(deadline - time.monotonic(), 0.5)
        try:
            cache.store(key, entry, timeout)
            if isinstance(cache, _cache.FileCache):
                cache.clear_failure(key)
        except _cache.CacheError as err:
            self.log.warning("cache: could not save the token: %s", err)

    def _fallback(
        self,
        registry: Registry,
        stale: tuple[str, _cache.Entry] | None,
        cause: str,
        aws: Exception | None = None,
    ) -> tuple[str, str]:
        """A cached token after a failed refresh, only while it has 5 minutes left."""
        now = self.clock()
        if stale is not None and stale[1].usable_fallback(now):
            self.log.info(
                "get: refresh for %s failed (%s); using the cached token, valid %d s more",
                registry.host,
                cause,
                int(stale[1].expires_at - now),
            )
            return stale[1].username, stale[1].password
        message = ""
        if aws is not None:
            message = f"{registry.host}: {cause}"
        raise CredentialsNotFound(cause, stderr=message)

    def _bounded(self, work: Callable[[], _T], deadline: float) -> _T:
        """Run ``work`` in a thread and give up at ``deadline`` (DNS and imports included)."""
        import fcntl  # noqa: F401 - imported here so a timed-out worker cannot hold its import lock
        import re  # noqa: F401
        import threading

        box: dict[str, Any] = {}

        def run() -> None:
            try:
                box["value"] = work()
            except BaseException as err:
                box["error"] = err

        worker = threading.Thread(target=run, name="ecr-fetch", daemon=True)
        worker.start()
        worker.join(max(deadline - time.monotonic(), 0.0))
        if worker.is_alive():
            self.abandoned = True
            raise _aws().AwsError(
                "Timeout", f"no answer from AWS within {self.settings.timeout:g} s"
            )
        if "error" in box:
            raise box["error"]
        value: _T = box["value"]
        return value

    # -- list ----------------------------------------------------------------------------------

    def list(self) -> dict[str, str]:
        """Unexpired registries of the current identity, priming the default registry once."""
        identity = self.identity()
        cache = self.cache()
        now = self.clock()
        parts = [identity.key_part]
        if self._legacy_keys() and identity.legacy_key_part:
            parts.append(identity.legacy_key_part)
        found: dict[str, str] = {}
        regions: set[str] = set()
        for key, entry in _cache.iter_entries(cache.registries()):
            region = _entry_region(key, parts)
            if region is None or entry.expired(now):
                continue
            host = host_of(entry.proxy_endpoint)
            if not host:
                continue
            found["https://" + host] = entry.username
            regions.add(region)
        if identity.region and identity.region not in regions:
            primed = self._prime_default(identity, cache)
            if primed is not None:
                found[primed[0]] = primed[1]
        return found

    def _prime_default(
        self, identity: Identity, cache: _cache.FileCache | _cache.NullCache
    ) -> tuple[str, str] | None:
        region = identity.region
        marker = _cache.default_registry_key(identity, region)
        if isinstance(cache, _cache.FileCache):
            failure = cache.recent_failure(marker, LIST_FAILURE_TTL)
            if failure:
                self.log.debug("list: default registry in %s failed recently: %s", region, failure)
                return None
        deadline = self.start + self.settings.timeout
        try:
            account, token = self._bounded(
                lambda: _aws().fetch_default(region, identity.profile, deadline), deadline
            )
        except _aws_error() as err:
            cache.mark_failure(marker, str(err))
            self.log.error("list: default registry in %s: %s", region, err)
            from docker_credential_ecr_py._log import stderr_line

            stderr_line(f"docker-credential-ecr-login: list: default registry in {region}: {err}")
            return None
        self.log.add_secret(token.password)
        host = registry_host(account, region)
        registry = Registry("ecr", host, account=account, region=region)
        key = _cache.keys_for(identity, registry, legacy=False)[0]
        entry = _cache.Entry(token.token, self.clock(), token.expires_at, "https://" + host, "ecr")
        self._store(cache, key, entry, deadline)
        return "https://" + host, token.username

    # -- store / erase -------------------------------------------------------------------------

    def store(self, server_url: str) -> None:
        """ECR tokens are temporary: accepted as a no-op only with the opt-in variable."""
        if self.settings.ignore_creds_storage:
            self.log.warning(
                "store: ignoring credentials for %s (AWS_ECR_IGNORE_CREDS_STORAGE=true); "
                "ecr-login does not need 'docker login'",
                server_url,
            )
            return
        self.log.info(
            "store: not supported for %s; set AWS_ECR_IGNORE_CREDS_STORAGE=true", server_url
        )
        raise NotImplementedByHelper("store is not supported")

    def erase(self, server_url: str) -> None:
        """As ``store``."""
        if self.settings.ignore_creds_storage:
            self.log.warning(
                "erase: ignoring request for %s (AWS_ECR_IGNORE_CREDS_STORAGE=true)", server_url
            )
            return
        self.log.info(
            "erase: not supported for %s; set AWS_ECR_IGNORE_CREDS_STORAGE=true", server_url
        )
        raise NotImplementedByHelper("erase is not supported")


def _entry_region(key: str, parts: list[str]) -> str | None:
    """The region of a private-registry key of this identity, ``""`` for ECR Public, or None."""
    for part in parts:
        if key == "ecr-public-" + part:
            return ""
        head, dash, account = key.rpartition("-")
        if dash and len(account) == 12 and account.isdigit() and head.endswith("-" + part):
            return head[: -len(part) - 1]
    return None


def _aws() -> Any:
    from docker_credential_ecr_py import _aws as module

    return module


def _aws_error() -> type[Exception]:
    from docker_credential_ecr_py._aws import AwsError

    return AwsError
