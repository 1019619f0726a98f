"""Settings: the one reader of the environment for the helper's own variables.

``Settings.from_env(mapping)`` reads every ``AWS_ECR_*`` variable, the home directory, the region
fallback and the places a fallback cache may go, once. The ``AWS_*`` variables that select the
AWS identity stay in ``env`` for ``_identity`` (which predicts botocore's choice) and botocore.

- ``AWS_ECR_CACHE_DIR``: cache directory (``~`` expanded; default ``~/.ecr``); holds
  ``cache.json``, its locks and ``log/``.
- ``AWS_ECR_DISABLE_CACHE``: any non-empty value turns the file cache off (as the Go helper).
- ``AWS_ECR_IGNORE_CREDS_STORAGE``: exactly ``true`` makes ``store``/``erase`` succeed as no-ops.
- ``AWS_ECR_TIMEOUT``: seconds a ``get`` may spend reaching AWS, from exec to exit (default 3).
- ``AWS_ECR_LOG_LEVEL``: ``debug``, ``info`` (default), ``warning``, ``error`` or ``off``.
- ``AWS_ECR_LOG_FILE``: log file path, or ``off`` (default ``<cache dir>/log/ecr-login.log``).
- ``AWS_ECR_LOG_MAX_BYTES``: size at which the log is rotated to ``.1`` (default 1 MiB).
- ``AWS_ECR_CONFIG_FILE``: aliases and per-registry profiles, TOML (default
  ``<cache dir>/config.toml``).
"""

import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~10 ms)
if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_TIMEOUT = 3.0
# Longest wait any setting can ask for (a year); larger finite values mean the same.
MAX_SECONDS = 365 * 86400.0
DEFAULT_LOG_MAX_BYTES = 1024 * 1024
LOG_LEVELS = ("debug", "info", "warning", "error", "off")
FALLBACK_DIR_NAME = "docker-credential-ecr-login"


def home_dir(env: "Mapping[str, str]") -> str:
    """``$HOME``, else the password database entry, else ``""`` (as go-homedir and Docker)."""
    home = env.get("HOME", "")
    if home:
        return home
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_dir
    except (ImportError, KeyError, OSError):
        return ""


def expand_user(path: str, home: str) -> str:
    """Expand a leading ``~`` or ``~/`` only (``~user`` is left as is and later fails);
    ``""`` when there is no home to expand it to."""
    if path == "~" or path.startswith("~/"):
        return home + path[1:] if home else ""
    return path


def configured_region(env: "Mapping[str, str]") -> str:
    """``AWS_REGION``, else ``AWS_DEFAULT_REGION`` (botocore's order), else ``""``; blank
    values count as unset."""
    return (env.get("AWS_REGION") or "").strip() or (env.get("AWS_DEFAULT_REGION") or "").strip()


def fips_mode(godebug: str) -> bool:
    """``GODEBUG`` asks for FIPS 140 mode: the Go helper then skips its legacy MD5-shaped keys."""
    return any(item.strip() in ("fips140=on", "fips140=only") for item in godebug.split(","))


