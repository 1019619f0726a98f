"""What the tool commands share: argument parsing that never exits, where Docker's config is,
and which ``docker-credential-ecr-login`` Docker would run."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
from typing import TYPE_CHECKING, Any, NoReturn

from docker_credential_ecr_py._lean import files
from docker_credential_ecr_py._protocol import NAME as PROGRAM

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from typing import TextIO

    from _typeshed import SupportsWrite

    from docker_credential_ecr_py._settings import Settings

# Byte strings that identify what a docker-credential-ecr-login on PATH is. Ours is checked first:
# our frozen binary also contains the Go helper's module path (in the `version` text).
_OUR_MARKER = b"docker_credential_ecr_py"
_GO_MARKER = b"amazon-ecr-credential-helper"
_SCAN_LIMIT = 256 * 1024 * 1024
_SCAN_CHUNK = 1024 * 1024


class CommandError(Exception):
    """A failure reported as one line on stderr with exit status 1; nothing was written."""


class Exit(Exception):
    """Raised by the argument parser instead of ``sys.exit``."""

    def __init__(self, status: int, message: str | None) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that writes to the given streams and never exits the process."""

    def __init__(
        self,
        stdout: TextIO,
        stderr: TextIO,
        exit_codes: Sequence[tuple[str, str]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._stdout = stdout
        self._stderr = stderr
        self.exit_codes = exit_codes

    def child(self, **kwargs: Any) -> Parser:
        """A subcommand's parser on the same streams (``add_subparsers(parser_class=...)``)."""
        return Parser(self._stdout, self._stderr, **kwargs)

    def format_help(self) -> str:
        """argparse's help, then the exit statuses (one line each)."""
        text = super().format_help()
        if self.exit_codes:
            text += "\nexit status:\n" + "".join(
                f"  {code:<3} {meaning}\n" for code, meaning in self.exit_codes
            )
        return text

    def print_help(self, file: SupportsWrite[str] | None = None) -> None:
        (file or self._stdout).write(self.format_help())

    def print_usage(self, file: SupportsWrite[str] | None = None) -> None:
        (file or self._stdout).write(self.format_usage())

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise Exit(status, message)

    def error(self, message: str) -> NoReturn:
        self.print_usage(self._stderr)
        raise Exit(2, f"{self.prog}: error: {message}\n")


def helper_map(value: object) -> bool:
    """A ``credHelpers`` value Docker's decoder takes: registry host -> helper name."""
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


def auths_map(value: object) -> bool:
    """An ``auths`` value Docker's decoder takes: registry host -> an object."""
    return isinstance(value, dict) and all(isinstance(v, dict) for v in value.values())


def docker_config_path(settings: Settings) -> str:
    """``$DOCKER_CONFIG/config.json``, else ``<home>/.docker/config.json``, as Docker's CLI.

    The home is ``$HOME``, else the password database's (Docker's own fallback), never the
    current directory: ``doctor`` and ``configure-docker`` always mean the same file.
    """
    directory = settings.env.get("DOCKER_CONFIG", "")
    if directory:
        return os.path.join(directory, "config.json")
    if not settings.home:
        raise CommandError("cannot find the home directory: set HOME or DOCKER_CONFIG")
    return os.path.join(settings.home, ".docker", "config.json")


# --- editing a file in place: one run at a time --------------------------------------------------


def lock_path(target: str) -> str:
    """``.<name>.lock`` beside ``target``: the lock every editing run takes."""
    return os.path.join(os.path.dirname(target), f".{os.path.basename(target)}.lock")


@contextlib.contextmanager
def edit_lock(target: str, deadline: float, timeout: float) -> Iterator[None]:
    """Hold the exclusive ``flock`` of ``target``'s lock file (creating its directory, 0700).

    The holder unlinks the lock file before it lets go, so none is left behind: a waiter that
    wakes up holding an unlinked (or replaced) file opens the path again.
    """
    lock = lock_path(target)
    try:
        files.makedirs_private(os.path.dirname(lock) or ".")
    except OSError as exc:
        raise CommandError(f"cannot create {os.path.dirname(lock)}: {exc.strerror or exc}") from exc
    try:
        fd = files.lock(lock, deadline)
    except OSError as exc:
        raise CommandError(f"cannot lock {lock}: {exc.strerror or exc}") from exc
    if fd is None:
        raise CommandError(
            f"cannot lock {lock}: another run has held it for {timeout:g} s "
            "(a configure-docker still running?); try again"
        )
    try:
        yield
    finally:
        try:
            os.unlink(lock)
        except OSError:
            pass  # left behind: the next run takes it just the same
        os.close(fd)


# --- PATH check ---------------------------------------------------------------------------------


def running_program() -> str | None:
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
            f"until it is there: {path_fix(env)}."
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
        f"not this program{this}. P{path_fix(env, before=os.path.dirname(found))[1:]}, "
        "or remove the other."
    )


def _pipx_bin_dir(env: Mapping[str, str]) -> str:
    """pipx's bin directory: ``PIPX_BIN_DIR``, else ``~/.local/bin`` (pipx's default)."""
    from docker_credential_ecr_py._settings import home_dir

    return env.get("PIPX_BIN_DIR") or os.path.join(home_dir(env) or "~", ".local", "bin")


def program_dir(env: Mapping[str, str]) -> str:
    """The directory to put first on ``PATH`` for this program to be the one clients run: one
    that holds a ``docker-credential-ecr-login`` leading to this program (pipx's bin directory,
    a symlink's directory), never pipx's private venv."""
    running = running_program()
    argv0 = sys.argv[0] if sys.argv else ""
    candidates = [_pipx_bin_dir(env), "/usr/local/bin"]
    if os.sep in argv0 and os.path.basename(argv0).startswith("docker-credential-"):
        candidates.insert(0, os.path.dirname(os.path.abspath(argv0)))
    candidates += env.get("PATH", "").split(os.pathsep)
    if running is not None:
        for directory in candidates:
            path = os.path.join(directory, PROGRAM)
            if directory and os.path.realpath(path) == running and os.access(path, os.X_OK):
                return directory
        if f"{os.sep}pipx{os.sep}venvs{os.sep}" in running:
            return _pipx_bin_dir(env)  # pipx links its apps there
        return os.path.dirname(running)
    return _pipx_bin_dir(env) if "pipx" in sys.prefix else os.path.dirname(sys.executable)


def path_fix(env: Mapping[str, str], before: str = "") -> str:
    """How to make clients run this program: the directory to put first on ``PATH``."""
    directory = program_dir(env)
    where = f" (before {before})" if before and before != directory else ""
    return f'put {directory} first on PATH{where}: export PATH="{directory}:$PATH"'
