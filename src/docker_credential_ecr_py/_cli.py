"""argv, stdin, stdout, stderr and exit codes: the only place that turns them into calls.

``run(argv, stdin, stdout, stderr, environ)`` is the whole program on the streams it is given
(the tests call it in process); ``main`` runs it on the real ones and leaves. Protocol verbs
behave as github.com/docker/docker-credential-helpers (v0.8+) ``Serve`` does; the tool commands
(``_commands``) are recognised by name first and never change what the verbs print.
"""

import os
import sys
import time

_START = time.monotonic()  # the time bound runs from exec (as near as Python lets us)

from docker_credential_ecr_py import _protocol as proto  # noqa: E402

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import BinaryIO, NoReturn

    from docker_credential_ecr_py._context import Context
    from docker_credential_ecr_py._helper import EcrHelper

# The tool commands, dispatched to ``_commands.run`` (tests check this matches its table).
COMMANDS = ("configure-docker", "gitlab-auth-config", "doctor", "cache")
KUBELET = proto.KUBELET_COMMAND


def invoked_as_kubelet_provider(argv0: str, environ: "Mapping[str, str]") -> bool:
    """Whether this program was started under the kubelet provider's name (a link)."""
    if os.path.basename(argv0) == proto.KUBELET_NAME:
        return True
    bundle = environ.get("STATICX_BUNDLE_DIR", "")
    if bundle and sys.executable.startswith(bundle.rstrip("/") + "/"):  # the static build
        return os.path.basename(_static_argv0(environ)) == proto.KUBELET_NAME
    return False


def _static_argv0(environ: "Mapping[str, str]") -> str:
    """The name the static build was started under. staticx runs a temporary copy with that
    copy's path as ``argv[0]`` and puts the resolved path in ``STATICX_PROG_PATH`` (a symlink's
    target, not its name); the name is the ``argv[0]`` of the nearest ancestor that is not
    running from the bundle directory (the staticx bootloader, above PyInstaller's)."""
    bundle = environ.get("STATICX_BUNDLE_DIR", "")
    pid = os.getppid()
    for _ in range(4):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                first = f.read(65536).split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            if not bundle or not first.startswith(bundle.rstrip("/") + "/"):
                return first
            with open(f"/proc/{pid}/stat", "rb") as f:
                pid = int(f.read(4096).rpartition(b")")[2].split()[1])  # field 4: the ppid
        except (OSError, ValueError, IndexError):
            break
    return environ.get("STATICX_PROG_PATH", "")


def kubelet_main() -> "NoReturn":
    """The ``ecr-credential-provider`` console script: the kubelet provider, whatever the name."""
    main(kubelet=True)


def main(*, kubelet: bool = False) -> "NoReturn":
    """The program: run the command in ``sys.argv``, then leave without interpreter teardown.

    Everything the helper says is written and flushed by then. Skipping the finalization of a
    process that is about to end takes ~1 ms (about 5 %) off every cached ``get``, and an AWS
    call abandoned at the deadline (a daemon thread) is not waited for.
    """
    signals = __import__("_signal")  # the C module (``signal`` imports enum); no stub

    # Interrupted (Ctrl-C, or a client cancelling): one line and the failure status, never a
    # traceback. Every file we write is replaced atomically, so leaving at once loses nothing.
    # An interrupt that the parent ignores (nohup, a background job) stays ignored.
    if signals.getsignal(signals.SIGINT) is not signals.SIG_IGN:
        signals.signal(signals.SIGINT, _interrupted)
    stdin, stderr = _binary(sys.stdin), _binary(sys.stderr)
    stdout = _binary(sys.stdout) if sys.stdout is not None else _closed()
    argv = sys.argv[1:]
    # The kubelet never passes a protocol verb: a verb call (every get) skips the name check.
    verb = len(argv) == 1 and argv[0] in _VERBS
    if kubelet or (
        not verb and invoked_as_kubelet_provider(sys.argv[0] if sys.argv else "", os.environ)
    ):
        argv = [KUBELET, *argv]
    code = run(argv, stdin, stdout, stderr, os.environ)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):  # None when the descriptor was closed
            pass
    os._exit(code)


def _interrupted(signum: int, frame: object) -> None:
    try:
        os.write(2, f"{proto.NAME}: interrupted\n".encode())
    except OSError:
        pass
    os._exit(1)


def _closed() -> "BinaryIO":
    """Standard output when its descriptor was closed: writing is an error that is reported
    (a raw stream, so the tool commands can wrap it in text as they wrap a real one)."""
    import io

    class Closed(io.RawIOBase):
        def writable(self) -> bool:
            return True

        def write(self, data: object) -> int:
            raise OSError(9, "standard output is closed")

    return Closed()  # type: ignore[return-value]


def _binary(stream: "object") -> "BinaryIO":
    """A standard stream's bytes, or nothing when the descriptor was closed (Python gives None):
    an empty stdin, a stderr that drops what is written (stdout: ``_closed``)."""
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        return buffer  # type: ignore[no-any-return]
    import io

    return io.BytesIO()


