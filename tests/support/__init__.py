"""Shared constants and helpers for the tests (a package: ``conftest`` cannot be imported by
name once ``tests/e2e/conftest.py`` exists, since pytest loads both as ``conftest``).

``run_helper(exe, ...)`` runs one build of the helper as a subprocess, or, with ``IN_PROCESS``,
calls ``_cli.run`` in this process on byte streams (with ``os.environ`` set to the test's
environment for as long as it runs, since botocore reads it): same bytes, a fraction of the time.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parent.parent
ROOT = TESTS.parent
BIN = Path(sys.executable).parent
CONSOLE_SCRIPT = BIN / "docker-credential-ecr-login"
DIST = ROOT / "dist"
ONEDIR = DIST / "docker-credential-ecr-login" / "docker-credential-ecr-login"
STATIC = DIST / "docker-credential-ecr-login-static"
HOST = "123456789012.dkr.ecr.eu-west-2.amazonaws.com"
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
IN_CI = os.environ.get("CI", "").lower() == "true"
# Debian's Go helper (amazon-ecr-credential-helper 0.6.0) for side-by-side tests: unpacked by
# `make deps` into build/peers/, never on PATH (its package would put it in /usr/bin).
GO_HELPER = Path(
    os.environ.get("ECR_GO_HELPER") or ROOT / "build/peers/usr/bin/docker-credential-ecr-login"
)

Runner = Callable[..., subprocess.CompletedProcess[bytes]]


def require_tool(name: str) -> str:
    """The tool's path; a skip locally, a failure when CI=true."""
    path = shutil.which(name)
    require(name, path is not None, "not installed (.ci/run installs it)")
    assert path is not None
    return path


def helper_builds() -> list[Any]:
    """The console script always; the frozen builds when ``make binary`` has made them."""
    builds = [pytest.param(str(CONSOLE_SCRIPT), id="console-script")]
    for name, path in (("onedir", ONEDIR), ("static", STATIC)):
        if path.exists() or os.environ.get("ECR_TEST_FROZEN") == "1" or IN_CI:
            builds.append(pytest.param(str(path), id=name, marks=pytest.mark.frozen))
    return builds


