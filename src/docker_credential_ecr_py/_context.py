"""The composition root: what one run of the helper works with, built from ``Settings``.

``Context`` holds the settings, the log, the cache, the config file, the token source and the
clock. Each piece is built on first use (a cache hit never builds the token source, so it never
imports ``_aws``) or handed in ready-made (the tests' fakes). ``EcrHelper`` and the tool commands
both take a context; this is the one place that knows which real implementation goes where.
"""

import time

from docker_credential_ecr_py import _identity
from docker_credential_ecr_py._log import Log
from docker_credential_ecr_py._settings import RegistryConfig, config_present

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import BinaryIO

    from docker_credential_ecr_py._identity import Identity
    from docker_credential_ecr_py._interfaces import TokenCache, TokenSource
    from docker_credential_ecr_py._settings import Settings


class Context:
    """Settings plus the pieces built from them, each on first use."""

    __slots__ = ("_cache", "_config", "_source", "clock", "log", "settings", "start", "stderr")

    def __init__(
        self,
        settings: "Settings",
        *,
        start: "float | None" = None,
        clock: "Callable[[], float]" = time.time,
        log: "Log | None" = None,
        cache: "TokenCache | None" = None,
        source: "TokenSource | None" = None,
        config: "RegistryConfig | None" = None,
        stderr: "BinaryIO | None" = None,
    ) -> None:
        self.settings = settings
        self.stderr = stderr  # where one-line messages for the user go (None: sys.stderr)
        # The time bound runs from here (the CLI passes the moment it started).
        self.start = time.monotonic() if start is None else start
        self.clock = clock
        self.log = log or Log(settings.log_file, settings.log_level, settings.log_max_bytes)
        if settings.log_file is None and log is None:
            self.log.path_provider = self._default_log_path
        # The caller's own AWS secrets are never repeated (botocore may quote a config value).
        for name in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            self.log.add_secret(settings.env.get(name, ""))
        self._cache = cache
        self._source = source
        self._config = config

    @property
    def cache(self) -> "TokenCache":
        """The cache, opened on first use (a fallback directory if the configured one fails)."""
        if self._cache is None:
            from docker_credential_ecr_py._cache import open_cache

            cache, reasons = open_cache(self.settings, self.log)
            self._cache = cache
            if reasons and not self.settings.cache_disabled:
                import os

                where = cache.directory or "no cache"
                # Said at info once (when the fallback has no cache file yet), then at debug:
                # a line per call would also import re on every cache hit.
                first = not cache.path or not os.path.exists(cache.path)
                (self.log.info if first else self.log.debug)(
                    "cache: using %s: %s", where, "; ".join(reasons)
                )
        return self._cache

    @property
    def source(self) -> "TokenSource":
        """Where tokens come from on a miss: botocore, imported only now."""
        if self._source is None:
            from docker_credential_ecr_py._aws import BotocoreTokenSource

            self._source = BotocoreTokenSource()
        return self._source

    @property
    def config(self) -> "RegistryConfig":
        """Aliases and per-registry profiles; problems are logged and said once on stderr."""
        if self._config is None:
            path = self.settings.config_file
            if not config_present(path):
                self._config = RegistryConfig(path)
                return self._config
            from docker_credential_ecr_py import _config_file

            cache = self.cache
            config = _config_file.load(path, cache.fd)
            self._config = config
            if config.problems:
                for problem in config.problems:
                    self.log.warning("config: %s", problem)
                more = len(config.problems) - 1
                self.say(f"config: {config.problems[0]}" + (f" (+{more} more)" if more else ""))
        return self._config

    def close(self) -> None:
        """Close the log and the cache directory (when they were opened)."""
        self.log.close()
        if self._cache is not None:
            self._cache.close()

    def say(self, text: str) -> None:
        """One redacted line for the user on stderr, prefixed with the program's name."""
        from docker_credential_ecr_py._log import stderr_line

        stderr_line(f"docker-credential-ecr-login: {text}", self.log.secrets, self.stderr)

    def identity(self, profile: "str | None" = None) -> "Identity":
        """The caller's identity as the cache sees it (no network)."""
        return _identity.resolve(self.settings.env, self.settings.home, profile)

    def _default_log_path(self) -> str:
        """``<cache dir>/log/ecr-login.log`` of the directory actually in use (checked first),
        reached through the cache's descriptor."""
        cache = self.cache
        if not cache.directory or cache.fd is None:
            return ""
        import os

        self.log.anchor = (cache.fd, "log")
        return os.path.join(cache.directory, "log", "ecr-login.log")