def run(
    argv: "Sequence[str]",
    stdin: "BinaryIO",
    stdout: "BinaryIO",
    stderr: "BinaryIO",
    environ: "Mapping[str, str]",
    *,
    start: "float | None" = None,
) -> int:
    """Run one command on the given streams; returns the exit status."""
    args = list(argv)
    if args and args[0] == KUBELET:
        from docker_credential_ecr_py import _kubelet

        return _kubelet.run(
            args[1:], stdin, stdout, stderr, environ, _START if start is None else start
        )
    if args and args[0] in COMMANDS:
        from docker_credential_ecr_py import _commands

        return _commands.run(args[0], args[1:], stdout, stderr, environ)
    if len(args) != 1:
        return _emit(stdout, proto.USAGE, 1, stderr)
    action = args[0]
    if action in ("-v", "--version"):
        from docker_credential_ecr_py._about import banner

        return _emit(stdout, banner().rstrip("\n"), 0, stderr)
    if action in ("-h", "--help"):
        from docker_credential_ecr_py._commands import HELP

        return _emit(stdout, HELP.rstrip("\n"), 0, stderr)
    if action == "version":
        from docker_credential_ecr_py._about import version_line

        return _emit(stdout, version_line(), 0, stderr)
    handler = _VERBS.get(action)
    if handler is None:
        # stdout: the protocol's exact line; stderr: what there is, for the person who typed it.
        from docker_credential_ecr_py._commands import HELP

        try:
            stderr.write(HELP.encode())
            stderr.flush()
        except (OSError, ValueError):
            pass
        return _emit(stdout, f"{proto.NAME}: unknown action: {action}", 1, stderr)
    return _serve(handler, stdin, stdout, stderr, environ, _START if start is None else start)


def _emit(stdout: "BinaryIO", line: str, code: int, stderr: "BinaryIO | None" = None) -> int:
    if not proto.write_answer(stdout, (line + "\n").encode("utf-8", "surrogateescape"), stderr):
        return 1
    return code


def _serve(
    handler: "Callable[[EcrHelper, BinaryIO], bytes]",
    stdin: "BinaryIO",
    stdout: "BinaryIO",
    stderr: "BinaryIO",
    environ: "Mapping[str, str]",
    start: float,
) -> int:
    from docker_credential_ecr_py._context import Context
    from docker_credential_ecr_py._helper import EcrHelper
    from docker_credential_ecr_py._settings import Settings

    ctx = Context(Settings(environ), start=start, stderr=stderr)
    for problem in ctx.settings.invalid:
        ctx.log.warning("config: %s", problem)
        ctx.say(problem)
    try:
        try:
            answer, code = handler(EcrHelper(ctx), stdin), 0
        except Exception as err:
            answer, code = _answer_failure(ctx, err), 1
        return code if proto.write_answer(stdout, answer, stderr) else 1
    finally:
        ctx.close()


def _answer_failure(ctx: "Context", err: Exception) -> bytes:
    """The protocol line for a failed request; its cause goes to the log (and stderr)."""
    from docker_credential_ecr_py._errors import HelperError, NotImplementedByHelper, ProtocolError

    if isinstance(err, ProtocolError):
        return f"{err}\n".encode("utf-8", "surrogateescape")
    if isinstance(err, HelperError):
        if err.cause:
            # Debug for causes said elsewhere or routine (every Docker Hub pull asks a credsStore
            # helper): an info line per call would cost an import of re on that path.
            (ctx.log.info if err.stderr else ctx.log.debug)("%s", err.cause)
        if err.stderr:
            ctx.say(err.stderr)
        if isinstance(err, NotImplementedByHelper):
            return f"{proto.NOT_IMPLEMENTED}\n".encode()
        return f"{proto.NOT_FOUND}\n".encode()
    import traceback

    ctx.log.error("internal error: %s", "".join(traceback.format_exception(err)))
    ctx.say(f"internal error: {type(err).__name__}: {err}")
    return f"{proto.NOT_FOUND}\n".encode()


def _get(helper: "EcrHelper", stdin: "BinaryIO") -> bytes:
    server_url = proto.read_server_url(stdin)
    username, secret = helper.get(server_url)
    return proto.encode_credentials(server_url, username, secret)


def _list(helper: "EcrHelper", stdin: "BinaryIO") -> bytes:
    return proto.encode_string_map(helper.list())  # stdin is never read for list


def _store(helper: "EcrHelper", stdin: "BinaryIO") -> bytes:
    request = proto.read_store_request(stdin)
    helper.log.add_secret(request.secret)
    helper.store(request.server_url)
    return b""


def _erase(helper: "EcrHelper", stdin: "BinaryIO") -> bytes:
    helper.erase(proto.read_server_url(stdin))
    return b""


_VERBS: "dict[str, Callable[[EcrHelper, BinaryIO], bytes]]" = {
    "get": _get,
    "list": _list,
    "store": _store,
    "erase": _erase,
}
