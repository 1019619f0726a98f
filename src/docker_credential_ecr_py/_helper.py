"""What ``get``, ``list``, ``store`` and ``erase`` mean: cache policy, locking, fallback rules.

``_errors`` and ``_deadline`` are imported where a miss or a failure needs them, never on a hit.

``EcrHelper`` is policy only: it takes a ``Context`` (settings, log, cache, token source, clock)
and never builds one, so the policy runs the same against the real pieces and against fakes.
Usable as a library: ``EcrHelper(Context(Settings.from_env()), memory=True).get(host)`` keeps
an in-process layer (cachetools, the ``memory`` extra) so a long-lived process does not re-read
``cache.json`` each time.
"""

import time

from docker_credential_ecr_py import _cache
from docker_credential_ecr_py._registry import Registry, host_of, parse, registry_host

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~10 ms)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    from docker_credential_ecr_py._context import Context
    from docker_credential_ecr_py._identity import Identity
    from docker_credential_ecr_py._token import Token

    _T = TypeVar("_T")

LIST_FAILURE_TTL = _cache.LIST_FAILURE_TTL
_IGNORED = {
    "store": "store: ignoring credentials for %s (AWS_ECR_IGNORE_CREDS_STORAGE=true); "
    "ecr-login does not need 'docker login'",
    "erase": "erase: ignoring request for %s (AWS_ECR_IGNORE_CREDS_STORAGE=true)",
}


