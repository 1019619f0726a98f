"""argv, stdin, stdout and exit codes: the only place that touches them.

Protocol verbs behave as github.com/docker/docker-credential-helpers (v0.8+) ``Serve`` does;
our own commands are recognised by name first and never change what the verbs print.
"""

from __future__ import annotations

import os
import sys
import time

_START = time.monotonic()  # the time bound runs from exec (as near as Python lets us)

from docker_credential_ecr_py import __version__  # noqa: E402
from docker_credential_ecr_py import _protocol as proto  # noqa: E402

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import BinaryIO

    from docker_credential_ecr_py._helper import EcrHelper

# Our own commands: name -> (module, function). Each takes (argv, stdout, stderr, env) -> int.
EXTRA_COMMANDS = {
    "configure-docker": ("docker_credential_ecr_py._configure", "configure_docker_main"),
    "gitlab-auth-config": ("docker_credential_ecr_py._configure", "gitlab_auth_config_main"),
    "doctor": ("docker_credential_ecr_py._doctor", "doctor_main"),
    "cache": ("docker_credential_ecr_py._cachecmd", "cache_main"),
}


def build_flavour() -> str:
    """Which build is running: the console script, the PyInstaller onedir, or the static file.

    A frozen build carries its own ``_build_info`` (written by the PyInstaller spec).
    """
    if not getattr(sys, "frozen", False):
        return "console script"
    from docker_credential_ecr_py import _build_info

    return _build_info.FLAVOUR


def banner() -> str:
    """The ``-v`` / ``--version`` text."""
    return (
        f"{proto.PACKAGE}: Amazon ECR credential helper ({proto.NAME})\n"
        f"Version:    {__version__}\n"
        f"Build:      {build_flavour()}\n"
        f"Python:     {sys.version.split()[0]}\n"
    )


def main() -> int:
    """The program: run the command in ``sys.argv``, then leave without interpreter teardown.

    Everything the helper says is written and flushed by then; skipping the finalization of a
    process that is about to end takes ~1 ms (about 5 %) off every cached ``get``.
    """
    code = run()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def run(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (tests and library callers use this)."""
    args = list(sys.argv[1:] if argv is None else argv)
    stdout = sys.stdout.buffer
    if args and args[0] in EXTRA_COMMANDS:
        return _run_extra(args[0], args[1:])
    if len(args) != 1:
        return _emit(stdout, proto.USAGE, 1)
    action = args[0]
    if action in ("-v", "--version"):
        return _emit(stdout, banner().rstrip("\n"), 0)
    if action in ("-h", "--help"):
        return _emit(stdout, proto.USAGE, 0)
    if action == "version":
        return _emit(stdout, f"{proto.NAME} ({proto.PACKAGE}) {__version__}", 0)
    handler = _VERBS.get(action)
    if handler is None:
        return _emit(stdout, f"{proto.NAME}: unknown action: {action}", 1)
    return _serve(handler, sys.stdin.buffer, stdout)


def _emit(stdout: BinaryIO, line: str, code: int) -> int:
    _write(stdout, (line + "\n").encode("utf-8", "surrogateescape"))
    return code


def _write(stdout: BinaryIO, data: bytes) -> None:
    try:
        stdout.write(data)
        stdout.flush()
    except BrokenPipeError:
        pass  # the client went away; nothing to tell it


def _serve(
    handler: Callable[[EcrHelper, BinaryIO], bytes], stdin: BinaryIO, stdout: BinaryIO
) -> int:
    from docker_credential_ecr_py._config import Settings
    from docker_credential_ecr_py._errors import HelperError
    from docker_credential_ecr_py._helper import EcrHelper

    helper = EcrHelper(Settings.from_environ(), start=_START)
    code = 1
    try:
        _write(stdout, handler(helper, stdin))
        code = 0
    except proto.ProtocolError as err:
        _write(stdout, f"{err}\n".encode("utf-8", "surrogateescape"))
    except HelperError as err:
        if err.cause:
            # Debug for causes said elsewhere or routine (every Docker Hub pull asks a credsStore
            # helper): an info line per call would cost an import of re on that path.
            (helper.log.info if err.stderr else helper.log.debug)("%s", err.cause)
        if err.stderr:
            from docker_credential_ecr_py._log import stderr_line

            stderr_line(f"{proto.NAME}: {err.stderr}", helper.log.secrets)
        _write(stdout, f"{err.protocol_message}\n".encode())
    except Exception as err:
        import traceback

        helper.log.error("internal error: %s", "".join(traceback.format_exception(err)))
        from docker_credential_ecr_py._log import stderr_line

        stderr_line(
            f"{proto.NAME}: internal error: {type(err).__name__}: {err}", helper.log.secrets
        )
        _write(stdout, f"{proto.NOT_FOUND}\n".encode())
    if helper.abandoned:
        # An AWS call we gave up on is still running in a thread: leave without waiting for it.
        sys.stderr.flush()
        os._exit(code)
    return code


def _get(helper: EcrHelper, stdin: BinaryIO) -> bytes:
    server_url = proto.read_server_url(stdin)
    username, secret = helper.get(server_url)
    return proto.encode_credentials(server_url, username, secret)


def _list(helper: EcrHelper, stdin: BinaryIO) -> bytes:
    return proto.encode_string_map(helper.list())  # stdin is never read for list


def _store(helper: EcrHelper, stdin: BinaryIO) -> bytes:
    request = proto.read_store_request(stdin)
    helper.log.add_secret(request.secret)
    helper.store(request.server_url)
    return b""


def _erase(helper: EcrHelper, stdin: BinaryIO) -> bytes:
    helper.erase(proto.read_server_url(stdin))
    return b""


_VERBS: dict[str, Callable[[EcrHelper, BinaryIO], bytes]] = {
    "get": _get,
    "list": _list,
    "store": _store,
    "erase": _erase,
}


def _run_extra(name: str, argv: list[str]) -> int:
    import importlib

    module_name, function = EXTRA_COMMANDS[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        sys.stderr.write(f"{proto.NAME}: {name}: not available in this build\n")
        return 1
    entry: Callable[..., int] = getattr(module, function)
    try:
        return entry(argv, sys.stdout, sys.stderr, os.environ)
    except KeyboardInterrupt:
        return 130
