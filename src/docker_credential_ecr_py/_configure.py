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
import contextlib
import json
import os
import shutil
import stat
import sys
import tempfile
from typing import TYPE_CHECKING, Any, NoReturn

from docker_credential_ecr_py import _registry
from docker_credential_ecr_py._config import home_dir

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import TextIO

    from _typeshed import SupportsWrite

HELPER = "ecr-login"
PROGRAM = "docker-credential-" + HELPER
NEW_FILE_MODE = 0o600
NEW_DIR_MODE = 0o700


# Byte strings that identify what a docker-credential-ecr-login on PATH is. Ours is checked first:
# our frozen binary also contains the Go helper's module path (in the `version` text).
_OUR_MARKER = b"docker_credential_ecr_py"
_GO_MARKER = b"amazon-ecr-credential-helper"
_SCAN_LIMIT = 256 * 1024 * 1024
_SCAN_CHUNK = 1024 * 1024

_CREDS_STORE_WARNING = (
    'warning: "credsStore": "ecr-login" sends every registry to this helper: Docker Hub and other '
    "registries get no stored credentials, and `docker login` to them fails with "
    '"not implemented" (unless AWS_ECR_IGNORE_CREDS_STORAGE=true, which then drops the password). '
    "Prefer credHelpers for your ECR hosts."
)


class ConfigureError(Exception):
    """A failure reported as one line on stderr with exit status 1; nothing was written."""


class _Exit(Exception):
    """Raised by the argument parser instead of ``sys.exit``."""

    def __init__(self, status: int, message: str | None) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that writes to the given streams and never exits the process."""

    def __init__(self, stdout: TextIO, stderr: TextIO, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._stdout = stdout
        self._stderr = stderr

    def print_help(self, file: SupportsWrite[str] | None = None) -> None:
        (file or self._stdout).write(self.format_help())

    def print_usage(self, file: SupportsWrite[str] | None = None) -> None:
        (file or self._stdout).write(self.format_usage())

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise _Exit(status, message)

    def error(self, message: str) -> NoReturn:
        self.print_usage(self._stderr)
        raise _Exit(2, f"{self.prog}: error: {message}\n")


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


def _caller_account(env: Mapping[str, str]) -> str:
    """The AWS account id of the caller, from STS through ``_aws``."""
    # NOTE: imported here, not at the top: _aws imports boto3 (~400 ms), needed only on this path.
    from docker_credential_ecr_py import _aws

    return _aws.caller_account(env)


def _valid_account(account: str) -> bool:
    return len(account) == 12 and account.isascii() and account.isdigit()


def _account(parser: _Parser, option: str | None, env: Mapping[str, str]) -> str:
    """``--account``, else ``AWS_ACCOUNT_ID``, else the caller's account from STS."""
    if option is not None:
        if not _valid_account(option.strip()):
            parser.error(f"--account must be a 12-digit AWS account id, not {option!r}")
        return option.strip()
    account = env.get("AWS_ACCOUNT_ID", "").strip()
    if account:
        if not _valid_account(account):
            raise ConfigureError(f"AWS_ACCOUNT_ID is not a 12-digit AWS account id: {account!r}")
        return account
    try:
        account = _caller_account(env).strip()
    # NOTE: a command boundary: whatever the AWS lookup raises (no credentials, no network)
    # becomes one line that says how to skip the lookup.
    except Exception as exc:
        raise ConfigureError(
            f"cannot find the AWS account id ({type(exc).__name__}: {exc}); "
            "pass --account ID or set AWS_ACCOUNT_ID"
        ) from exc
    if not _valid_account(account):
        raise ConfigureError(f"the caller's account id is not 12 digits: {account!r}")
    return account


