"""Every build's entry point speaks the protocol: one case of each kind of answer, byte for byte,
through the console script, the PyInstaller onedir and the static file as subprocesses.

``tests/cli/test_protocol.py`` runs the whole byte-level table in process; these prove that each
built program reads its stdin, writes its stdout and exits as that table says.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from cli.test_protocol import (
    GO_STORE,
    HELP,
    NAME,
    NO_URL,
    NOT_FOUND,
    NOT_IMPLEMENTED,
    TOO_LONG,
    USAGE,
    check,
    credentials,
    password,
    pw_standin,
)
from docker_credential_ecr_py import __version__
from support import CONSOLE_SCRIPT, HOST, ONEDIR, STATIC, run_helper
from support.standin import StandIn

__all__ = ["pw_standin"]  # the fixture, used by name below


def test_get_private_and_public_then_list(
    helper_exe: str, env: dict[str, str], pw_standin: StandIn
) -> None:
    env["AWS_ECR_LOG_LEVEL"] = "debug"  # as much log as possible: none of it may reach stdout
    literal = (
        b'{"ServerURL":"123456789012.dkr.ecr.eu-west-2.amazonaws.com","Username":"AWS",'
        b'"Secret":"p\\u003c\\u0026\\u003e\\u2028\xc3\xa9\\"\\\\1"}\n'
    )
    check(run_helper(helper_exe, ["get"], HOST.encode() + b"\r\n", env), literal, 0)
    check(run_helper(helper_exe, ["get"], HOST.encode(), env), literal, 0)  # from the cache
    public = b"https://public.ecr.aws/amazonlinux\n"
    check(run_helper(helper_exe, ["get"], public, env), credentials(public.strip(), password(2)), 0)
    calls = [(c.service, c.region) for c in pw_standin.snapshot()]
    assert calls == [("ecr", "eu-west-2"), ("ecr-public", "us-east-1")]
    expected = b'{"https://' + HOST.encode() + b'":"AWS","https://public.ecr.aws":"AWS"}\n'
    check(run_helper(helper_exe, ["list"], None, env), expected, 0)


def test_not_found_answers(helper_exe: str, env: dict[str, str], standin: StandIn) -> None:
    check(run_helper(helper_exe, ["get"], b"https://index.docker.io/v1/", env), NOT_FOUND, 1)
    check(run_helper(helper_exe, ["get"], b" \n", env), NO_URL, 1)
    check(run_helper(helper_exe, ["get"], b"a" * 65536, env), TOO_LONG, 1)
    assert standin.count() == 0
    standin.configure(default_fault="denied")
    result = run_helper(helper_exe, ["get"], HOST.encode(), env)
    assert (result.stdout, result.returncode) == (NOT_FOUND, 1)
    assert b"AccessDeniedException" in result.stderr and b"Traceback" not in result.stderr


def test_store_and_erase(helper_exe: str, env: dict[str, str], standin: StandIn) -> None:
    check(run_helper(helper_exe, ["store"], GO_STORE, env), NOT_IMPLEMENTED, 1)
    check(run_helper(helper_exe, ["erase"], HOST.encode(), env), NOT_IMPLEMENTED, 1)
    env["AWS_ECR_IGNORE_CREDS_STORAGE"] = "true"
    check(run_helper(helper_exe, ["store"], GO_STORE, env), b"", 0)
    check(run_helper(helper_exe, ["erase"], HOST.encode(), env), b"", 0)
    assert standin.count() == 0


def test_version_usage_and_unknown_actions(helper_exe: str, env: dict[str, str]) -> None:
    version = f"{NAME} (docker-credential-ecr-py) {__version__}\n".encode()
    check(run_helper(helper_exe, ["version"], None, env), version, 0)
    check(run_helper(helper_exe, [], None, env), USAGE, 1)
    check(run_helper(helper_exe, ["get", "extra"], None, env), USAGE, 1)
    check(run_helper(helper_exe, ["--help"], None, env), HELP, 0)
    unknown = f"{NAME}: unknown action: GET\n".encode()
    check(run_helper(helper_exe, ["GET"], None, env), unknown, 1, HELP)
    banner = run_helper(helper_exe, ["-v"], None, env)
    assert (banner.returncode, banner.stderr) == (0, b"")
    assert f"Version:    {__version__}" in banner.stdout.decode().splitlines()
    build = {str(CONSOLE_SCRIPT): "console script", str(ONEDIR): "onedir", str(STATIC): "static"}
    assert f"Build:      {build[helper_exe]}" in banner.stdout.decode().splitlines()


def test_a_tool_command_runs(helper_exe: str, env: dict[str, str]) -> None:
    result = run_helper(helper_exe, ["gitlab-auth-config", HOST], None, env)
    assert (result.returncode, json.loads(result.stdout)) == (
        0,
        {"credHelpers": {HOST: "ecr-login"}},
    )


@pytest.mark.parametrize("stdin", [None, b"unused"])
def test_list_never_reads_stdin(
    helper_exe: str, env: dict[str, str], standin: StandIn, stdin: bytes | None
) -> None:
    # docker-py passes input=None: the helper inherits a stdin that may never reach EOF.
    with subprocess.Popen(
        [helper_exe, "list"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        if stdin:
            proc.stdin.write(stdin)
            proc.stdin.flush()
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail("list blocked reading a stdin that was never closed")
        out, err = proc.stdout.read(), proc.stderr.read()
        proc.stdin.close()
    assert (out, code, err) == (b"{}\n", 0, b"")


def test_closed_standard_streams_still_get_an_answer(helper_exe: str, env: dict[str, str]) -> None:
    # A client that closes stdin (or stderr) before exec: Python then has no stream at all.
    version = subprocess.run(
        [helper_exe, "version"],
        stdin=None,
        capture_output=True,
        env=env,
        check=False,
        pass_fds=(),
        close_fds=True,
        preexec_fn=lambda: __import__("os").close(0),
    )
    assert (version.returncode, version.stderr) == (0, b"")
    assert version.stdout == f"{NAME} (docker-credential-ecr-py) {__version__}\n".encode()
    get = subprocess.run(
        [helper_exe, "get"],
        input=b"https://index.docker.io/v1/",
        stdout=subprocess.PIPE,
        env=env,
        check=False,
        preexec_fn=lambda: __import__("os").close(2),
    )
    assert (get.stdout, get.returncode) == (NOT_FOUND, 1)


def test_a_reader_that_goes_away_gets_no_traceback(helper_exe: str, env: dict[str, str]) -> None:
    script = '"$1" cache path | true; "$1" gitlab-auth-config public.ecr.aws | true'
    done = subprocess.run(
        ["sh", "-c", script, "sh", helper_exe], capture_output=True, env=env, check=False
    )
    assert b"Traceback" not in done.stderr, done.stderr
