"""The config file (``config.toml``): ``[aliases]`` and ``[profiles]``.

A parsed copy beside the cache (keyed by the file's inode, size and mtime) spares the ``tomllib``
import (~15 ms) on later calls, so a cache hit with a config file still imports nothing slow.
"""

import os

from docker_credential_ecr_py import _lean
from docker_credential_ecr_py._lean import files
from docker_credential_ecr_py._settings import RegistryConfig

_PARSED_NAME = ".config.parsed.json"


def load(path: str, cache_dir: str) -> RegistryConfig:
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


def _read_parsed(parsed_path: str, source: str, stamp: str) -> "RegistryConfig | None":
    try:
        doc = _lean.loads(_lean.read_bounded(parsed_path, 1 << 20).decode("utf-8"))
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


def _write_parsed(parsed_path: str, doc: "dict[str, object]") -> None:
    import json

    try:
        files.write_atomic(parsed_path, json.dumps(doc).encode("utf-8"), durable=False)
    except OSError:
        pass  # only a speed-up: the next call parses the file again


def _parse_toml(config: "RegistryConfig") -> None:
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