def _hosts(
    parser: _Parser,
    hosts: Sequence[str],
    regions: Sequence[str] | None,
    account: str | None,
    env: Mapping[str, str],
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
        region = env.get("AWS_REGION", "").strip() or env.get("AWS_DEFAULT_REGION", "").strip()
        if not region:
            parser.error("give one or more registry HOSTs, or --region REGION")
        wanted.append(region)
    if wanted:
        acct = _account(parser, account, env)
        for region in wanted:
            try:
                out[default_registry(acct, region)] = None
            except ValueError as exc:
                parser.error(str(exc))
    return list(out)


# --- config.json --------------------------------------------------------------------------------


def config_path(env: Mapping[str, str]) -> str:
    """``$DOCKER_CONFIG/config.json``, else ``$HOME/.docker/config.json`` (as Docker's CLI)."""
    directory = env.get("DOCKER_CONFIG", "")
    if directory:
        return os.path.join(directory, "config.json")
    home = home_dir(env)
    if not home:
        raise ConfigureError("cannot find the home directory: set HOME or DOCKER_CONFIG")
    return os.path.join(home, ".docker", "config.json")


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
            raise ConfigureError(f"cannot read {path}: {exc.strerror or exc}") from exc
        if stat.S_ISLNK(link.st_mode):
            self.target = os.path.realpath(path)
            if not os.path.lexists(self.target):
                raise ConfigureError(
                    f"{path} is a symlink to {self.target}, which does not exist; "
                    "create that file, or replace the symlink, then run this again"
                )
        try:
            st = os.stat(self.target)
        except OSError as exc:
            raise ConfigureError(f"cannot read {self.target}: {exc.strerror or exc}") from exc
        if not stat.S_ISREG(st.st_mode):
            raise ConfigureError(f"{self.target} is not a regular file; not touching it")
        self.exists = True
        self.mode = stat.S_IMODE(st.st_mode)
        self.owner = (st.st_uid, st.st_gid)
        try:
            with open(self.target, "rb") as fh:
                raw = fh.read()
        except OSError as exc:
            raise ConfigureError(f"cannot read {self.target}: {exc.strerror or exc}") from exc
        self.data = _parse_config(self.target, raw)

    @property
    def shown(self) -> str:
        """The path for messages: the symlink and what it points to."""
        if self.target == self.path:
            return self.path
        return f"{self.path} (-> {self.target})"

    def write(self, text: str) -> None:
        """Replace the target atomically, keeping its mode (and owner, when running as root)."""
        directory = os.path.dirname(self.target) or "."
        try:
            os.makedirs(directory, mode=NEW_DIR_MODE, exist_ok=True)
            _write_atomic(directory, self.target, text.encode("utf-8"), self.mode, self.owner)
        except OSError as exc:
            raise ConfigureError(f"cannot write {self.target}: {exc.strerror or exc}") from exc


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
        raise ConfigureError(f"{path} is not valid JSON ({exc}); fix or move it first") from exc
    if data is None:  # Go decodes `null` into the config struct as a no-op
        return {}
    if not isinstance(data, dict):
        raise ConfigureError(f"{path} holds a JSON {type(data).__name__}, not an object")
    return data


def _write_atomic(
    directory: str, target: str, payload: bytes, mode: int, owner: tuple[int, int] | None
) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".config.json.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.chmod(tmp, mode)
            if owner is not None and hasattr(os, "geteuid") and os.geteuid() == 0:
                with contextlib.suppress(OSError):
                    os.chown(tmp, *owner)
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    # NOTE: without this the rename itself may not survive a crash (the data would).
    with contextlib.suppress(OSError):
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


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
        raise ConfigureError(
            f'{path}: "credHelpers" is {_describe(helpers)}, but Docker needs an object mapping '
            'each registry host to a helper, e.g. {"credHelpers": {"<host>": "ecr-login"}}; '
            "fix it first"
        )
    for key, value in helpers.items():
        if not isinstance(value, str):
            raise ConfigureError(
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
        raise ConfigureError(f'{path}: "credsStore" is {_describe(old)}; fix it first')
    data["credsStore"] = HELPER
    if old and old != HELPER:
        return [f'note: credsStore was "{old}"; now "{HELPER}"']
    return []


# --- PATH check ---------------------------------------------------------------------------------


def _running_program() -> str | None:
    """The resolved path of the program running now, when it is a ``docker-credential-*`` file.

    ``None`` under ``python -m`` or a test runner: then only the file's content can tell.
    """
    if getattr(sys, "frozen", False):
        return os.path.realpath(sys.executable)
    argv0 = sys.argv[0] if sys.argv else ""
    if not os.path.basename(argv0).startswith("docker-credential-"):
        return None
    found = argv0 if os.sep in argv0 else shutil.which(argv0)
    return os.path.realpath(found) if found else None


def _contains(path: str, needles: Sequence[bytes]) -> bytes | None:
    """The first of ``needles`` found in the file's first bytes (bounded), else ``None``."""
    overlap = max(len(n) for n in needles) - 1
    tail = b""
    read = 0
    try:
        with open(path, "rb") as fh:
            while read < _SCAN_LIMIT:
                chunk = fh.read(_SCAN_CHUNK)
                if not chunk:
                    break
                read += len(chunk)
                window = tail + chunk
                for needle in needles:
                    if needle in window:
                        return needle
                tail = window[-overlap:]
    except OSError:
        return None
    return None


def path_warning(env: Mapping[str, str], running: str | None) -> str | None:
    """A warning when Docker would not run this program as ``docker-credential-ecr-login``."""
    found = shutil.which(PROGRAM, path=env.get("PATH", ""))
    if found is None:
        return (
            f"warning: {PROGRAM} is not on PATH. Docker (and GitLab Runner, skopeo...) run "
            f"{PROGRAM} from their own PATH and fail with 'executable file not found in $PATH' "
            "until it is there."
        )
    resolved = os.path.realpath(found)
    if running is not None and resolved == running:
        return None
    marker = _contains(resolved, (_OUR_MARKER, _GO_MARKER))
    if marker == _OUR_MARKER and running is None:
        return None
    if marker == _OUR_MARKER:
        what = "another installation of docker-credential-ecr-py"
    elif marker == _GO_MARKER:
        what = "the Go amazon-ecr-credential-helper"
    else:
        what = "a program that is not this helper"
    shown = found if resolved == found else f"{found} -> {resolved}"
    this = f" ({running})" if running else ""
    return (
        f"warning: Docker will run {shown}, {what}, because it is the first {PROGRAM} on PATH; "
        f"not this program{this}. Put this one's directory earlier on PATH, or remove the other."
    )


# --- commands -----------------------------------------------------------------------------------


def _add_registry_options(parser: _Parser) -> None:
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
    build: Callable[[_Parser], None],
    body: Callable[[argparse.Namespace, _Parser], int],
    prog: str,
    description: str,
    argv: list[str],
    stdout: TextIO,
    stderr: TextIO,
) -> int:
    parser = _Parser(stdout, stderr, prog=prog, description=description)
    build(parser)
    try:
        args = parser.parse_intermixed_args(argv)
        if args.creds_store and (args.hosts or args.region or args.account):
            parser.error("--creds-store takes no HOST, --region or --account")
        return body(args, parser)
    except _Exit as exc:
        if exc.message:
            stderr.write(exc.message)
        return exc.status
    except ConfigureError as exc:
        stderr.write(f"{prog}: error: {exc}\n")
        return 1


def configure_docker_main(
    argv: list[str], stdout: TextIO, stderr: TextIO, env: Mapping[str, str]
) -> int:
    """``docker-credential-ecr-login configure-docker [HOST ...] [options]``; the exit status."""

    def build(parser: _Parser) -> None:
        _add_registry_options(parser)
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="print the resulting config.json to stdout and write nothing",
        )

    def body(args: argparse.Namespace, parser: _Parser) -> int:
        hosts = (
            [] if args.creds_store else _hosts(parser, args.hosts, args.region, args.account, env)
        )
        target = _Target(config_path(env))
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
        warning = path_warning(env, _running_program())
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


def gitlab_auth_config_main(
    argv: list[str], stdout: TextIO, stderr: TextIO, env: Mapping[str, str]
) -> int:
    """``docker-credential-ecr-login gitlab-auth-config HOST ...``: print ``DOCKER_AUTH_CONFIG``."""

    def body(args: argparse.Namespace, parser: _Parser) -> int:
        if args.creds_store:
            stderr.write(_CREDS_STORE_WARNING + "\n")
            stdout.write(auth_config(None, creds_store=True) + "\n")
            return 0
        stdout.write(auth_config(_hosts(parser, args.hosts, args.region, args.account, env)) + "\n")
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