def base_env(home: Path) -> dict[str, str]:
    """An environment with nothing from the developer's machine in it."""
    keep = {k: v for k, v in os.environ.items() if k in ("LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")}
    keep.update(
        {
            "HOME": str(home),
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "DOCKER_CONFIG": str(home / ".docker"),
            "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    return keep


IN_PROCESS = "in-process"


def require(name: str, found: bool, why: str) -> None:
    """Skip locally, fail under CI (``CI=true``), when something a test needs is missing."""
    if found:
        return
    message = f"{name} is not available: {why}"
    if IN_CI:
        pytest.fail(message + "; under CI=true a missing requirement is a failure")
    pytest.skip(message)


def run_cli(
    args: list[str],
    stdin: bytes | None = b"",
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[bytes]:
    """``_cli.run`` in process, on byte streams, with ``os.environ`` as ``env`` meanwhile.

    stderr is what the helper wrote to its stream plus anything written to ``sys.stderr``
    meanwhile (warnings, a third-party library); a run that outlasts ``timeout`` fails the test.
    """
    import contextlib
    import io
    import threading
    import time
    from unittest import mock

    from docker_credential_ecr_py import _cli

    environ = dict(os.environ if env is None else env)
    out, err, stray = io.BytesIO(), io.BytesIO(), io.StringIO()
    codes: list[int] = []
    raised: list[BaseException] = []

    def call() -> None:
        try:
            codes.append(
                _cli.run(args, io.BytesIO(stdin or b""), out, err, environ, start=time.monotonic())
            )
        except BaseException as exc:  # handed to the test below, as a subprocess would fail
            raised.append(exc)

    with mock.patch.dict(os.environ, environ, clear=True), contextlib.redirect_stderr(stray):
        worker = threading.Thread(target=call, daemon=True)
        worker.start()
        worker.join(timeout)
    if raised:
        raise raised[0]
    if worker.is_alive() or not codes:
        pytest.fail(f"_cli.run({args!r}) gave no answer within {timeout:g} s")
    return subprocess.CompletedProcess(
        ["docker-credential-ecr-login", *args],
        codes[0],
        out.getvalue(),
        err.getvalue() + stray.getvalue().encode("utf-8", "backslashreplace"),
    )


def run_helper(
    exe: str,
    args: list[str],
    stdin: bytes | None = b"",
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[bytes]:
    """Run a helper build (or ``IN_PROCESS``) and capture stdout and stderr as bytes."""
    if exe == IN_PROCESS:
        return run_cli(args, stdin, env, timeout)
    return subprocess.run(
        [exe, *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def closed_url() -> str:
    """``http://127.0.0.1:<port>`` where nothing listens: connections are refused at once."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


class LockWaits:
    """Spies on ``fcntl.flock`` (installed with ``watch``): ``waiting`` is set, and the file
    recorded in ``paths``, once some caller has tried a lock and found it held, so a test can
    act while a waiter is known to be waiting instead of sleeping and hoping it is."""

    def __init__(self) -> None:
        import threading

        self.waiting = threading.Event()
        self.paths: list[str] = []

    def watch(self, monkeypatch: pytest.MonkeyPatch) -> LockWaits:
        import fcntl

        real = fcntl.flock

        def flock(fd: int, operation: int) -> None:
            try:
                real(fd, operation)
            except BlockingIOError:
                self.paths.append(os.readlink(f"/proc/self/fd/{fd}"))
                self.waiting.set()
                raise

        monkeypatch.setattr(fcntl, "flock", flock)
        return self

    def wait(self, timeout: float = 30) -> None:
        """Until a waiter is waiting (a test failure if none is within ``timeout``)."""
        if not self.waiting.wait(timeout):
            pytest.fail(f"nobody waited for a held lock within {timeout:g} s")


# Runs a command and writes its peak RSS (KiB) to argv[1]. Linux counts in a child's peak the
# memory of the process it was forked from (until exec): from pytest that would be pytest's own,
# from this small launcher it is a few MiB.
_PEAK_RSS_LAUNCHER = (
    "import os, subprocess, sys\n"
    "proc = subprocess.Popen(sys.argv[2:])\n"
    "_, status, usage = os.wait4(proc.pid, 0)\n"
    "open(sys.argv[1], 'w').write(str(usage.ru_maxrss))\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


def peak_rss_command(report: Path, command: list[str]) -> list[str]:
    """``command`` under a small launcher that writes its peak RSS (KiB) to ``report`` (its
    standard streams are the command's own)."""
    require("ru_maxrss in KiB", sys.platform == "linux", "Linux reports it so; others differ")
    return [sys.executable, "-S", "-c", _PEAK_RSS_LAUNCHER, str(report), *command]


def spawn_get(exe: str | Path, host: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start ``exe get`` with ``host`` on stdin (closed), output captured; ``communicate()`` it."""
    proc = subprocess.Popen(
        [str(exe), "get"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdin is not None
    proc.stdin.write(host.encode())
    proc.stdin.close()
    proc.stdin = None  # communicate() must not touch the closed pipe
    return proc


def jwt(claims: dict[str, Any], signature: bytes = b"sig") -> str:
    """An unsigned-looking web identity token (moto's STS does not verify it)."""
    import base64
    import json

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    header = part(json.dumps({"alg": "RS256", "kid": "k"}).encode())
    return f"{header}.{part(json.dumps(claims).encode())}.{part(signature)}"


def service_account_jwt(sub: str) -> str:
    """An EKS-style IRSA token for service account ``sub``."""
    return jwt({"iss": "https://oidc.eks.eu-west-2.amazonaws.com/id/X", "sub": sub})


def without_static_keys(env: dict[str, str]) -> dict[str, str]:
    """``env`` less the static access keys (so another credential source is used)."""
    return {k: v for k, v in env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}


def run_command(
    main: Callable[..., int], argv: list[str], env: dict[str, str]
) -> tuple[int, str, str]:
    """A tool command in process, through ``_commands.run`` as the CLI dispatches it, named by
    its ``main`` function: (status, stdout, stderr)."""
    import io

    from docker_credential_ecr_py import _commands
    from docker_credential_ecr_py._commands import cache, configure, doctor

    name = {
        configure.configure_docker_main: "configure-docker",
        configure.gitlab_auth_config_main: "gitlab-auth-config",
        doctor.main: "doctor",
        cache.main: "cache",
    }[main]
    out, err = io.BytesIO(), io.BytesIO()
    code = _commands.run(name, argv, out, err, env)
    return code, out.getvalue().decode(), err.getvalue().decode()


# --- running as an unprivileged user --------------------------------------------------------

NOBODY = 65534  # root bypasses file modes: permission tests run the helper as this uid
OTHER_UID = 12345  # "another user" who owns planted files


@functools.cache
def as_nobody() -> list[str]:
    """The command prefix that runs a program as uid and gid 65534, no supplementary groups;
    a skip locally and a failure under ``CI=true`` when that cannot be done here."""
    require("root (to start processes as uid 65534)", os.geteuid() == 0, "tests run as a user")
    prefix = [require_tool("setpriv"), f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    probe = subprocess.run(
        [*prefix, str(CONSOLE_SCRIPT), "version"], capture_output=True, timeout=60, check=False
    )
    require(f"uid {NOBODY} running {CONSOLE_SCRIPT}", probe.returncode == 0, repr(probe.stderr))
    return prefix


def nobody_tree(tmp_path: Path) -> Path:
    """An empty directory under /tmp that uid 65534 owns and can reach (pytest's own temporary
    directories are 0700 root); removed with ``tmp_path``'s siblings at the end of the run."""
    import tempfile

    path = Path(tempfile.mkdtemp(prefix=f"ecr-nobody-{tmp_path.name}-", dir="/tmp"))
    os.chmod(path, 0o755)
    os.chown(path, NOBODY, NOBODY)
    return path


def run_as_nobody(
    args: list[str],
    stdin: bytes | None,
    env: dict[str, str],
    cwd: str | Path | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[bytes]:
    """The console script as uid 65534 (see ``as_nobody``)."""
    return subprocess.run(
        [*as_nobody(), str(CONSOLE_SCRIPT), *args],
        input=stdin,
        capture_output=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


# --- cache files and timed runs ---------------------------------------------------------------


def cache_entry(
    password: str, requested: float, expires: float, host: str = HOST
) -> dict[str, str]:
    """One ``cache.json`` entry as the helper writes it, for the token ``AWS:<password>``."""
    import base64

    from docker_credential_ecr_py._lean import format_time

    return {
        "AuthorizationToken": base64.b64encode(f"AWS:{password}".encode()).decode(),
        "RequestedAt": format_time(requested),
        "ExpiresAt": format_time(expires),
        "ProxyEndpoint": f"https://{host}",
        "Service": "ecr",
    }


def cache_key(env: dict[str, str], home: Path, host: str = HOST) -> str:
    """The cache key the helper uses for ``host`` under the identity of ``env``."""
    from docker_credential_ecr_py._cache import keys_for
    from docker_credential_ecr_py._identity import resolve
    from docker_credential_ecr_py._registry import parse

    registry = parse(host)
    assert registry is not None, host
    return keys_for(resolve(env, str(home)), registry, legacy=False)[0]


def write_cache_file(directory: Path, entries: dict[str, Any]) -> Path:
    """``<directory>/cache.json`` holding ``entries`` (the directory made 0700 if missing)."""
    import json

    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / "cache.json"
    path.write_text(json.dumps({"Registries": entries, "Version": "1.0"}, indent=2))
    return path


def timed_get(
    env: dict[str, str], host: str = HOST, cwd: str | Path | None = None, timeout: float = 60
) -> tuple[subprocess.CompletedProcess[bytes], float]:
    """The console script's ``get`` for ``host`` as a subprocess, and how long it took."""
    import time

    started = time.monotonic()
    proc = subprocess.run(
        [str(CONSOLE_SCRIPT), "get"],
        input=host.encode(),
        capture_output=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
    return proc, time.monotonic() - started
