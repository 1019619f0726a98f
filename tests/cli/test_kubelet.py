"""The kubelet credential provider (``kubelet-credential-provider``), in process and through the
console script's ``ecr-credential-provider`` entry, against the stand-in.

Every answer is decoded with the strict model of the v1 Go types (``support.kubelet``).
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from pathlib import Path

import pytest

from support import (
    ACCESS_KEY,
    BIN,
    HOST,
    Runner,
    cache_entry,
    cache_key,
    closed_url,
    write_cache_file,
)
from support.kubelet import (
    ECR_IMAGES,
    NOT_ECR_IMAGES,
    V1,
    V1BETA1,
    Invalid,
    decode_response,
    request,
    urls_match,
)
from support.standin import StandIn

KUBELET = ["kubelet-credential-provider"]
LIFETIME = 12 * 3600


def ask(
    run: Runner, image: str, env: dict[str, str], api_version: str = V1, **extra: object
) -> subprocess.CompletedProcess[bytes]:
    return run(KUBELET, request(image, api_version, **extra), env_=env)


def test_image_cases_are_many() -> None:
    # The note reports this count: the table must not shrink unnoticed.
    assert len(ECR_IMAGES) + len(NOT_ECR_IMAGES) >= 30


@pytest.mark.parametrize(("image", "key", "region", "account"), ECR_IMAGES)
def test_ecr_image_gets_credentials_for_its_registry(
    run: Runner,
    env: dict[str, str],
    standin: StandIn,
    image: str,
    key: str,
    region: str,
    account: str,
) -> None:
    result = ask(run, image, env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    answer = decode_response(result.stdout, V1)
    assert answer.cache_key_type == "Registry"
    assert list(answer.auth) == [key]
    user, password = answer.auth[key]
    assert user == "AWS"
    (call,) = standin.calls
    assert call.region == region
    assert call.registry_ids == ([account] if account else [])
    # The stand-in's token for this call (ECR Public's is for the caller's own account).
    assert password == f"{account or '123456789012'}-{region}-{call.serial}"
    # The kubelet must be able to use the key for the image it asked about.
    schemeless = image.split("://", 1)[-1]
    assert urls_match(key, schemeless if "/" in schemeless else schemeless + "/"), (key, image)


@pytest.mark.parametrize("image", NOT_ECR_IMAGES)
def test_image_not_on_ecr_gets_no_credentials_and_no_call(
    run: Runner, env: dict[str, str], standin: StandIn, image: str
) -> None:
    result = ask(run, image, env)
    assert result.returncode == 0, result.stderr
    answer = decode_response(result.stdout, V1)
    assert answer.auth == {}
    assert answer.cache_key_type == "Registry"
    assert answer.cache_duration == 60.0
    assert b'"auth"' not in result.stdout  # omitempty: absent, as Go writes a nil map
    assert standin.calls == []


def test_non_ecr_response_bytes(run: Runner, env: dict[str, str]) -> None:
    # Byte for byte what Go's encoding/json writes for the response struct (field order,
    # omitempty, one trailing newline).
    result = ask(run, "docker.io/library/nginx", env)
    assert result.stdout == (
        b'{"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1",'
        b'"cacheKeyType":"Registry","cacheDuration":"1m0s"}\n'
    )


def test_cache_duration_is_the_remaining_freshness(
    run: Runner, env: dict[str, str], standin: StandIn
) -> None:
    before = time.time()
    answer = decode_response(ask(run, f"{HOST}/app", env).stdout, V1)
    after = time.time()
    assert answer.cache_duration is not None
    # A 12-hour token is served from the cache for half of it; the kubelet gets what is left.
    assert LIFETIME / 2 - (after - before) - 1 <= answer.cache_duration <= LIFETIME / 2


def test_cached_token_tells_the_kubelet_what_is_left(
    run: Runner, env: dict[str, str], home: Path, standin: StandIn
) -> None:
    now = time.time()
    key = cache_key(env, home)
    write_cache_file(home / ".ecr", {key: cache_entry("cached", now - 3600, now + 11 * 3600)})
    answer = decode_response(ask(run, f"{HOST}/app", env).stdout, V1)
    assert standin.calls == []
    assert answer.auth[HOST] == ("AWS", "cached")
    assert answer.cache_duration is not None
    # requested an hour ago, 12 h lifetime: fresh for 5 h more
    assert 5 * 3600 - 5 <= answer.cache_duration <= 5 * 3600


def test_token_served_after_a_failed_refresh_is_kept_briefly(
    run: Runner, env: dict[str, str], home: Path
) -> None:
    now = time.time()
    key = cache_key(env, home)
    # Past its half-life (due for a refresh) but valid for another hour; AWS is unreachable.
    write_cache_file(home / ".ecr", {key: cache_entry("stale", now - 11 * 3600, now + 3600)})
    env = dict(env, AWS_ENDPOINT_URL_ECR=closed_url(), AWS_ECR_TIMEOUT="2")
    result = ask(run, f"{HOST}/app", env)
    assert result.returncode == 0, result.stderr
    answer = decode_response(result.stdout, V1)
    assert answer.auth[HOST] == ("AWS", "stale")
    assert answer.cache_duration == 60.0


def test_v1beta1_is_answered_in_v1beta1(run: Runner, env: dict[str, str]) -> None:
    result = ask(run, f"{HOST}/app", env, V1BETA1)
    answer = decode_response(result.stdout, V1BETA1)
    assert answer.api_version == V1BETA1
    with pytest.raises(Invalid):
        decode_response(result.stdout, V1)  # the kubelet insists on the configured version


def test_docker_get_and_kubelet_share_the_cache(
    run: Runner, env: dict[str, str], standin: StandIn
) -> None:
    first = decode_response(ask(run, f"{HOST}/app", env).stdout, V1)
    got = run(["get"], HOST.encode(), env_=env)
    assert json.loads(got.stdout)["Secret"] == first.auth[HOST][1]
    again = decode_response(ask(run, f"{HOST}/other:tag", env).stdout, V1)
    assert again.auth == first.auth
    assert standin.count() == 1


def test_alias_from_the_config_file(
    run: Runner, env: dict[str, str], home: Path, standin: StandIn
) -> None:
    (home / ".ecr").mkdir(mode=0o700)
    (home / ".ecr" / "config.toml").write_text(f'[aliases]\n"registry.example.com" = "{HOST}"\n')
    answer = decode_response(ask(run, "registry.example.com/team/app:v1", env).stdout, V1)
    # Keyed by the name the kubelet pulls, with the aliased registry's token.
    assert list(answer.auth) == ["registry.example.com"]
    assert standin.calls[0].registry_ids == ["123456789012"]


def test_service_account_token_without_a_role_uses_the_node_identity(
    run: Runner, env: dict[str, str], standin: StandIn
) -> None:
    token = "header.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6Y2k6cnVubmVyIn0.sig"
    result = ask(run, f"{HOST}/app", env, serviceAccountToken=token)
    answer = decode_response(result.stdout, V1)
    assert answer.auth[HOST][0] == "AWS"
    assert standin.calls[0].access_key_id == ACCESS_KEY
    assert token.encode() not in result.stdout + result.stderr


def test_the_strict_model_rejects_a_field_the_v1_type_lacks(
    run: Runner, env: dict[str, str]
) -> None:
    # The conformance model is strict (as the kubelet's decoder): the pre-release
    # serviceAccountTokenCacheType field, or any other, loses the whole answer.
    result = ask(run, "quay.io/x/y", env, serviceAccountToken="t")
    assert decode_response(result.stdout, V1).auth == {}
    patched = result.stdout.replace(b"}\n", b',"serviceAccountTokenCacheType":"ServiceAccount"}\n')
    with pytest.raises(Invalid, match="unknown field"):
        decode_response(patched, V1)
    with pytest.raises(Invalid, match="duplicate"):
        decode_response(
            result.stdout.replace(b"}\n", b',"kind":"CredentialProviderResponse"}\n'), V1
        )
    with pytest.raises(Invalid, match="cacheKeyType"):
        decode_response(result.stdout.replace(b"Registry", b"registry"), V1)
    with pytest.raises(Invalid, match="invalid duration"):
        decode_response(result.stdout.replace(b"1m0s", b"1 minute"), V1)


def test_unknown_request_fields_are_ignored(run: Runner, env: dict[str, str]) -> None:
    result = ask(run, f"{HOST}/app", env, futureField={"x": 1})
    assert result.returncode == 0, result.stderr
    decode_response(result.stdout, V1)


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (b"", "no request on stdin"),
        (b"   \n", "no request on stdin"),
        (b"{not json", "not JSON"),
        (b"[]", "not a JSON object"),
        (b"\xff\xfe", "not JSON"),
        (request(HOST, "credentialprovider.kubelet.k8s.io/v1alpha1"), "unsupported apiVersion"),
        (request(HOST, "credentialprovider.kubelet.k8s.io/v2"), "unsupported apiVersion"),
        (request(HOST).replace(b"CredentialProviderRequest", b"Other"), "unsupported kind"),
        (b'{"kind":"CredentialProviderRequest","apiVersion":"' + V1.encode() + b'"}', "no image"),
        (request(""), "no image"),
        (request(HOST, serviceAccountToken=5), "serviceAccountToken"),
        (request(HOST, serviceAccountAnnotations={"a": 1}), "serviceAccountAnnotations"),
        (b"{" + b" " * (1 << 20) + b"}", "larger than 1 MiB"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_a_bad_request_is_one_line_and_exit_1(
    run: Runner, env: dict[str, str], standin: StandIn, stdin: bytes, message: str
) -> None:
    result = run(KUBELET, stdin, env_=env)
    assert result.returncode == 1
    assert result.stdout == b""
    err = result.stderr.decode()
    assert err.count("\n") == 1 and err.startswith("ecr-credential-provider: "), err
    assert message in err
    assert "Traceback" not in err
    assert standin.calls == []


@pytest.mark.parametrize(
    "args", [["get-credentials"], ["--v=2"], ["-v=5"], ["get-credentials", "--v=3"]]
)
def test_arguments_of_configs_written_for_aws_plugin_are_ignored(
    run: Runner, env: dict[str, str], args: list[str]
) -> None:
    result = run([*KUBELET, *args], request(f"{HOST}/app"), env_=env)
    assert result.returncode == 0, result.stderr
    assert decode_response(result.stdout, V1).auth[HOST][0] == "AWS"


@pytest.mark.parametrize("args", [["get"], ["--v=x"], ["-v"], ["get-credentials", "--debug"]])
def test_unexpected_argument_is_exit_2(run: Runner, env: dict[str, str], args: list[str]) -> None:
    result = run([*KUBELET, *args], request(HOST), env_=env)
    assert result.returncode == 2
    assert result.stdout == b""
    assert b"unexpected argument" in result.stderr and result.stderr.count(b"\n") == 1


def test_help_names_the_protocol_and_exit_codes(run: Runner, env: dict[str, str]) -> None:
    result = run([*KUBELET, "--help"], b"", env_=env)
    assert result.returncode == 0
    text = result.stdout.decode()
    assert "CredentialProviderRequest" in text and "Exit status" in text


def test_aws_failure_is_one_line_exit_1_nothing_on_stdout(run: Runner, env: dict[str, str]) -> None:
    env = dict(env, AWS_ENDPOINT_URL_ECR=closed_url(), AWS_ECR_TIMEOUT="2")
    result = ask(run, f"{HOST}/app", env)
    assert result.returncode == 1
    assert result.stdout == b""
    err = result.stderr.decode()
    assert err.count("\n") == 1, err
    assert err.startswith(f"ecr-credential-provider: {HOST}: EndpointConnectionError"), err


def test_denied_names_the_aws_error(run: Runner, env: dict[str, str], standin: StandIn) -> None:
    standin.default_fault = "denied"
    result = ask(run, f"{HOST}/app", env)
    assert result.returncode == 1
    assert result.stdout == b""
    assert b"AccessDenied" in result.stderr


def test_hung_endpoint_answers_within_the_timeout(env: dict[str, str], standin: StandIn) -> None:
    # Well inside the kubelet's 60 s: AWS_ECR_TIMEOUT bounds the whole run (a fresh process,
    # so interpreter start-up counts too).
    standin.default_fault = "hang"
    env = dict(env, AWS_ECR_TIMEOUT="3")
    started = time.monotonic()
    proc = subprocess.run(
        [str(BIN / "ecr-credential-provider")],
        input=request(f"{HOST}/app"),
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 1
    assert proc.stdout == b""
    assert b"no answer from AWS within 3 s" in proc.stderr
    assert elapsed < 3 + 7  # the bound plus generous slack for a loaded machine


def test_secrets_stay_out_of_stderr_log_and_cache_key(
    run: Runner, env: dict[str, str], home: Path, standin: StandIn
) -> None:
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YTpiIn0.c2VjcmV0"
    env = dict(env, AWS_ECR_LOG_LEVEL="debug")
    result = ask(run, f"{HOST}/app", env, serviceAccountToken=token)
    assert result.returncode == 0
    password = decode_response(result.stdout, V1).auth[HOST][1]
    stored = b"".join(p.read_bytes() for p in (home / ".ecr").rglob("*") if p.is_file())
    assert token.encode() not in stored + result.stderr
    log = (home / ".ecr" / "log" / "ecr-login.log").read_bytes()
    assert password.encode() not in log
    assert base64.b64encode(f"AWS:{password}".encode()) not in log


def test_stdout_on_dev_full_is_one_line_and_exit_1(env: dict[str, str]) -> None:
    with open("/dev/full", "wb") as full:
        proc = subprocess.run(
            [str(BIN / "ecr-credential-provider")],
            input=request("registry.k8s.io/pause"),
            stdout=full,
            stderr=subprocess.PIPE,
            env=env,
            timeout=60,
            check=False,
        )
    assert proc.returncode == 1
    assert proc.stderr == (
        b"ecr-credential-provider: cannot write the answer to stdout: No space left on device\n"
    )
