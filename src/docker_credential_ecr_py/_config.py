"""Settings: the only reader of ``os.environ`` (the ``AWS_*`` variables boto3 reads stay boto3's).

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

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~10 ms)
if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_TIMEOUT = 3.0
DEFAULT_LOG_MAX_BYTES = 1024 * 1024
LOG_LEVELS = ("debug", "info", "warning", "error", "off")


def home_dir(env: Mapping[str, str]) -> str:
    """``$HOME``, else the password database entry, else ``""`` (as go-homedir)."""
    home = env.get("HOME", "")
    if home:
        return home
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_dir
    except (ImportError, KeyError, OSError):
        return ""


def expand_user(path: str, env: Mapping[str, str]) -> str:
    """Expand a leading ``~`` or ``~/`` only (``~user`` is left as is and later fails)."""
    if path == "~" or path.startswith("~/"):
        home = home_dir(env)
        if not home:
            return ""
        return home + path[1:]
    return path


class Settings:
    """Everything the helper reads from the environment, read once."""

    __slots__ = (
        "cache_dir",
        "cache_dir_explicit",
        "cache_disabled",
        "config_file",
        "env",
        "ignore_creds_storage",
        "invalid",
        "log_file",
        "log_level",
        "log_max_bytes",
        "timeout",
    )

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.invalid: list[str] = []
        raw_dir = env.get("AWS_ECR_CACHE_DIR", "")
        self.cache_dir_explicit = bool(raw_dir)
        self.cache_dir = expand_user(raw_dir or "~/.ecr", env)
        self.cache_disabled = bool(env.get("AWS_ECR_DISABLE_CACHE", ""))
        self.ignore_creds_storage = env.get("AWS_ECR_IGNORE_CREDS_STORAGE", "") == "true"
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
        log_file = env.get("AWS_ECR_LOG_FILE", "").strip()
        if log_file.lower() == "off":
            self.log_file = ""
        elif log_file:
            self.log_file = expand_user(log_file, env)
        else:
            self.log_file = (
                os.path.join(self.cache_dir, "log", "ecr-login.log") if self.cache_dir else ""
            )
        self.log_max_bytes = int(self._float("AWS_ECR_LOG_MAX_BYTES", DEFAULT_LOG_MAX_BYTES))
        config_file = env.get("AWS_ECR_CONFIG_FILE", "")
        if config_file:
            self.config_file = expand_user(config_file, env)
        else:
            self.config_file = os.path.join(self.cache_dir, "config.toml") if self.cache_dir else ""

    def _float(self, name: str, default: float) -> float:
        raw = self.env.get(name, "").strip()
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not value > 0 or value == float("inf"):
            self.invalid.append(f"{name}={raw!r} is not a positive number; using {default:g}")
            return default
        return value

    @classmethod
    def from_environ(cls) -> Settings:
        """Settings from this process's environment."""
        return cls(os.environ)