class Settings:
    """Everything the helper reads from the environment, read once."""

    __slots__ = (
        "cache_dir",
        "cache_dir_problem",
        "cache_disabled",
        "config_file",
        "env",
        "home",
        "ignore_creds_storage",
        "invalid",
        "legacy_keys",
        "log_file",
        "log_level",
        "log_max_bytes",
        "registries",
        "timeout",
    )

    def __init__(self, env: "Mapping[str, str]") -> None:
        self.env = env
        self.home = home_dir(env)
        self.invalid: list[str] = []
        raw_dir = env.get("AWS_ECR_CACHE_DIR", "")
        self.cache_dir = expand_user(raw_dir or "~/.ecr", self.home)
        # Never a directory relative to wherever the client happens to run (or ~user's).
        self.cache_dir_problem = ""
        if self.cache_dir and not os.path.isabs(self.cache_dir):
            self.cache_dir_problem = (
                f"AWS_ECR_CACHE_DIR={raw_dir!r} is not an absolute path (nor ~/...); not using it"
            )
            self.cache_dir = ""
        self.cache_disabled = bool(env.get("AWS_ECR_DISABLE_CACHE", ""))
        self.ignore_creds_storage = env.get("AWS_ECR_IGNORE_CREDS_STORAGE", "") == "true"
        # Look up (and write) the Go helper's legacy key shape too, unless Go would not.
        self.legacy_keys = not fips_mode(env.get("GODEBUG", ""))
        self.timeout = self._float("AWS_ECR_TIMEOUT", DEFAULT_TIMEOUT)
        level = env.get("AWS_ECR_LOG_LEVEL", "").strip().lower() or "info"
        if level == "warn":
            level = "warning"
        if level not in LOG_LEVELS:
            self.invalid.append(
                f"AWS_ECR_LOG_LEVEL={level!r} is not one of {', '.join(LOG_LEVELS)}"
            )
            level = "info"
        self.log_level = level
        # The log file: a path, "" for off, or None for <cache dir in use>/log/ecr-login.log
        # (decided once the cache directory has been checked, which may mean a fallback).
        log_file = env.get("AWS_ECR_LOG_FILE", "").strip()
        self.log_file: str | None = None
        if log_file.lower() == "off":
            self.log_file = ""
        elif log_file:
            self.log_file = self._absolute("AWS_ECR_LOG_FILE", log_file)
        self.log_max_bytes = int(
            self._float("AWS_ECR_LOG_MAX_BYTES", DEFAULT_LOG_MAX_BYTES, maximum=2.0**62)
        )
        # Registries `list` always names (GitLab Runner with credsStore asks only for those).
        # (Hosts separated by spaces and/or commas; EcrHelper.declared normalises them.)
        self.registries = env.get("AWS_ECR_REGISTRIES", "").replace(",", " ").split()
        config_file = env.get("AWS_ECR_CONFIG_FILE", "")
        if config_file:
            self.config_file = self._absolute("AWS_ECR_CONFIG_FILE", config_file)
        else:
            self.config_file = os.path.join(self.cache_dir, "config.toml") if self.cache_dir else ""

    @classmethod
    def from_env(cls, env: "Mapping[str, str] | None" = None) -> "Settings":
        """Settings from ``env`` (this process's environment when ``None``)."""
        return cls(os.environ if env is None else env)

    @property
    def region(self) -> str:
        """The configured region (``AWS_REGION``, else ``AWS_DEFAULT_REGION``), or ``""``."""
        return configured_region(self.env)

    def fallback_dirs(self) -> "list[str]":
        """Private per-user places for the cache when the configured directory cannot be used."""
        out = []
        runtime = self.env.get("XDG_RUNTIME_DIR", "")
        if runtime and os.path.isabs(runtime):
            out.append(os.path.join(runtime, FALLBACK_DIR_NAME))
        tmp = self.env.get("TMPDIR", "")
        if not os.path.isabs(tmp):  # never a directory relative to the client's
            tmp = "/tmp"
        out.append(os.path.join(tmp, f"{FALLBACK_DIR_NAME}-{os.geteuid()}"))
        return out

    def _absolute(self, name: str, raw: str) -> str:
        """``raw`` with ``~`` expanded when that makes an absolute path, else ``""`` (and a line
        in ``invalid``): a file relative to the client's current directory is never used."""
        path = expand_user(raw, self.home)
        if os.path.isabs(path):
            return path
        self.invalid.append(f"{name}={raw!r} is not an absolute path (nor ~/...); ignoring it")
        return ""

    def _float(self, name: str, default: float, maximum: float = MAX_SECONDS) -> float:
        raw = self.env.get(name, "").strip()
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if value == float("inf") and raw.lstrip("+").lower() not in ("inf", "infinity"):
            value = maximum  # a finite number too large for a float (1e400): very long
        if not value > 0 or value == float("inf"):
            self.invalid.append(f"{name}={raw!r} is not a positive number; using {default:g}")
            return default
        # Finite but huge (1e12) means "very long": kept within what clocks and sleeps accept.
        return min(value, maximum)


class RegistryConfig:
    """``[aliases]`` (custom host -> ECR registry host) and ``[profiles]`` (registry host -> AWS
    profile) from the TOML config file; ``problems`` says what was wrong with it, if anything.

    Example::

        [aliases]
        "registry.example.com" = "123456789012.dkr.ecr.eu-west-2.amazonaws.com"
        "docker-hub.example.com" = "123456789012.dkr.ecr.eu-west-2.amazonaws.com"

        [profiles]
        "210987654321.dkr.ecr.us-east-1.amazonaws.com" = "prod-pull"

    and a top-level ``registries = ["111122223333.dkr.ecr.eu-west-2.amazonaws.com"]``, the
    registries ``list`` always names.
    """

    __slots__ = ("aliases", "path", "problems", "profiles", "refused", "registries")

    def __init__(self, path: str = "") -> None:
        self.path = path
        self.refused = ""  # why the file was ignored as untrusted, if it was
        self.aliases: dict[str, str] = {}
        self.profiles: dict[str, str] = {}
        self.registries: list[str] = []
        self.problems: list[str] = []

    def to_json(self, stamp: str) -> "dict[str, object]":
        """The parsed form kept beside the cache, so a hit need not import ``tomllib``."""
        return {
            "source": self.path,
            "stamp": stamp,
            "aliases": self.aliases,
            "profiles": self.profiles,
            "registries": self.registries,
            "problems": self.problems,
        }


def config_present(path: str) -> bool:
    """Whether there is a config file to read (or one that cannot even be looked at, which the
    reader reports); ``False`` only when nothing is there, so that ``tomllib`` and the reader
    stay off the usual path."""
    if not path:
        return False
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError:
        return True
    return True
