"""``configure-docker`` and ``gitlab-auth-config``: point Docker's config at this helper.

``configure-docker`` edits ``$DOCKER_CONFIG/config.json`` (else ``~/.docker/config.json``) so that
Docker runs ``docker-credential-ecr-login`` for the given ECR registries (``credHelpers``) or for
every registry (``credsStore``). Every other key and value is kept, in its order; the file is
replaced atomically (temporary file in the same directory, fsync, rename) and keeps its mode (0600
when new).
Output is indented with tabs, as Docker's own ``config.json`` writer does.

Concurrent runs: the file is read, edited and written back under an exclusive ``flock`` on
``.<name>.lock`` beside it (waited for at most ``LOCK_TIMEOUT`` seconds), so parallel runs for
different registries lose no edit. The holder removes the lock file before releasing it; a waiter
that then holds a removed file takes the lock again on the new one. ``--dry-run`` takes no lock.

What is refused, with one line and the file untouched: text that is not UTF-8 or not one JSON
value, ``NaN``/``Infinity``, a number that a 64-bit float cannot hold as written (``1e400`` would
come back as ``Infinity``, ``1e-400`` as ``0.0``; Docker's Go loader rejects the former too), an
integer longer than Python converts, and arrays or objects nested deeper than ``MAX_DEPTH``. A lone
UTF-16 surrogate escape (``"\\ud800"``) is kept: it is written back as the same escape.

``--dry-run`` prints the result with the secrets of ``auths`` entries (``auth``, ``password``,
``identitytoken``, ``registrytoken``, keys matched case-insensitively as Go does) shown as
``"[REDACTED]"``; the file itself always keeps them.

Symlinks: when ``config.json`` is a symlink (dotfile managers do this), the file it resolves to is
the one rewritten, atomically in its own directory, and the summary names it. A dangling symlink, or
one that resolves to something other than a regular file, is refused and nothing is written.

``--from-auth-config`` merges GitLab's ``DOCKER_AUTH_CONFIG`` variable (a JSON object) into the
file: its ``credHelpers`` and ``auths`` entries are added (one of the same host is replaced) and
its ``credsStore`` is set. That is what a runner's ``pre_build_script`` needs: the variable holds
the registries, the job image may already hold a ``config.json`` (``docker login`` output), and
``echo $DOCKER_AUTH_CONFIG > config.json`` would drop it. Other keys of the variable are ignored
with a note; its secrets never reach stdout or stderr. A file that others may read becomes 0600
when ``auths`` are merged into it.

``gitlab-auth-config`` prints the same ``credHelpers`` object as compact JSON, ready to paste as
GitLab's ``DOCKER_AUTH_CONFIG`` variable (or a runner's ``environment`` entry).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import stat
import sys
import time
from typing import TYPE_CHECKING, Any, NoReturn

from docker_credential_ecr_py import _registry
from docker_credential_ecr_py._commands.common import (
    CommandError,
    Parser,
    auths_map,
    docker_config_path,
    edit_lock,
    helper_map,
    path_warning,
    running_program,
)
from docker_credential_ecr_py._lean import files

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from typing import TextIO

    from docker_credential_ecr_py._context import Context
    from docker_credential_ecr_py._settings import Settings

HELPER = "ecr-login"
PROGRAM = "docker-credential-" + HELPER
NEW_FILE_MODE = 0o600
LOCK_TIMEOUT = 10.0  # seconds to wait for another run's lock on config.json
MAX_DEPTH = 512  # nesting levels of arrays and objects; Docker's configs have a handful
REDACTED = "[REDACTED]"
# The secrets of an ``auths`` entry (Docker's ``AuthConfig``), compared case-folded: Go's
# encoding/json matches field names case-insensitively, so "Password" is a password too.
_SECRET_KEYS = frozenset({"auth", "password", "identitytoken", "registrytoken"})
_SURROGATE = re.compile("[\ud800-\udfff]")


_CREDS_STORE_WARNING = (
    'warning: "credsStore": "ecr-login" sends every registry to this helper: Docker Hub and other '
    "registries get no stored credentials, and `docker login` to them fails with "
    '"not implemented" (unless AWS_ECR_IGNORE_CREDS_STORAGE=true, which then drops the password). '
    "Prefer credHelpers for your ECR hosts."
)


CONFIGURE_EXIT_CODES = (
    ("0", "config.json written, or already as asked (--dry-run: the result printed)"),
    (
        "1",
        "config.json (or config.toml) could not be read, parsed or written; it is left as it was",
    ),
    ("2", "bad arguments (a host that is not ECR, an unknown option)"),
)
GITLAB_EXIT_CODES = (
    ("0", "the value printed"),
    ("1", "the account could not be found (--region without --account) or stdout failed"),
    ("2", "bad arguments (a host that is not ECR, no HOST)"),
)


# --- registries --------------------------------------------------------------------------------


def default_registry(account: str, region: str) -> str:
    """``<account>.dkr.ecr.<region>.<suffix>``; ``ValueError`` when it is not a valid ECR host."""
    region = region.strip().lower()
    host = _registry.registry_host(account, region)
    registry = _registry.parse(host)
    if registry is None or registry.region != region:
        raise ValueError(f"{region!r} is not an AWS region name")
    return registry.host


def normalise_host(text: str) -> str:
    """The bare lower-case host of an ECR or ECR Public registry; ``ValueError`` for anything else.

    Accepts what ``_registry.parse`` accepts: ``https://`` and a path are dropped.
    """
    registry = _registry.parse(text)
    if registry is None:
        raise ValueError(
            f"{text!r} is not an Amazon ECR registry "
            "(expected <account>.dkr.ecr.<region>.amazonaws.com, or public.ecr.aws)"
        )
    return registry.host


def _caller_account(settings: Settings) -> str:
    """The AWS account id of the caller, from STS through ``_aws``."""
    # NOTE: imported here, not at the top: _aws imports botocore, needed only on this path.
    import time

    from docker_credential_ecr_py import _aws

    identity = _aws.caller_identity(None, settings.region, time.monotonic() + 5.0)
    return identity["Account"]


def _valid_account(account: str) -> bool:
    return len(account) == 12 and account.isascii() and account.isdigit()


def _account(parser: Parser, option: str | None, settings: Settings) -> str:
    """``--account``, else ``AWS_ACCOUNT_ID``, else the caller's account from STS."""
    if option is not None:
        if not _valid_account(option.strip()):
            parser.error(f"--account must be a 12-digit AWS account id, not {option!r}")
        return option.strip()
    account = settings.env.get("AWS_ACCOUNT_ID", "").strip()
    if account:
        if not _valid_account(account):
            raise CommandError(f"AWS_ACCOUNT_ID is not a 12-digit AWS account id: {account!r}")
        return account
    try:
        account = _caller_account(settings).strip()
    # NOTE: a command boundary: whatever the AWS lookup raises (no credentials, no network)
    # becomes one line that says how to skip the lookup.
    except Exception as exc:
        raise CommandError(
            f"cannot find the AWS account id ({type(exc).__name__}: {exc}); "
            "pass --account ID or set AWS_ACCOUNT_ID"
        ) from exc
    if not _valid_account(account):
        raise CommandError(f"the caller's account id is not 12 digits: {account!r}")
    return account


