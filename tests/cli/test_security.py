"""Security guarantees of docs/SECURITY.md: tokens go only to the identity that fetched them, and no
secret reaches a log, stderr or an error message."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest

from docker_credential_ecr_py import _helper
from support import (
    HOST,
    SECRET_KEY,
    Runner,
    run_cli,
    service_account_jwt,
    without_static_keys,
)
from support.standin import StandIn

SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKENxyz0123456789abcdefABCDEF+/=="


def all_logs(root: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in root.rglob("*.log*") if p.is_file())


def test_static_identities_do_not_share_tokens(
    run: Runner, env: dict[str, str], standin: StandIn
) -> None:
    first = run(["get"], HOST.encode())
    other = dict(env, AWS_ACCESS_KEY_ID="AKIDSOMEONEELSE00000", AWS_SECRET_ACCESS_KEY="other")
    second = run(["get"], HOST.encode(), env_=other)
    assert first.returncode == second.returncode == 0
    assert json.loads(first.stdout)["Secret"] != json.loads(second.stdout)["Secret"]
    assert standin.count() == 2
    assert [c.access_key_id for c in standin.calls] == [
        env["AWS_ACCESS_KEY_ID"],
        "AKIDSOMEONEELSE00000",
    ]


def test_service_accounts_do_not_share_tokens(
    run: Runner, env: dict[str, str], standin: StandIn, moto_server: str, tmp_path: Path
) -> None:
    token = tmp_path / "token"
    base = without_static_keys(env)
    base.update(
        {
            "AWS_ROLE_ARN": "arn:aws:iam::111122223333:role/ci",
            "AWS_WEB_IDENTITY_TOKEN_FILE": str(token),
            "AWS_ENDPOINT_URL_STS": moto_server,
        }
    )
    secrets = []
    for sub in (
        "system:serviceaccount:ci:a",
        "system:serviceaccount:ci:a",
        "system:serviceaccount:ci:b",
    ):
        token.write_text(service_account_jwt(sub))
        result = run(["get"], HOST.encode(), env_=base)
        assert result.returncode == 0, result
        secrets.append(json.loads(result.stdout)["Secret"])
    assert secrets[0] == secrets[1]  # the same service account: a cache hit
    assert secrets[2] != secrets[0]  # another one: its own fetch
    assert standin.count() == 2


def test_profiles_do_not_share_tokens(
    run: Runner, env: dict[str, str], home: Path, standin: StandIn, moto_server: str
) -> None:
    aws = home / ".aws"
    aws.mkdir()
    (aws / "credentials").write_text(
        "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = basesecret\n"
    )
    (aws / "config").write_text(
        "[profile a]\nrole_arn = arn:aws:iam::111122223333:role/a\nsource_profile = base\n"
        "[profile b]\nrole_arn = arn:aws:iam::111122223333:role/b\nsource_profile = base\n"
    )
    base = without_static_keys(env)
    base["AWS_ENDPOINT_URL_STS"] = moto_server
    answers: dict[str, set[str]] = {}
    for profile in ("a", "b", "a"):
        result = run(["get"], HOST.encode(), env_=dict(base, AWS_PROFILE=profile))
        assert result.returncode == 0, result
        answers.setdefault(profile, set()).add(json.loads(result.stdout)["Secret"])
    assert len(answers["a"]) == 1 and answers["a"] != answers["b"]
    assert standin.count() == 2


@pytest.mark.parametrize("fault", ["ok", "denied", "hang", "malformed", "bad-token"])
def test_no_secret_in_logs_or_stderr(
    run: Runner, env: dict[str, str], home: Path, standin: StandIn, fault: str
) -> None:
    env.update(
        {"AWS_SESSION_TOKEN": SESSION_TOKEN, "AWS_ECR_LOG_LEVEL": "debug", "AWS_ECR_TIMEOUT": "1"}
    )
    standin.password_template = "pw-{account}-{serial}-s3cr3t"
    standin.default_fault = fault
    outputs = b""
    for host in (HOST, "public.ecr.aws", HOST):
        result = run(["get"], host.encode(), env_=env)
        outputs += result.stderr
    outputs += run(["list"], env_=dict(env, AWS_REGION="us-east-1")).stderr
    text = outputs.decode(errors="replace") + all_logs(home)
    assert "level=" in text  # something was logged
    for secret in (
        SECRET_KEY,
        SESSION_TOKEN[:24],
        "s3cr3t",
        base64.b64encode(b"AWS:pw-").decode()[:8],
    ):
        assert secret not in text, secret


def test_internal_error_text_is_redacted(
    env: dict[str, str], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An unexpected exception whose message carries a secret: stderr and log get it redacted.
    def boom(self: _helper.EcrHelper, url: str) -> tuple[str, str]:
        raise RuntimeError(f"failed with aws_secret_access_key={SECRET_KEY}")

    monkeypatch.setattr(_helper.EcrHelper, "get", boom)
    result = run_cli(["get"], HOST.encode(), env)
    assert result.stdout == b"credentials not found in native keychain\n"
    assert b"internal error: RuntimeError" in result.stderr
    assert b"Traceback" not in result.stdout
    assert SECRET_KEY.encode() not in result.stderr
    assert SECRET_KEY not in all_logs(home)
    assert "Traceback" in all_logs(home)  # the cause is kept, in the log


def test_cache_and_log_are_private_whatever_the_umask(
    env: dict[str, str], home: Path, standin: StandIn
) -> None:
    script = 'umask 000; printf %s "$1" | "$2" get'
    from support import CONSOLE_SCRIPT

    result = subprocess.run(
        ["sh", "-c", script, "sh", HOST, str(CONSOLE_SCRIPT)],
        capture_output=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0
    ecr = home / ".ecr"
    modes = {
        str(p.relative_to(home)): oct(p.stat().st_mode & 0o777) for p in [ecr, *ecr.rglob("*")]
    }
    for path, mode in modes.items():
        expected = "0o700" if (home / path).is_dir() else "0o600"
        assert mode == expected, (path, mode)
