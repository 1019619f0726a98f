"""The config file (``config.toml``): ``[aliases]``, ``[profiles]`` and ``registries``.

An alias decides which registry's token a host gets, so the file is used only when nobody else
could have written it (``untrusted``); otherwise it is ignored as if absent, with one line saying
why.

A parsed copy beside the cache (keyed by the file's inode, size and mtime) spares the ``tomllib``
import (~15 ms) on later calls, so a cache hit with a config file still imports nothing slow.
"""

import os

from docker_credential_ecr_py import _lean
from docker_credential_ecr_py._lean import files
from docker_credential_ecr_py._settings import RegistryConfig

_PARSED_NAME = ".config.parsed.json"
_MAX_BYTES = 1 << 20


def load(path: str, dir_fd: "int | None" = None) -> RegistryConfig:
    """Read the config file if it exists and may be trusted (``untrusted``); a parsed copy in
    the cache directory (``dir_fd``, the directory the cache accepted; ``None``: no copy) spares
    the ``tomllib`` import (~15 ms) on later calls."""
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
    reason = untrusted(path)
    if reason:
        config.refused = reason
        config.problems.append(
            f"ignoring {path}: {reason}; its aliases and profiles are not used until it and "
            "its directories belong to you (or root) and no one else can write them "
            "(chmod go-w, chown), or AWS_ECR_CONFIG_FILE names a file that does"
        )
        return config
    stamp = f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"
    if dir_fd is not None:
        cached = _read_parsed(dir_fd, path, stamp)
        if cached is not None:
            return cached
    _parse_toml(config)
    if dir_fd is not None and not any(p.startswith("cannot read") for p in config.problems):
        _write_parsed(dir_fd, config.to_json(stamp))
    return config


def untrusted(path: str) -> str:
    """``""`` when the file at ``path`` may be trusted, else why not.

    Trusted: a regular file, and every directory above it up to ``/``, owned by this user or
    root and writable by no one else (a directory with the sticky bit, such as ``/tmp``, may be
    writable by others: they cannot rename what is in it). A symlink on the way counts only when
    it too is owned by this user or root, and its target passes the same test.
    """
    try:
        return _problem(os.path.abspath(path), os.geteuid(), True, 0)
    except OSError as err:
        return f"cannot check {err.filename or path}: {err.strerror}"


def _problem(path: str, uid: int, is_file: bool, hops: int) -> str:
    import stat

    st = os.lstat(path)
    if st.st_uid not in (uid, 0):
        return f"{path} is owned by uid {st.st_uid}, not by you ({uid}) or root"
    parent = os.path.dirname(path)
    if stat.S_ISLNK(st.st_mode):
        if hops >= 32:
            return f"{path}: too many levels of symlinks"
        problem = _problem(parent, uid, False, hops + 1)  # who could replace the link
        if problem:
            return problem
        # ".." in the target is taken from where the link really is, as the kernel takes it.
        target = os.path.normpath(os.path.join(os.path.realpath(parent), os.readlink(path)))
        return _problem(target, uid, is_file, hops + 1)
    if is_file and not stat.S_ISREG(st.st_mode):
        return f"{path} is not a regular file"
    if not is_file and not stat.S_ISDIR(st.st_mode):
        return f"{path} is not a directory"
    sticky_dir = not is_file and st.st_mode & stat.S_ISVTX
    if st.st_mode & 0o022 and not sticky_dir:
        return f"{path} is writable by others (mode {stat.S_IMODE(st.st_mode):o})"
    if parent == path:
        return ""
    return _problem(parent, uid, False, hops)


def _read_parsed(dir_fd: int, source: str, stamp: str) -> "RegistryConfig | None":
    try:
        raw = _lean.read_bounded(_PARSED_NAME, 1 << 20, dir_fd=dir_fd)
        doc = _lean.loads(raw.decode("utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(doc, dict) or doc.get("source") != source or doc.get("stamp") != stamp:
        return None
    config = RegistryConfig(source)
    aliases, profiles, problems = doc.get("aliases"), doc.get("profiles"), doc.get("problems")
    registries = doc.get("registries")
    if not isinstance(aliases, dict) or not isinstance(profiles, dict):
        return None
    if not isinstance(registries, list):
        return None  # a copy from a version that did not read registries: parse again
    config.aliases = {str(k): str(v) for k, v in aliases.items()}
    config.profiles = {str(k): str(v) for k, v in profiles.items()}
    config.registries = [str(r) for r in registries]
    config.problems = [str(p) for p in problems] if isinstance(problems, list) else []
    return config


def _write_parsed(dir_fd: int, doc: "dict[str, object]") -> None:
    import json

    try:
        data = json.dumps(doc).encode("utf-8")
        files.write_atomic(_PARSED_NAME, data, durable=False, dir_fd=dir_fd)
    except OSError:
        pass  # only a speed-up: the next call parses the file again


def _parse_toml(config: "RegistryConfig") -> None:
    import tomllib

    from docker_credential_ecr_py._registry import host_of, parse

    try:
        raw = _lean.read_bounded(config.path, _MAX_BYTES, follow=True)
        if len(raw) > _MAX_BYTES:
            config.problems.append(f"cannot read {config.path}: larger than {_MAX_BYTES} bytes")
            return
        data = tomllib.loads(raw.decode("utf-8"))
    except OSError as err:
        config.problems.append(f"cannot read {config.path}: {err.strerror}")
        return
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        config.problems.append(f"{config.path} is not valid TOML: {err}")
        return
    for table in data:
        if table not in ("aliases", "profiles", "registries"):
            config.problems.append(f"{config.path}: unknown table [{table}] (ignored)")
    _parse_registries(config, data.get("registries", []))
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


def _parse_registries(config: "RegistryConfig", value: object) -> None:
    """``registries = [...]``: hosts ``list`` always names (each an ECR host or an alias)."""
    from docker_credential_ecr_py._registry import host_of

    if not isinstance(value, list):
        config.problems.append(f"{config.path}: registries must be a list of registry hosts")
        return
    for item in value:
        host = host_of(item) if isinstance(item, str) else ""
        if host:
            config.registries.append(host)
        else:
            config.problems.append(f"{config.path}: registries: {item!r} is not a host name")
