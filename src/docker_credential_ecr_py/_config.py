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
        # The log file: a path, "" for off, or None for <cache dir in use>/log/ecr-login.log
        # (decided once the cache directory has been checked, which may mean a fallback).
        log_file = env.get("AWS_ECR_LOG_FILE", "").strip()
        self.log_file: str | None = None
        if log_file.lower() == "off":
            self.log_file = ""
        elif log_file:
            self.log_file = expand_user(log_file, env)
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


class RegistryConfig:
    """``[aliases]`` (custom host -> ECR registry host) and ``[profiles]`` (registry host -> AWS
    profile) from the TOML config file; ``problems`` says what was wrong with it, if anything.

    Example::

        [aliases]
        "registry.example.com" = "123456789012.dkr.ecr.eu-west-2.amazonaws.com"
        "docker-hub.example.com" = "123456789012.dkr.ecr.eu-west-2.amazonaws.com"

        [profiles]
        "210987654321.dkr.ecr.us-east-1.amazonaws.com" = "prod-pull"
    """

    __slots__ = ("aliases", "path", "problems", "profiles")

    def __init__(self, path: str = "") -> None:
        self.path = path
        self.aliases: dict[str, str] = {}
        self.profiles: dict[str, str] = {}
        self.problems: list[str] = []

    def to_json(self, stamp: str) -> dict[str, object]:
        """The parsed form kept beside the cache, so a hit need not import ``tomllib``."""
        return {
            "source": self.path,
            "stamp": stamp,
            "aliases": self.aliases,
            "profiles": self.profiles,
            "problems": self.problems,
        }


_PARSED_NAME = ".config.parsed.json"


def load_registry_config(path: str, cache_dir: str) -> RegistryConfig:
    """Read the config file if it exists; a parsed copy in ``cache_dir`` (keyed by the file's
    inode, size and mtime) spares the ``tomllib`` import (~15 ms) on later calls."""
    config = RegistryConfig(path)
    if not path:
        return config
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return config
    except OSError as err:
        config.problems.append(f"cannot read {path}: {err.strerror}")
        return config
    stamp = f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"
    parsed_path = os.path.join(cache_dir, _PARSED_NAME) if cache_dir else ""
    if parsed_path:
        cached = _read_parsed(parsed_path, path, stamp)
        if cached is not None:
            return cached
    _parse_toml(config)
    if parsed_path and not any(p.startswith("cannot read") for p in config.problems):
        _write_parsed(parsed_path, config.to_json(stamp))
    return config


def _read_parsed(parsed_path: str, source: str, stamp: str) -> RegistryConfig | None:
    from docker_credential_ecr_py import _fastjson

    try:
        fd = os.open(parsed_path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        try:
            doc = _fastjson.loads(os.read(fd, 1 << 20).decode("utf-8"))
        finally:
            os.close(fd)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(doc, dict) or doc.get("source") != source or doc.get("stamp") != stamp:
        return None
    config = RegistryConfig(source)
    aliases, profiles, problems = doc.get("aliases"), doc.get("profiles"), doc.get("problems")
    if not isinstance(aliases, dict) or not isinstance(profiles, dict):
        return None
    config.aliases = {str(k): str(v) for k, v in aliases.items()}
    config.profiles = {str(k): str(v) for k, v in profiles.items()}
    config.problems = [str(p) for p in problems] if isinstance(problems, list) else []
    return config


def _write_parsed(parsed_path: str, doc: dict[str, object]) -> None:
    import json

    tmp = f"{parsed_path}.{os.getpid()}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(tmp, flags, 0o600)
        try:
            os.write(fd, json.dumps(doc).encode("utf-8"))
        finally:
            os.close(fd)
        os.replace(tmp, parsed_path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _parse_toml(config: RegistryConfig) -> None:
    import tomllib

    from docker_credential_ecr_py._registry import host_of, parse

    try:
        with open(config.path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as err:
        config.problems.append(f"cannot read {config.path}: {err.strerror}")
        return
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        config.problems.append(f"{config.path} is not valid TOML: {err}")
        return
    for table in data:
        if table not in ("aliases", "profiles"):
            config.problems.append(f"{config.path}: unknown table [{table}] (ignored)")
    for table_name in ("aliases", "profiles"):
        table = data.get(table_name, {})
        if not isinstance(table, dict):
            config.problems.append(f"{config.path}: [{table_name}] must be a table")
            continue
        for key, value in table.items():
            host = host_of(str(key))
            if not isinstance(value, str) or not value.strip():
                config.problems.append(
                    f"{config.path}: {table_name}.{key!r} must be a non-empty string"
                )
                continue
            if table_name == "aliases":
                target = parse(value)
                if not host or target is None:
                    config.problems.append(
                        f"{config.path}: alias {key!r} -> {value!r}: the target is not an ECR "
                        "registry host"
                    )
                    continue
                config.aliases[host] = target.host
            else:
                if not host:
                    config.problems.append(f"{config.path}: profiles.{key!r} is not a host name")
                    continue
                config.profiles[host] = value.strip()