def _hosts(
    parser: Parser,
    hosts: Sequence[str],
    regions: Sequence[str] | None,
    account: str | None,
    settings: Settings,
) -> list[str]:
    """The HOST arguments plus the caller's registry in each ``--region``, deduplicated, in order.

    With neither, the caller's registry in ``AWS_REGION`` (else ``AWS_DEFAULT_REGION``).
    """
    out: dict[str, None] = {}
    for text in hosts:
        try:
            out[normalise_host(text)] = None
        except ValueError as exc:
            parser.error(str(exc))
    wanted = list(regions or ())
    if not hosts and not wanted:
        region = settings.region.strip()
        if not region:
            parser.error("give one or more registry HOSTs, or --region REGION")
        wanted.append(region)
    if wanted:
        acct = _account(parser, account, settings)
        for region in wanted:
            try:
                out[default_registry(acct, region)] = None
            except ValueError as exc:
                parser.error(str(exc))
    return list(out)


# --- config.json --------------------------------------------------------------------------------


def _resolve(path: str) -> str:
    """The file to rewrite: ``path``, or what it resolves to when it is a symlink (which must
    exist). Nothing is created."""
    try:
        link = os.lstat(path)
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not stat.S_ISLNK(link.st_mode):
        return path
    target = os.path.realpath(path)
    if not os.path.lexists(target):
        raise CommandError(
            f"{path} is a symlink to {target}, which does not exist; "
            "create that file, or replace the symlink, then run this again"
        )
    return target


