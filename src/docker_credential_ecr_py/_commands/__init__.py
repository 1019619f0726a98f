"""The tool commands around the credential helper: ``doctor``, ``configure-docker``,
``gitlab-auth-config`` and ``cache``.

The core never imports this package; only ``_cli`` dispatches here, by name. Each command is
``main(argv, ctx, stdout, stderr) -> int`` on text streams with a ``Context`` built from the
environment; argument errors (``common.Exit``) and ``common.CommandError`` become one message
and an exit status here, so no command exits the process.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import BinaryIO, TextIO

    from docker_credential_ecr_py._context import Context

    Command = Callable[[list[str], Context, TextIO, TextIO], int]

NAMES = ("configure-docker", "gitlab-auth-config", "doctor", "cache")


def _command(name: str) -> Command:
    if name == "doctor":
        # doctor with its --kubelet mode (that module builds on doctor's checks).
        from docker_credential_ecr_py._commands import kubelet

        return kubelet.main
    if name == "cache":
        from docker_credential_ecr_py._commands import cache

        return cache.main
    from docker_credential_ecr_py._commands import configure

    if name == "configure-docker":
        return configure.configure_docker_main
    assert name == "gitlab-auth-config", name  # _cli dispatches only NAMES here
    return configure.gitlab_auth_config_main


class _Stderr(io.TextIOWrapper):
    """The commands' stderr: every control character in what they write is escaped (an AWS
    message, a value from config.json or PATH cannot rewrite the terminal); their own line
    breaks stay."""

    def write(self, text: str) -> int:
        from docker_credential_ecr_py._log import one_line

        super().write("\n".join(one_line(line, " ") for line in text.split("\n")))
        return len(text)


def _said(message: object, ctx: Context) -> str:
    """An error's text as it may be shown: redacted, on one line."""
    from docker_credential_ecr_py._log import shown

    return shown(str(message), ctx.log.secrets)


def run(
    name: str, argv: list[str], stdout: BinaryIO, stderr: BinaryIO, environ: Mapping[str, str]
) -> int:
    """Run tool command ``name``; its exit status."""
    from docker_credential_ecr_py._commands.common import CommandError, Exit
    from docker_credential_ecr_py._context import Context
    from docker_credential_ecr_py._settings import Settings

    # Text on the caller's byte streams, written through line by line (doctor streams its report).
    out = io.TextIOWrapper(stdout, encoding="utf-8", errors="replace", write_through=True)
    err = _Stderr(stderr, encoding="utf-8", errors="replace", write_through=True)
    ctx = Context(Settings(environ), stderr=stderr)
    try:
        status = _command(name)(argv, ctx, out, err)
        out.flush()
        return status
    except Exit as exc:
        if exc.message:
            err.write(exc.message)
        return exc.status
    except CommandError as exc:
        err.write(f"docker-credential-ecr-login {name}: error: {_said(exc, ctx)}\n")
        return 1
    except BrokenPipeError:
        return 1  # the reader went away (cache show | head -1): nothing left to tell it
    except OSError as exc:  # stdout on a full disk (/dev/full), or a file a command could not use
        where = f"{exc.filename}: " if exc.filename else ""
        said = _said(f"{where}{exc.strerror or exc}", ctx)
        try:
            err.write(f"docker-credential-ecr-login {name}: error: {said}\n")
        except (OSError, ValueError):
            pass
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        for wrapper in (out, err):
            try:
                wrapper.flush()
            except (OSError, ValueError):
                pass  # a reader that went away (cache show | head -1) is no error of ours
            try:
                wrapper.detach()  # the caller's streams stay open
            except (OSError, ValueError):
                pass
        ctx.close()
