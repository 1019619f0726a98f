"""``configure-docker --creds-store HOST...``: declare the registries ``list`` always names.

GitLab Runner, given ``{"credsStore": "ecr-login"}``, runs ``list`` and then ``get`` for each
listed registry; a registry that ``list`` does not name never gets credentials. The declared set
is the top-level ``registries = [...]`` array of the config file (``AWS_ECR_CONFIG_FILE``, else
``<cache dir>/config.toml``). This module adds hosts to it and keeps the rest of the file as it
is: the one line is replaced (or added above the first table), the result must parse to the
same document with the new array, and the file is replaced atomically (0600, directory 0700)
under the same lock discipline as ``config.json``.
"""

from __future__ import annotations

import json
import os
import re
import time
from typing import TYPE_CHECKING, Any

from docker_credential_ecr_py._commands.common import CommandError, edit_lock
from docker_credential_ecr_py._lean import files

if TYPE_CHECKING:
    from collections.abc import Sequence

_MAX_BYTES = 1 << 20
_TABLE = re.compile(r"^[ \t]*\[", re.M)  # the first table header ends the top-level keys
_LINE = re.compile(
    r"^[ \t]*registries[ \t]*=[ \t]*\[[^\]#]*\][ \t]*(?:#[^\r\n]*)?(?:\r?\n|\Z)", re.M
)


def declare(path: str, hosts: Sequence[str], lock_timeout: float) -> tuple[list[str], bool]:
    """Add ``hosts`` to ``registries`` in the TOML file at ``path``: (the whole array, whether
    the file was changed)."""
    if not path:
        raise CommandError(
            "no config file to write the registries to (no usable cache directory): set "
            "AWS_ECR_CONFIG_FILE, or AWS_ECR_REGISTRIES in the environment instead"
        )
    path = os.path.realpath(path)  # a symlinked config.toml: its target is rewritten
    with edit_lock(path, time.monotonic() + lock_timeout, lock_timeout):
        raw = _read(path)
        data = _parse(path, raw)
        current = data.get("registries", [])
        if not isinstance(current, list) or not all(isinstance(h, str) for h in current):
            raise CommandError(f"{path}: registries is not a list of strings; fix it first")
        merged = list(current) + [h for h in hosts if h not in current]
        if merged == current and "registries" in data:
            return merged, False
        text = _edited(path, raw, merged, "registries" in data)
        expected = dict(data, registries=merged)
        if _parsed_or_none(text) != expected:
            raise CommandError(
                f"cannot edit {path} safely: add registries = {json.dumps(merged)} at its top"
            )
        try:
            files.makedirs_private(os.path.dirname(path) or ".")
            files.write_atomic(path, text.encode("utf-8"), 0o600)
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from exc
        return merged, True


def _read(path: str) -> str:
    from docker_credential_ecr_py._lean import read_bounded

    try:
        raw = read_bounded(path, _MAX_BYTES, follow=True)
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(raw) > _MAX_BYTES:
        raise CommandError(f"cannot read {path}: larger than {_MAX_BYTES} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CommandError(f"{path} is not UTF-8; not touching it") from None


def _parse(path: str, text: str) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise CommandError(f"{path} is not valid TOML ({err}); not touching it") from None


def _parsed_or_none(text: str) -> dict[str, Any] | None:
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


def _edited(path: str, raw: str, merged: list[str], present: bool) -> str:
    newline = "\r\n" if "\r\n" in raw else "\n"
    line = "registries = [" + ", ".join(json.dumps(h) for h in merged) + "]" + newline
    table = _TABLE.search(raw)
    cut = table.start() if table else len(raw)
    head, rest = raw[:cut], raw[cut:]
    if present:
        found = _LINE.search(head)
        if found is None:
            raise CommandError(
                f"cannot edit {path} safely (its registries array holds comments): "
                f"set registries = {json.dumps(merged)} yourself"
            )
        return head[: found.start()] + line + head[found.end() :] + rest
    if head and not head.endswith("\n"):
        head += newline
    head += line
    if rest:
        head += newline
    return head + rest