class _Target:
    """Where the config lives, what it holds now, and how to write it back."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.target = _resolve(path)
        self.exists = False
        self.mode = NEW_FILE_MODE
        self.owner: tuple[int, int] | None = None
        self.data: dict[str, Any] = {}
        try:
            st = os.stat(self.target)
        except FileNotFoundError:
            if self.target == path:
                return  # no config.json yet
            raise CommandError(f"cannot read {self.target}: it no longer exists") from None
        except OSError as exc:
            raise CommandError(f"cannot read {self.target}: {exc.strerror or exc}") from exc
        if not stat.S_ISREG(st.st_mode):
            raise CommandError(f"{self.target} is not a regular file; not touching it")
        self.exists = True
        self.mode = stat.S_IMODE(st.st_mode)
        self.owner = (st.st_uid, st.st_gid)
        try:
            with open(self.target, "rb") as fh:
                raw = fh.read()
        except OSError as exc:
            raise CommandError(f"cannot read {self.target}: {exc.strerror or exc}") from exc
        self.data = _parse_config(self.target, raw)

    @property
    def shown(self) -> str:
        """The path for messages: the symlink and what it points to."""
        if self.target == self.path:
            return self.path
        return f"{self.path} (-> {self.target})"

    def write(self, text: str) -> None:
        """Replace the target atomically, keeping its mode (and owner, when running as root)."""
        try:
            files.makedirs_private(os.path.dirname(self.target) or ".")
            files.write_atomic(self.target, text.encode("utf-8"), self.mode, owner=self.owner)
            files.remove_stale_temp_files(self.target)  # of a run killed mid-write
        except OSError as exc:
            raise CommandError(f"cannot write {self.target}: {exc.strerror or exc}") from exc


def _flock(target: str, deadline: float) -> contextlib.AbstractContextManager[None]:
    """The edit lock of ``target`` (``common.edit_lock``), waited for until ``deadline``."""
    return edit_lock(target, deadline, LOCK_TIMEOUT)


@contextlib.contextmanager
def _locked(path: str) -> Iterator[_Target]:
    """The config, read while holding its lock; the lock is held until the block ends.

    The lock is beside the file that is rewritten (a symlink's target); when the symlink was
    changed while we waited, the new target's lock is taken instead.
    """
    deadline = time.monotonic() + LOCK_TIMEOUT
    for _ in range(10):
        where = _resolve(path)
        with _flock(where, deadline):
            target = _Target(path)
            if target.target == where:
                yield target
                return
    raise CommandError(f"{path} kept changing while waiting for its lock; try again")


class _Refused(Exception):
    """A number in config.json that cannot be kept as written (raised from the JSON hooks)."""


def _clip(text: str) -> str:
    """A number's text for a message: long ones shortened, with their length."""
    if len(text) <= 40:
        return text
    return f"{text[:20]}...{text[-8:]} ({len(text)} characters)"


def _float(text: str) -> float:
    """``parse_float``: refuse what a 64-bit float does not hold (nor would be written back)."""
    value = float(text)
    if math.isinf(value):
        raise _Refused(
            f"the number {_clip(text)} is too large for a 64-bit float: it would be written "
            "back as Infinity, which is not JSON (and Docker cannot load it either)"
        )
    if value == 0 and any(c in "123456789" for c in text.lower().partition("e")[0]):
        raise _Refused(
            f"the number {_clip(text)} is too small for a 64-bit float: it would be written "
            "back as 0.0"
        )
    return value


def _int(text: str) -> int:
    """``parse_int``: any size Python converts (it limits the digits, see
    ``sys.get_int_max_str_digits``); longer ones are refused by name."""
    try:
        return int(text)
    except ValueError:
        raise _Refused(
            f"the integer {_clip(text)} has more digits than can be converted "
            f"({sys.get_int_max_str_digits()})"
        ) from None


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def _too_deep(value: object) -> bool:
    """Arrays and objects nested more than ``MAX_DEPTH`` levels (checked without recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterator[object] = iter(item.values())
        elif isinstance(item, list):
            children = iter(item)
        else:
            continue
        if depth > MAX_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _parse_config(path: str, raw: bytes) -> dict[str, Any]:
    """The top-level object; empty or whitespace-only counts as ``{}`` (as Docker's loader)."""
    too_deep = CommandError(
        f"{path} nests arrays and objects more than {MAX_DEPTH} levels deep; fix or move it first"
    )
    try:
        text = raw.decode("utf-8")
        if not text.strip():
            return {}
        data = json.loads(text, parse_constant=_reject_constant, parse_float=_float, parse_int=_int)
    except _Refused as exc:
        raise CommandError(f"{path}: {exc}; fix or move it first") from None
    except RecursionError:  # deeper than the interpreter's stack: deeper than MAX_DEPTH too
        raise too_deep from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise CommandError(f"{path} is not valid JSON ({exc}); fix or move it first") from exc
    if data is None:  # Go decodes `null` into the config struct as a no-op
        return {}
    if not isinstance(data, dict):
        raise CommandError(f"{path} holds a JSON {type(data).__name__}, not an object")
    if _too_deep(data):
        raise too_deep
    return data


def _escape_surrogate(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def render(data: Mapping[str, Any]) -> str:
    """The file text: tab-indented like Docker's ``json.MarshalIndent(cfg, "", "\\t")``.

    Non-ASCII text is written as is; a lone surrogate (read from a ``\\ud800`` escape, which no
    UTF-8 can hold) is written back as that escape, so nothing is lost.
    """
    text = json.dumps(data, indent="\t", ensure_ascii=False) + "\n"
    return _SURROGATE.sub(_escape_surrogate, text)


def masked(data: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    """A copy of ``data`` for display, with the secrets of every ``auths`` entry replaced by
    ``REDACTED``; and how many were. Empty and ``null`` values hold no secret and are shown."""
    shown = dict(data)
    count = 0
    for key, auths in data.items():
        if key.casefold() != "auths" or not isinstance(auths, dict):
            continue
        entries: dict[str, Any] = {}
        for host, entry in auths.items():
            if isinstance(entry, dict):
                copy: dict[str, Any] = {}
                for name, value in entry.items():
                    if name.casefold() in _SECRET_KEYS and value is not None and value != "":
                        copy[name] = REDACTED
                        count += 1
                    else:
                        copy[name] = value
                entry = copy
            entries[host] = entry
        shown[key] = entries
    return shown, count


def _describe(value: object) -> str:
    """``a string``, ``an array``... for messages about a value of the wrong JSON type."""
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "an object"


def add_cred_helpers(path: str, data: dict[str, Any], hosts: Sequence[str]) -> list[str]:
    """Set ``credHelpers[host] = "ecr-login"`` in place; return notes about replaced helpers."""
    helpers = data.get("credHelpers")
    if helpers is None:
        helpers = data["credHelpers"] = {}
    if not isinstance(helpers, dict):
        raise CommandError(
            f'{path}: "credHelpers" is {_describe(helpers)}, but Docker needs an object mapping '
            'each registry host to a helper, e.g. {"credHelpers": {"<host>": "ecr-login"}}; '
            "fix it first"
        )
    for key, value in helpers.items():
        if not isinstance(value, str):
            raise CommandError(
                f'{path}: "credHelpers" entry {key!r} is {_describe(value)}, '
                "not a helper name; fix it first"
            )
    notes = []
    for host in hosts:
        old = helpers.get(host)
        if old is not None and old != HELPER:
            notes.append(f'note: credHelpers["{host}"] was "{old}"; now "{HELPER}"')
        helpers[host] = HELPER
    return notes


def set_creds_store(path: str, data: dict[str, Any]) -> list[str]:
    """Set ``credsStore = "ecr-login"`` in place; return notes about a replaced store."""
    old = data.get("credsStore")
    if old is not None and not isinstance(old, str):
        raise CommandError(f'{path}: "credsStore" is {_describe(old)}; fix it first')
    data["credsStore"] = HELPER
    if old and old != HELPER:
        return [f'note: credsStore was "{old}"; now "{HELPER}"']
    return []


AUTH_CONFIG_VARIABLE = "DOCKER_AUTH_CONFIG"


def merge_auth_config(path: str, data: dict[str, Any], incoming: Mapping[str, Any]) -> list[str]:
    """Merge a ``DOCKER_AUTH_CONFIG`` object into ``data`` in place; return notes (no secrets)."""
    source = f"${AUTH_CONFIG_VARIABLE}"
    notes = [
        f"note: {source}: {key!r} ignored (only credHelpers, auths, credsStore)"
        for key in incoming
        if key not in ("credHelpers", "auths", "credsStore")
    ]
    helpers = incoming.get("credHelpers")
    if helpers is not None:
        if not helper_map(helpers):
            raise CommandError(
                f'{source}: "credHelpers" must map registry hosts to helper names, e.g. '
                '{"credHelpers": {"<host>": "ecr-login"}}; nothing written'
            )
        current = data.get("credHelpers")
        if current is None:
            current = data["credHelpers"] = {}
        if not isinstance(current, dict):
            raise CommandError(f'{path}: "credHelpers" is {_describe(current)}; fix it first')
        for host, helper in helpers.items():
            old = current.get(host)
            if old is not None and old != helper:
                notes.append(f'note: credHelpers["{host}"] was "{old}"; now "{helper}"')
            current[host] = helper
    auths = incoming.get("auths")
    if auths is not None:
        if not auths_map(auths):
            raise CommandError(
                f'{source}: "auths" must map registry hosts to objects; nothing written'
            )
        current = data.get("auths")
        if current is None:
            current = data["auths"] = {}
        if not isinstance(current, dict):
            raise CommandError(f'{path}: "auths" is {_describe(current)}; fix it first')
        for host, entry in auths.items():
            if host in current and current[host] != entry:
                notes.append(f'note: auths["{host}"] replaced by the one in {source}')
            current[host] = entry
    store = incoming.get("credsStore")
    if store is not None:
        if not isinstance(store, str):
            raise CommandError(f'{source}: "credsStore" is {_describe(store)}; nothing written')
        old = data.get("credsStore")
        if old and old != store:
            notes.append(f'note: credsStore was "{old}"; now "{store}"')
        data["credsStore"] = store
    return notes


def _merged_what(incoming: Mapping[str, Any]) -> str:
    """What a merge set, for the summary line: hosts and helper names only."""
    parts = []
    if isinstance(incoming.get("credHelpers"), dict) and incoming["credHelpers"]:
        parts.append("credHelpers for " + ", ".join(incoming["credHelpers"]))
    if isinstance(incoming.get("auths"), dict) and incoming["auths"]:
        parts.append("auths for " + ", ".join(incoming["auths"]))
    if isinstance(incoming.get("credsStore"), str):
        parts.append(f'credsStore "{incoming["credsStore"]}"')
    return "; ".join(parts) or "nothing"


# --- commands -----------------------------------------------------------------------------------


def _add_registry_options(parser: Parser) -> None:
    parser.add_argument(
        "hosts",
        metavar="HOST",
        nargs="*",
        help="an ECR registry host, e.g. 111122223333.dkr.ecr.eu-west-2.amazonaws.com, "
        "or public.ecr.aws (https:// and a path are dropped)",
    )
    parser.add_argument(
        "--region",
        action="append",
        metavar="REGION",
        help="also add the caller's own registry in REGION (repeatable); with no HOST and no "
        "--region, AWS_REGION or AWS_DEFAULT_REGION is used",
    )
    parser.add_argument(
        "--account",
        metavar="ID",
        help="the 12-digit account for --region (default: AWS_ACCOUNT_ID, else the caller's "
        "account from STS)",
    )
    parser.add_argument(
        "--creds-store",
        action="store_true",
        help='set "credsStore": "ecr-login" (every registry goes to this helper) instead of '
        "credHelpers; HOSTs (and --region) given with it are declared: configure-docker adds "
        "them to registries in the config file, which list always names (GitLab Runner asks "
        "only for listed registries)",
    )


def _print(stream: TextIO, text: str, failed: str) -> None:
    """Write and flush ``text``; a write error (``/dev/full``) becomes a ``CommandError``
    starting with ``failed``. A reader that went away stays a ``BrokenPipeError``."""
    if not text:
        return
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise CommandError(f"{failed}: {exc.strerror or exc}") from exc


def _note(stderr: TextIO, lines: Sequence[str]) -> None:
    """Warnings and notes, one a line; a stderr that cannot be written to is not an error (the
    command's work is done or about to be, and there is nowhere left to say so)."""
    try:
        stderr.write("".join(line + "\n" for line in lines))
    except OSError:
        pass


def _run(
    build: Callable[[Parser], None],
    body: Callable[[argparse.Namespace, Parser], int],
    prog: str,
    description: str,
    argv: list[str],
    stdout: TextIO,
    stderr: TextIO,
    exit_codes: Sequence[tuple[str, str]],
) -> int:
    """Parse and run; ``Exit`` and ``CommandError`` become messages in ``_commands.run``."""
    parser = Parser(stdout, stderr, prog=prog, description=description, exit_codes=exit_codes)
    build(parser)
    args = parser.parse_intermixed_args(argv)
    if args.creds_store and args.account and not args.region:
        parser.error("--account goes with --region")
    return body(args, parser)


def configure_docker_main(argv: list[str], ctx: Context, stdout: TextIO, stderr: TextIO) -> int:
    """``docker-credential-ecr-login configure-docker [HOST ...] [options]``; the exit status."""
    settings = ctx.settings

    def build(parser: Parser) -> None:
        _add_registry_options(parser)
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="print the resulting config.json to stdout and write nothing",
        )
        parser.add_argument(
            "--from-auth-config",
            action="store_true",
            help=f"merge the credHelpers, auths and credsStore of ${AUTH_CONFIG_VARIABLE} "
            "(GitLab's variable, a JSON object) into config.json; for a runner's "
            "pre_build_script",
        )

    def change(
        target: _Target,
        hosts: Sequence[str],
        creds_store: bool,
        incoming: Mapping[str, Any] | None,
    ) -> tuple[list[str], str]:
        """Edit ``target.data`` in place: (lines for stderr, what was set)."""
        if incoming is not None:
            notes = merge_auth_config(target.target, target.data, incoming)
            what = _merged_what(incoming)
            if incoming.get("auths") and target.exists and target.mode & 0o077:
                notes.append(
                    f"note: {target.target} was mode {target.mode:04o}; now 0600, since it "
                    "holds the auths of $DOCKER_AUTH_CONFIG"
                )
                target.mode = NEW_FILE_MODE
            if hosts:
                notes += add_cred_helpers(target.target, target.data, hosts)
                what += "; credHelpers for " + ", ".join(hosts)
            return notes, what
        if creds_store:
            notes = set_creds_store(target.target, target.data)
            return [_CREDS_STORE_WARNING, *notes], f'credsStore "{HELPER}"'
        notes = add_cred_helpers(target.target, target.data, hosts)
        return notes, "credHelpers for " + ", ".join(hosts)

    def body(args: argparse.Namespace, parser: Parser) -> int:
        incoming: dict[str, Any] | None = None
        if args.from_auth_config:
            if args.creds_store:
                parser.error("--from-auth-config takes no --creds-store")
            raw = settings.env.get(AUTH_CONFIG_VARIABLE, "")
            if not raw.strip() and not (args.hosts or args.region):
                _note(stderr, [f"${AUTH_CONFIG_VARIABLE} is not set; nothing to merge"])
                return 0
            incoming = _parse_config(
                f"${AUTH_CONFIG_VARIABLE}", raw.encode("utf-8", "surrogateescape")
            )
        hosts = (
            []
            if (args.creds_store or incoming is not None) and not (args.hosts or args.region)
            else _hosts(parser, args.hosts, args.region, args.account, settings)
        )
        declared = hosts if args.creds_store else []
        if args.creds_store:
            hosts = []
        path = docker_config_path(settings)
        if args.dry_run:
            target = _Target(path)
            messages, _ = change(target, hosts, args.creds_store, incoming)
            shown, count = masked(target.data)
            if count:
                messages.append(
                    f'note: --dry-run shows {count} secret value(s) of "auths" entries as '
                    f'"{REDACTED}"; the file keeps them'
                )
            if declared:
                messages.append(
                    f"note: --dry-run: would add {', '.join(declared)} to registries in "
                    f"{settings.config_file or '(no config file)'}"
                )
            _note(stderr, messages)
            _print(stdout, render(shown), "cannot write the result to stdout")
        else:
            # config.toml first: when it cannot be edited, config.json is left as it was.
            if declared:
                from docker_credential_ecr_py._commands.registries import declare

                names, changed = declare(settings.config_file, declared, LOCK_TIMEOUT)
                said = "Updated" if changed else "Unchanged"
                _print(
                    stdout,
                    f"{said} {settings.config_file}: registries {', '.join(names)} "
                    "(list always names them)\n",
                    "declared the registries, but cannot write to stdout",
                )
            with _locked(path) as target:
                before = render(target.data) if target.exists else None
                messages, what = change(target, hosts, args.creds_store, incoming)
                text = render(target.data)
                unchanged = target.exists and text == before
                if not unchanged:
                    target.write(text)
            _note(stderr, messages)
            if unchanged:
                _print(
                    stdout,
                    f"{target.shown} already has {what}; not rewritten\n",
                    "cannot write to stdout",
                )
            else:
                _print(
                    stdout,
                    f"Updated {target.shown}: {what}\n",
                    f"updated {target.shown}, but cannot write to stdout",
                )
        warning = path_warning(settings.env, running_program())
        _note(stderr, [warning] if warning else [])
        return 0

    return _run(
        build,
        body,
        f"{PROGRAM} configure-docker",
        "Make Docker use this helper for Amazon ECR registries by editing config.json "
        "($DOCKER_CONFIG/config.json, else ~/.docker/config.json). Other settings are kept.",
        argv,
        stdout,
        stderr,
        CONFIGURE_EXIT_CODES,
    )


def auth_config(hosts: Sequence[str] | None, creds_store: bool = False) -> str:
    """The compact ``DOCKER_AUTH_CONFIG`` JSON for ``hosts`` (or ``credsStore``), no newline."""
    value: dict[str, Any]
    if creds_store:
        value = {"credsStore": HELPER}
    else:
        value = {"credHelpers": dict.fromkeys(hosts or (), HELPER)}
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def gitlab_auth_config_main(argv: list[str], ctx: Context, stdout: TextIO, stderr: TextIO) -> int:
    """``docker-credential-ecr-login gitlab-auth-config HOST ...``: print ``DOCKER_AUTH_CONFIG``."""
    settings = ctx.settings

    def body(args: argparse.Namespace, parser: Parser) -> int:
        if args.creds_store:
            notes = [_CREDS_STORE_WARNING]
            if args.hosts or args.region:
                hosts = _hosts(parser, args.hosts, args.region, args.account, settings)
                notes.append(
                    "note: GitLab Runner gets credentials only for the registries list names: "
                    f'set AWS_ECR_REGISTRIES="{" ".join(hosts)}" where the runner runs the '
                    f"helper (or run configure-docker --creds-store {' '.join(hosts)} there)"
                )
            _note(stderr, notes)
            _print(stdout, auth_config(None, creds_store=True) + "\n", "cannot write to stdout")
            return 0
        hosts = _hosts(parser, args.hosts, args.region, args.account, settings)
        _print(stdout, auth_config(hosts) + "\n", "cannot write to stdout")
        return 0

    return _run(
        _add_registry_options,
        body,
        f"{PROGRAM} gitlab-auth-config",
        "Print the value of GitLab CI's DOCKER_AUTH_CONFIG variable that makes GitLab Runner use "
        "this helper for the given Amazon ECR registries.",
        argv,
        stdout,
        stderr,
        GITLAB_EXIT_CODES,
    )
