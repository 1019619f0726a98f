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

from docker_credential_ecr_py._protocol import KUBELET_COMMAND, KUBELET_NAME, NAME, USAGE

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import BinaryIO, TextIO

    from docker_credential_ecr_py._context import Context

    Command = Callable[[list[str], Context, TextIO, TextIO], int]

NAMES = ("configure-docker", "gitlab-auth-config", "doctor", "cache")

#: ``--help``: every verb and command, a line each (``-h``; stderr after an unknown action).
HELP = f"""\
{USAGE}
       {NAME} COMMAND [ARGS]   (COMMAND --help for its options)

Amazon ECR and ECR Public credentials for Docker, skopeo, podman, buildah, GitLab Runner and
the kubelet, from the standard AWS credential chain, cached in ~/.ecr.

Protocol verbs (what clients run; the registry comes on stdin):
  get                  print {{"ServerURL","Username","Secret"}} for the ECR registry on stdin
  list                 print the registries this identity has tokens for, and the declared ones
  store, erase         refused (ECR tokens are temporary); no-ops with
                       AWS_ECR_IGNORE_CREDS_STORAGE=true
  version              print the version line

Commands:
  configure-docker     route ECR registries to this helper in Docker's config.json
  gitlab-auth-config   print the DOCKER_AUTH_CONFIG value for GitLab CI
  doctor               explain why a registry gets (or does not get) credentials
  cache                show, locate or clear the token cache (never prints a token)
  {KUBELET_COMMAND}
                       the kubelet's image credential provider (also run as
                       {KUBELET_NAME})

Options:
  -h, --help           this text
  -v, --version        version, build and Python

Exit status:
  0    success (get: the credentials are on stdout; list: always, even when priming failed)
  1    get found no credentials: "credentials not found in native keychain" on stdout after
       any failure, the cause on stderr, so clients go anonymous; store/erase refused; an
       unknown action or wrong arguments (the protocol's line on stdout)
  Each command's --help lists its own.
Settings (AWS_ECR_*), cache, host forms: docs/reference.md
"""


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
