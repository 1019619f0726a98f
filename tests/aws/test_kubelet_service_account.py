"""The kubelet provider's service-account mode: a pod's projected token exchanged for the role
its service account names (``AssumeRoleWithWebIdentity`` at moto's STS), cached per role and
service account."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from support import ACCESS_KEY, HOST, Runner, closed_url, jwt, without_static_keys
from support.kubelet import V1, decode_response, request
from support.standin import StandIn
from support.sts import CountingMotoServer

KUBELET = ["kubelet-credential-provider"]
ROLE = "arn:aws:iam::111122223333:role/ci-pull"
OTHER_ROLE = "arn:aws:iam::111122223333:role/other-pull"
ISS = "https://oidc.eks.eu-west-2.amazonaws.com/id/EXAMPLE"
ANNOTATION = "eks.amazonaws.com/ecr-role-arn"
ASSUME = "AssumeRoleWithWebIdentity"


def sa_token(sub: str, serial: int = 0) -> str:
    """A projected token for service account ``sub`` (each serial a fresh token, as after the
    kubelet's rotation)."""
    return jwt(
        {"iss": ISS, "sub": sub, "aud": ["sts.amazonaws.com"], "exp": 2000000000 + serial},
        signature=f"sig{serial}".encode(),
    )


@pytest.fixture
def sts(counting_sts: CountingMotoServer) -> CountingMotoServer:
    return counting_sts


@pytest.fixture
def kenv(env: dict[str, str], sts: CountingMotoServer) -> dict[str, str]:
    """Node credentials are static keys (to tell them apart), STS is moto."""
    return dict(env, AWS_ENDPOINT_URL_STS=sts.url)


def pod_request(token: str, role: str | None = ROLE) -> bytes:
    """The kubelet's request for a pod whose service account names ``role``."""
    extra: dict[str, Any] = {"serviceAccountToken": token}
    if role is not None:
        extra["serviceAccountAnnotations"] = {ANNOTATION: role, "other": "x"}
    return request(f"{HOST}/app", **extra)


def ask(run: Runner, env: dict[str, str], token: str, role: str | None = ROLE) -> tuple[str, bytes]:
    result = run(KUBELET, pod_request(token, role), env_=env)
    assert result.returncode == 0, result.stderr
    answer = decode_response(result.stdout, V1)  # strict: nothing beyond the v1 type
    return answer.auth[HOST][1], result.stderr


def test_the_annotated_role_is_assumed_with_the_pod_token(
    run: Runner, kenv: dict[str, str], sts: CountingMotoServer, standin: StandIn
) -> None:
    token = sa_token("system:serviceaccount:ci:runner")
    ask(run, kenv, token)
    (call,) = sts.calls(ASSUME)
    assert call["RoleArn"] == ROLE
    assert call["RoleSessionName"] == "ecr-credential-provider"
    assert call["WebIdentityToken"] == token
    (ecr,) = standin.calls
    # Signed with the role's temporary key, not the node's static one.
    assert ecr.access_key_id and ecr.access_key_id.startswith("ASIA")
    assert ecr.access_key_id != ACCESS_KEY


def test_no_node_credentials_are_needed(
    run: Runner, kenv: dict[str, str], sts: CountingMotoServer, standin: StandIn
) -> None:
    # The exchange is unsigned: a node with no credentials at all still serves its pods.
    ask(run, without_static_keys(kenv), sa_token("system:serviceaccount:ci:runner"))
    assert sts.count(ASSUME) == 1
    assert standin.count() == 1


def test_a_rotated_token_of_the_same_account_hits_the_cache(
    run: Runner, kenv: dict[str, str], sts: CountingMotoServer, standin: StandIn
) -> None:
    first, _ = ask(run, kenv, sa_token("system:serviceaccount:ci:runner", 1))
    again, _ = ask(run, kenv, sa_token("system:serviceaccount:ci:runner", 2))
    assert again == first
    assert sts.count(ASSUME) == 1
    assert standin.count() == 1


def test_another_service_account_gets_its_own_entry(
    run: Runner, kenv: dict[str, str], sts: CountingMotoServer, standin: StandIn
) -> None:
    one, _ = ask(run, kenv, sa_token("system:serviceaccount:ci:runner"))
    two, _ = ask(run, kenv, sa_token("system:serviceaccount:ci:deployer"))
    assert one != two
    assert sts.count(ASSUME) == 2
    assert standin.count() == 2


def test_another_role_gets_its_own_entry(
    run: Runner, kenv: dict[str, str], sts: CountingMotoServer, standin: StandIn
) -> None:
    token = sa_token("system:serviceaccount:ci:runner")
    ask(run, kenv, token, ROLE)
    ask(run, kenv, token, OTHER_ROLE)
    assert [c["RoleArn"] for c in sts.calls(ASSUME)] == [ROLE, OTHER_ROLE]
    assert standin.count() == 2


def test_node_entries_are_not_served_to_a_service_account(
    run: Runner, kenv: dict[str, str], sts: CountingMotoServer, standin: StandIn
) -> None:
    node = run(KUBELET, request(f"{HOST}/app"), env_=kenv)
    assert node.returncode == 0
    ask(run, kenv, sa_token("system:serviceaccount:ci:runner"))
    assert sts.count(ASSUME) == 1
    assert [c.access_key_id == ACCESS_KEY for c in standin.calls] == [True, False]


def test_the_role_can_come_from_the_provider_env(
    run: Runner, kenv: dict[str, str], sts: CountingMotoServer
) -> None:
    ask(run, dict(kenv, AWS_ECR_ROLE_ARN=OTHER_ROLE), sa_token("system:serviceaccount:a:b"), None)
    assert [c["RoleArn"] for c in sts.calls(ASSUME)] == [OTHER_ROLE]


def test_the_annotation_wins_over_the_env(
    run: Runner, kenv: dict[str, str], sts: CountingMotoServer
) -> None:
    ask(run, dict(kenv, AWS_ECR_ROLE_ARN=OTHER_ROLE), sa_token("system:serviceaccount:a:b"))
    assert [c["RoleArn"] for c in sts.calls(ASSUME)] == [ROLE]


def test_a_token_that_is_not_a_jwt_still_works_and_is_never_stored(
    run: Runner, kenv: dict[str, str], home: Path, sts: CountingMotoServer
) -> None:
    token = "opaque-token-value-1234567890"
    ask(run, kenv, token)
    ask(run, kenv, token)
    assert sts.count(ASSUME) == 1
    stored = b"".join(p.read_bytes() for p in (home / ".ecr").rglob("*") if p.is_file())
    assert token.encode() not in stored
    cache = json.loads((home / ".ecr" / "cache.json").read_text())
    assert all(token not in key for key in cache["Registries"])


def test_tokens_without_both_claims_never_share_an_entry(
    run: Runner, kenv: dict[str, str], sts: CountingMotoServer, standin: StandIn
) -> None:
    # Without iss and sub nothing tells two service accounts apart: each token keys its own.
    one, _ = ask(run, kenv, jwt({"aud": "sts.amazonaws.com", "n": 1}))
    two, _ = ask(run, kenv, jwt({"aud": "sts.amazonaws.com", "n": 2}))
    three, _ = ask(run, kenv, jwt({"iss": ISS, "n": 3}))  # no sub
    assert len({one, two, three}) == 3
    assert sts.count(ASSUME) == 3


class _EchoingSts(threading.Thread):
    """An STS that refuses every token and quotes it back in its error message."""

    def __init__(self) -> None:
        super().__init__(daemon=True)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                token = parse_qs(body).get("WebIdentityToken", [""])[0]
                answer = (
                    "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>"
                    f"<Message>Token {token} is not valid</Message></Error></ErrorResponse>"
                ).encode()
                self.send_response(400)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def run(self) -> None:
        self.server.serve_forever()


def test_the_token_is_redacted_even_when_sts_quotes_it(
    run: Runner, kenv: dict[str, str], home: Path
) -> None:
    echo = _EchoingSts()
    echo.start()
    try:
        token = "tok-1234"  # short and no JWT: only its registration as a secret hides it
        env = dict(kenv, AWS_ENDPOINT_URL_STS=echo.url, AWS_ECR_LOG_LEVEL="debug")
        result = run(KUBELET, pod_request(token), env_=env)
    finally:
        echo.server.shutdown()
    assert result.returncode == 1
    assert b"InvalidIdentityToken" in result.stderr  # the message itself came through
    log = (home / ".ecr" / "log" / "ecr-login.log").read_bytes()
    assert b"InvalidIdentityToken" in log
    assert token.encode() not in result.stderr + result.stdout + log


def test_doctor_sends_a_service_account_token_as_the_kubelet_would(
    run: Runner, kenv: dict[str, str], sts: CountingMotoServer, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(sa_token("system:serviceaccount:ci:runner"))
    result = run(
        [
            "doctor",
            "--kubelet",
            f"{HOST}/app",
            "--service-account-token",
            str(token_file),
            "--role-arn",
            ROLE,
        ],
        env_=kenv,
    )
    text = result.stdout.decode()
    assert result.returncode == 0, text
    assert f"role {ROLE}" in text and "credentials for" in text
    assert [c["RoleArn"] for c in sts.calls(ASSUME)] == [ROLE]
    assert token_file.read_text() not in text


def test_sts_unreachable_is_one_line_naming_the_exchange(
    run: Runner, kenv: dict[str, str], standin: StandIn
) -> None:
    env = dict(kenv, AWS_ENDPOINT_URL_STS=closed_url(), AWS_ECR_TIMEOUT="2")
    token = sa_token("system:serviceaccount:ci:runner")
    result = run(KUBELET, pod_request(token), env_=env)
    assert result.returncode == 1
    assert result.stdout == b""
    err = result.stderr.decode()
    assert err.count("\n") == 1, err
    assert f"AssumeRoleWithWebIdentity for {ROLE}" in err
    assert token not in err
    assert standin.calls == []


def test_doctor_on_a_node_without_credentials_that_requires_service_accounts(
    run: Runner, kenv: dict[str, str], sts: CountingMotoServer, tmp_path: Path
) -> None:
    import yaml

    config = tmp_path / "config.yaml"
    attrs = {
        "serviceAccountTokenAudience": "sts.amazonaws.com",
        "cacheType": "ServiceAccount",
        "requireServiceAccount": True,
        "requiredServiceAccountAnnotationKeys": [ANNOTATION],
    }
    provider = {
        "name": "ecr-credential-provider",
        "matchImages": ["*.dkr.ecr.*.amazonaws.com"],
        "defaultCacheDuration": "12h",
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "tokenAttributes": attrs,
    }
    doc = {
        "apiVersion": "kubelet.config.k8s.io/v1",
        "kind": "CredentialProviderConfig",
        "providers": [provider],
    }
    config.write_text(yaml.safe_dump(doc))
    token_file = tmp_path / "token"
    token_file.write_text(sa_token("system:serviceaccount:ci:runner"))
    env = dict(without_static_keys(kenv), AWS_ENDPOINT_URL_STS=closed_url(), AWS_ECR_TIMEOUT="2")
    # No node credentials at all: the node identity is only a warning here...
    args = ["doctor", "--kubelet", f"{HOST}/app", "--kubelet-config", str(config)]
    node_only = run(args, env_=env)
    text = node_only.stdout.decode()
    assert "warn  identity" in text and "requireServiceAccount is true" in text
    # ...and with a pod's token (and STS reachable) the provider answers.
    env["AWS_ENDPOINT_URL_STS"] = sts.url
    with_token = run(
        [*args, "--service-account-token", str(token_file), "--role-arn", ROLE], env_=env
    )
    assert "credentials for" in with_token.stdout.decode(), with_token.stdout.decode()
    assert sts.count(ASSUME) == 1