class EcrHelper:
    """The credential helper's behaviour, independent of argv, stdin and stdout."""

    def __init__(self, ctx: "Context", *, memory: bool = False) -> None:
        self.ctx = ctx
        self.log = ctx.log
        self._memory: Any = None
        if memory:
            try:
                from cachetools import TLRUCache
            except ImportError:
                raise ImportError(
                    "memory=True needs cachetools: pip install 'docker-credential-ecr-py[memory]'"
                ) from None

            def until(_key: str, entry: "_cache.Entry", now: float) -> float:
                return entry.fresh_until

            self._memory = TLRUCache(maxsize=256, ttu=until, timer=ctx.clock)

    def registry(self, server_url: str) -> "tuple[Registry | None, str | None]":
        """The registry a server URL names (aliases first) and the profile mapped to it."""
        config = self.ctx.config
        host = host_of(server_url)
        target = config.aliases.get(host)
        registry = parse(target) if target else parse(server_url)
        if registry is None:
            return None, None
        profile = config.profiles.get(host) or config.profiles.get(registry.host)
        return registry, profile

    # -- get -----------------------------------------------------------------------------------

    def get(self, server_url: str) -> "tuple[str, str]":
        """``(username, secret)`` for a registry, from cache or from ECR."""
        entry = self.entry(server_url)
        return entry.username, entry.password

    def entry(
        self,
        server_url: str,
        identity: "Identity | None" = None,
        *,
        until: "float | None" = None,
    ) -> "_cache.Entry":
        """The token for a registry, from cache or from ECR (``CredentialsNotFound`` when there
        is none). ``identity`` replaces the caller's own (the kubelet's service-account mode);
        the answer is ``fresh(now)`` unless it is a still-valid token served after a failed
        refresh. ``until`` (a ``time.monotonic()`` instant) bounds a miss, lock wait included
        (``list`` priming several registries in one time bound)."""
        registry, profile = self.registry(server_url)
        if registry is None:
            from docker_credential_ecr_py._errors import CredentialsNotFound

            raise CredentialsNotFound(f"{server_url!r} is not an Amazon ECR registry")
        if identity is None:
            identity = self.ctx.identity(profile)
        keys = _cache.keys_for(identity, registry, self.ctx.settings.legacy_keys)
        if self._memory is not None:
            remembered: _cache.Entry | None = self._memory.get(keys[0])
            if remembered is not None:
                return remembered
        hit = self.ctx.cache.lookup(keys)
        if hit is not None and hit[1].fresh(self.ctx.clock()):
            self._remember(keys[0], hit[1])
            if self.log.enabled("debug"):
                self.log.debug("get: cached token for %s (key %s)", registry.host, hit[0])
            return hit[1]
        return self._refresh(registry, identity, keys, hit, until)

    def _remember(self, key: str, entry: "_cache.Entry") -> None:
        if self._memory is not None:
            self._memory[key] = entry

    def _refresh(
        self,
        registry: "Registry",
        identity: "Identity",
        keys: "list[str]",
        stale: "tuple[str, _cache.Entry] | None",
        until: "float | None" = None,
    ) -> "_cache.Entry":
        from docker_credential_ecr_py._errors import AwsError, CacheError  # the miss path

        cache = self.ctx.cache
        timeout = self.ctx.settings.timeout
        waited_from = time.monotonic()
        wait = timeout if until is None else max(until - waited_from, 0.0)
        try:
            lock = cache.fetch_lock(keys[0], wait)
        except CacheError as err:
            self.log.warning("cache: %s; fetching without the lock", err)
            lock = _cache.NO_LOCK
        with lock:
            waited = time.monotonic() - waited_from
            again = cache.lookup(keys)  # another process may have fetched while we waited
            if again is not None:
                stale = again
                if again[1].fresh(self.ctx.clock()):
                    self._remember(keys[0], again[1])
                    return again[1]
            if not lock.acquired:
                return self._fallback(
                    registry, stale, f"another process held the fetch lock for {wait:.3g} s"
                )
            failure = cache.recent_failure(keys[0])
            if failure:
                return self._fallback(registry, stale, _cached_failure(failure))
            deadline = self.ctx.start + timeout + waited
            if until is not None:
                deadline = min(deadline, until)
            self.log.info(
                "get: fetching a token for %s (account %s, region %s, identity %s)",
                registry.host,
                registry.account or "-",
                registry.api_region,
                identity.kind,
            )
            try:
                self._check_files()
                source = self.ctx.source
                token = self._bounded(
                    lambda: source.fetch(
                        registry, identity.profile, deadline, identity.web_identity
                    ),
                    deadline,
                )
            except AwsError as err:
                cache.mark_failure(keys[0], str(err))
                self.log.error("get: GetAuthorizationToken for %s failed: %s", registry.host, err)
                return self._fallback(registry, stale, str(err))
            entry = self._save(keys[0], token, registry.service, deadline)
            self._remember(keys[0], entry)
            return entry

    def _save(
        self,
        key: str,
        token: "Token",
        service: str,
        deadline: float,
        proxy_endpoint: "str | None" = None,
    ) -> "_cache.Entry":
        """Cache a token just fetched (its secrets never reach the log)."""
        from docker_credential_ecr_py._errors import CacheError

        self.log.add_secret(token.password)
        self.log.add_secret(token.token)
        entry = _cache.Entry.issued(token, self.ctx.clock(), service, proxy_endpoint)
        # The answer is in hand: wait for the write lock only while the time bound allows.
        timeout = max(deadline - time.monotonic(), 0.5)
        try:
            self.ctx.cache.store(key, entry, timeout)
            self.ctx.cache.clear_failure(key)
        except CacheError as err:
            self.log.warning("cache: could not save the token: %s", err)
        return entry

    def _check_files(self) -> None:
        """A FIFO or a device named by ``AWS_CONFIG_FILE`` and the like would stall botocore
        or fill memory: refuse it before any AWS call."""
        from docker_credential_ecr_py._identity import unusable_file

        problem = unusable_file(self.ctx.settings.env, self.ctx.settings.home)
        if problem:
            from docker_credential_ecr_py._errors import AwsError

            raise AwsError("InvalidConfiguration", problem)

    def _fallback(
        self,
        registry: "Registry",
        stale: "tuple[str, _cache.Entry] | None",
        cause: str,
    ) -> "_cache.Entry":
        """A cached token after a failed refresh, only while it has 5 minutes left; otherwise
        not-found, with the cause on stderr."""
        now = self.ctx.clock()
        if stale is not None and stale[1].usable_fallback(now):
            self.log.info(
                "get: refresh for %s failed (%s); using the cached token, valid %d s more",
                registry.host,
                cause,
                int(stale[1].expires_at - now),
            )
            return stale[1]
        from docker_credential_ecr_py._errors import CredentialsNotFound

        raise CredentialsNotFound(cause, stderr=f"{registry.host}: {cause}")

    def _bounded(self, work: "Callable[[], _T]", deadline: float) -> "_T":
        """``work()`` under the deadline; an overrun is an ``AwsError`` like any other."""
        from docker_credential_ecr_py._deadline import DeadlineExceeded, run_bounded
        from docker_credential_ecr_py._errors import AwsError

        try:
            return run_bounded(work, deadline)
        except DeadlineExceeded:
            timeout = self.ctx.settings.timeout
            raise AwsError("Timeout", f"no answer from AWS within {timeout:g} s") from None

    # -- list ----------------------------------------------------------------------------------

    def declared(self) -> "list[str]":
        """The registries ``list`` always names: ``AWS_ECR_REGISTRIES``, then the config file's
        ``registries``, as hosts, once each. A name that is not an ECR registry (nor an alias of
        one) is left out, with one stderr line."""
        hosts: dict[str, None] = {}
        for source, names in (
            ("AWS_ECR_REGISTRIES", self.ctx.settings.registries),
            ("registries", self.ctx.config.registries),
        ):
            for name in names:
                host = host_of(name)
                if host and self.registry(host)[0] is not None:
                    hosts.setdefault(host, None)
                else:
                    self.ctx.say(f"{source}: {name!r} is not an Amazon ECR registry; not listed")
        return list(hosts)

    def list(self) -> "dict[str, str]":
        """Unexpired registries of the current identity and every declared registry (primed
        while the time bound allows), priming the default registry once."""
        found = self._list_cached()
        declared = self.declared()
        deadline = self.ctx.start + self.ctx.settings.timeout
        for host in declared:
            url = "https://" + host
            if url in found:
                continue
            found[url] = "AWS"  # listed whatever happens: its get then answers for itself
            if time.monotonic() >= deadline:
                continue  # no time left to prime it: get fetches it
            from docker_credential_ecr_py._errors import HelperError

            try:
                found[url] = self.entry(host, until=deadline).username
            except HelperError as err:
                self.ctx.say(f"list: {host}: {err.cause or err}")
        return found

    def _list_cached(self) -> "dict[str, str]":
        """Unexpired registries of the current identity, priming the default registry once."""
        identity = self.ctx.identity()
        found, regions = self.cached_listing(identity)
        if identity.region and identity.region not in regions:
            primed = self._prime_default(identity)
            if primed is not None:
                found[primed[0]] = primed[1]
        return found

    def cached_listing(self, identity: "Identity") -> "tuple[dict[str, str], set[str]]":
        """What ``list`` names from the cache alone, and the regions those entries are in (the
        default registry is primed only in a region with none)."""
        now = self.ctx.clock()
        parts = [identity.key_part]
        if self.ctx.settings.legacy_keys and identity.legacy_key_part:
            parts.append(identity.legacy_key_part)
        found: dict[str, str] = {}
        regions: set[str] = set()
        for key, entry in _cache.iter_entries(self.ctx.cache.registries()):
            region = _entry_region(key, parts)
            if region is None or entry.expired(now):
                continue
            host = host_of(entry.proxy_endpoint)
            if not host:
                continue
            found["https://" + host] = entry.username
            regions.add(region)
        return found, regions

    def _prime_default(self, identity: "Identity") -> "tuple[str, str] | None":
        from docker_credential_ecr_py._errors import AwsError

        cache = self.ctx.cache
        region = identity.region
        marker = _cache.default_registry_key(identity, region)
        failure = cache.recent_failure(marker, LIST_FAILURE_TTL)
        if failure:
            self.ctx.say(f"list: default registry in {region}: {_cached_failure(failure)}")
            return None
        deadline = self.ctx.start + self.ctx.settings.timeout
        try:
            self._check_files()
            source = self.ctx.source
            account, token = self._bounded(
                lambda: source.fetch_default(region, identity.profile, deadline), deadline
            )
        except AwsError as err:
            cache.mark_failure(marker, str(err))
            self.log.error("list: default registry in %s: %s", region, err)
            self.ctx.say(f"list: default registry in {region}: {err}")
            return None
        host = registry_host(account, region)
        registry = Registry("ecr", host, account=account, region=region)
        key = _cache.keys_for(identity, registry, legacy=False)[0]
        self._save(key, token, "ecr", deadline, proxy_endpoint="https://" + host)
        return "https://" + host, token.username

    # -- store / erase -------------------------------------------------------------------------

    def store(self, server_url: str) -> None:
        """ECR tokens are temporary: accepted as a no-op only with the opt-in variable."""
        self._refuse_storage("store", server_url)

    def erase(self, server_url: str) -> None:
        """As ``store``."""
        self._refuse_storage("erase", server_url)

    def _refuse_storage(self, verb: str, server_url: str) -> None:
        if self.ctx.settings.ignore_creds_storage:
            self.log.warning(_IGNORED[verb], server_url)
            return
        self.log.info(
            "%s: not supported for %s; set AWS_ECR_IGNORE_CREDS_STORAGE=true", verb, server_url
        )
        from docker_credential_ecr_py._errors import NotImplementedByHelper

        raise NotImplementedByHelper(f"{verb} is not supported")


def _cached_failure(failure: "tuple[str, float]") -> str:
    """The cause of a recent failure, said again while its marker makes us wait."""
    message, left = failure
    return f"{message} (cached failure, retrying in {max(int(left + 0.999), 1)} s)"


def _entry_region(key: str, parts: "list[str]") -> "str | None":
    """The region of a private-registry key of this identity, ``""`` for ECR Public, or None."""
    for part in parts:
        if key == "ecr-public-" + part:
            return ""
        head, dash, account = key.rpartition("-")
        if dash and len(account) == 12 and account.isdigit() and head.endswith("-" + part):
            return head[: -len(part) - 1]
    return None
