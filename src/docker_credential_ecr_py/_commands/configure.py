"""``configure-docker`` and ``gitlab-auth-config``: point Docker's config at this helper.

``configure-docker`` edits ``$DOCKER_CONFIG/config.json`` (else ``~/.docker/config.json``) so that
Docker runs ``docker-credential-ecr-login`` for the given ECR registries (``credHelpers``) or for
every registry (``credsStore``). Every other key and value is kept, in its order; the file is
replaced atomically (temporary file in the same directory, fsync, rename) and keeps its mode (0600
when new).
Output is indented with tabs, as Docker's own ``config.json`` writer does.

Symlinks: when ``config.json`` is a symlink (dotfile managers do this), the file it resolves to is
the one rewritten, atomically in its own directory, and the summary names it. A dangling symlink, or
one that resolves to something other than a regular file, is refused and nothing is written.

``gitlab-auth-config`` prints the same ``credHelpers`` object as compact JSON, ready to paste as
GitLab's ``DOCKER_AUTH_CONFIG`` variable (or a runner's ``environment`` entry).
"""

from __future__ import annotations

import argparse
import json
import os
import stat
from typing import TYPE_CHECKING, Any, NoReturn

from docker_credential_ecr_py import _registry
from docker_credential_ecr_py._commands.common import (
    CommandError,
    Parser,
    docker_config_path,
    path_warning,
    running_program,
)
from docker_credential_ecr_py._lean import files

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import TextIO

    from docker_credential_ecr_py._context import Context
    from docker_credential_ecr_py._settings import Settings

HELPER = "ecr-login"
PROGRAM = "docker-credential-" + HELPER
NEW_FILE_MODE = 0o600


_CREDS_STORE_WARNING = (
    'warning: "credsStore": "ecr-login" sends every registry to this helper: Docker Hub and other '
    "registries get no stored credentials, and `docker login` to them fails with "
    '"not implemented" (unless AWS_ECR_IGNORE_CREDS_STORAGE=true, which then drops the password). '
    "Prefer credHelpers for your ECR hosts."
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


class _Target:
    """Where the config lives, what it holds now, and how to write it back."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.target = path
        self.exists = False
        self.mode = NEW_FILE_MODE
        self.owner: tuple[int, int] | None = None
        self.data: dict[str, Any] = {}
        try:
            link = os.lstat(path)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
        if stat.S_ISLNK(link.st_mode):
            self.target = os.path.realpath(path)
            if not os.path.lexists(self.target):
                raise CommandError(
                    f"{path} is a symlink to {self.target}, which does not exist; "
                    "create that file, or replace the symlink, then run this again"
                )
        try:
            st = os.stat(self.target)
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
        except OSError as exc:
            raise CommandError(f"cannot write {self.target}: {exc.strerror or exc}") from exc


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def _parse_config(path: str, raw: bytes) -> dict[str, Any]:
    """The top-level object; empty or whitespace-only counts as ``{}`` (as Docker's loader)."""
    try:
        text = raw.decode("utf-8")
        if not text.strip():
            return {}
        data = json.loads(text, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise CommandError(f"{path} is not valid JSON ({exc}); fix or move it first") from exc
    if data is None:  # Go decodes `null` into the config struct as a no-op
        return {}
    if not isinstance(data, dict):
        raise CommandError(f"{path} holds a JSON {type(data).__name__}, not an object")
    return data


def render(data: Mapping[str, Any]) -> str:
    """The file text: tab-indented like Docker's ``json.MarshalIndent(cfg, "", "\\t")``."""
    return json.dumps(data, indent="\t", ensure_ascii=False) + "\n"


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
        "credHelpers; takes no HOST",
    )


def _run(
    build: Callable[[Parser], None],
    body: Callable[[argparse.Namespace, Parser], int],
    prog: str,
    description: str,
    argv: list[str],
    stdout: TextIO,
    stderr: TextIO,
) -> int:
    """Parse and run; ``Exit`` and ``CommandError`` become messages in ``_commands.run``."""
    parser = Parser(stdout, stderr, prog=prog, description=description)
    build(parser)
    args = parser.parse_intermixed_args(argv)
    if args.creds_store and (args.hosts or args.region or args.account):
        parser.error("--creds-store takes no HOST, --region or --account")
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

    def body(args: argparse.Namespace, parser: Parser) -> int:
        hosts = (
            []
            if args.creds_store
            else _hosts(parser, args.hosts, args.region, args.account, settings)
        )
        target = _Target(docker_config_path(settings))
        before = render(target.data) if target.exists else None
        if args.creds_store:
            notes = set_creds_store(target.target, target.data)
            stderr.write(_CREDS_STORE_WARNING + "\n")
            what = f'credsStore "{HELPER}"'
        else:
            notes = add_cred_helpers(target.target, target.data, hosts)
            what = "credHelpers for " + ", ".join(hosts)
        text = render(target.data)
        for note in notes:
            stderr.write(note + "\n")
        if args.dry_run:
            stdout.write(text)
        elif target.exists and text == before:
            stdout.write(f"{target.shown} already has {what}; not rewritten\n")
        else:
            target.write(text)
            stdout.write(f"Updated {target.shown}: {what}\n")
        warning = path_warning(settings.env, running_program())
        if warning:
            stderr.write(warning + "\n")
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
            stderr.write(_CREDS_STORE_WARNING + "\n")
            stdout.write(auth_config(None, creds_store=True) + "\n")
            return 0
        hosts = _hosts(parser, args.hosts, args.region, args.account, settings)
        stdout.write(auth_config(hosts) + "\n")
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
    )
